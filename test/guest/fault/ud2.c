/* Must fault: ud2 raises #UD, which Linux delivers as SIGILL (shell status 132). */

#include "rt.h"

int main(void)
{
	rt_puts("ud2\n");
	__asm__ volatile("ud2");
	rt_puts("not reached\n");
	return 0;
}
