/* Must fault: a write to address 0, which nothing maps, raises #PF; Linux delivers SIGSEGV. */

#include "rt.h"

int main(void)
{
	static uint32_t *volatile p;	/* zero, and gcc may not assume so */

	rt_puts("writing to address 0\n");
	/* by asm: in C, a store through a null pointer is undefined and gcc may drop it */
	__asm__ volatile("movl %1, (%0)" : : "r"(p), "r"(0xdeadu) : "memory");
	rt_puts("not reached\n");
	return 0;
}
