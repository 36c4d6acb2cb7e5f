/* A principal that keeps its core busy in ring 3 for `arg` million cycles and exits: the load
   on the kernel's interrupt core in the irq-steering lab. */
#include "exok.h"

void _start(void)
{
	uint32_t millions = bootInfo()->arg ? bootInfo()->arg : 10, lo, hi, start;
	__asm__ volatile("rdtsc" : "=a"(start) : : "edx");
	for (uint32_t m = 0; m < millions;) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		if (lo - start >= 1000000u) { start = lo; m++; }
	}
	leave(0);
}
