/* Must fault: an unsigned divl whose quotient does not fit in 32 bits (edx >= divisor)
   raises #DE, like a divide by zero; Linux delivers SIGFPE. Also 8-bit: divb by zero. */

#include "rt.h"

int main(void)
{
	volatile uint32_t d = 2;
	uint32_t q, r;

	rt_puts("divl 0x00000002:00000000 / 2\n");
	__asm__ volatile("divl %4" : "=a"(q), "=d"(r) : "a"(0u), "d"(2u), "r"(d));
	rt_printf("%u %u\n", q, r);
	rt_puts("not reached\n");
	return 0;
}
