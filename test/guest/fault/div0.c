/* Must fault: an integer divide by zero raises #DE; Linux delivers SIGFPE (shell status 136). */

#include "rt.h"

int main(void)
{
	volatile int32_t n = 1234, d = 0;

	rt_puts("dividing by zero\n");
	rt_printf("%d\n", n / d);
	rt_puts("not reached\n");
	return 0;
}
