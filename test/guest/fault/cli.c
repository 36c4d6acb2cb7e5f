/* Must fault: cli at CPL 3 with IOPL 0 raises #GP, which Linux delivers as SIGSEGV. */

#include "rt.h"

int main(void)
{
	rt_puts("cli in ring 3\n");
	__asm__ volatile("cli");
	rt_puts("not reached\n");
	return 0;
}
