/* Must fault: INT_MIN / -1 overflows idiv's quotient and raises #DE; Linux delivers SIGFPE. */

#include "rt.h"

int main(void)
{
	volatile int32_t n = INT_MIN_, d = -1;

	rt_puts("dividing INT_MIN by -1\n");
	rt_printf("%d\n", n / d);
	rt_puts("not reached\n");
	return 0;
}
