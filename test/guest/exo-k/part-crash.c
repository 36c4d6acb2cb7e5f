/* A partition (ring 0, its own cores) that crashes: it says hello on the UART it was given,
   then executes ud2 with no IDT of its own. The #UD cannot be delivered (the IDT the core
   still points at is not mapped in the partition's page directory), so the core triple-faults;
   the kernel kills the partition and takes the core back, and the rest of the machine runs on.
   Linked at 1 MiB like a unikernel image. */
#include <stdint.h>
#include "exo.h"

void _start(void)
{
	uint32_t magic;
	__asm__ volatile("" : "=a"(magic));
	const char *m = magic == EXO_PART_MAGIC ? "part-crash: in my partition\n" : "part-crash: not a partition?\n";
	for (; *m; m++)
		*(volatile uint8_t *)0xfe000000u = (uint8_t)*m;
	__asm__ volatile("ud2");
	for (;;)
		;
}
