/* Must fault: a write to read-only data (a PT_LOAD segment without PF_W) is a protection
   #PF; Linux delivers SIGSEGV. */

#include "rt.h"

static const uint32_t constant = 42;

int main(void)
{
	uint32_t *volatile p = (uint32_t *)&constant;

	rt_puts("writing to read-only data\n");
	*p = 43;
	rt_printf("not reached %u\n", constant);
	return 0;
}
