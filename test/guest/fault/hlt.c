/* Must fault: hlt is privileged; at CPL 3 it raises #GP, which Linux delivers as SIGSEGV. */

#include "rt.h"

int main(void)
{
	rt_puts("hlt in ring 3\n");
	__asm__ volatile("hlt");
	rt_puts("not reached\n");
	return 0;
}
