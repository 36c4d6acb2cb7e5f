/* Must fault: int3 raises #BP, which Linux delivers as SIGTRAP (shell status 133). */

#include "rt.h"

int main(void)
{
	rt_puts("int3\n");
	__asm__ volatile("int3");
	rt_puts("not reached\n");
	return 0;
}
