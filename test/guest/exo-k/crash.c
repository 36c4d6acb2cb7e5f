/* A principal that touches an unmapped page with no page-fault handler: the kernel stops it
   and reports why; the others keep running. */
#include "../../../apps/labs/guests/exok.h"

void _start(void)
{
	say("crash: about to fault at ", 0x40000000);
	*(volatile uint32_t *)0x40000000 = 1;
	say("crash: still alive?! ", 1);
	leave(99);
}
