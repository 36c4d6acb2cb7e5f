/* Cycles by part (kernel/exo/cycles.ts): BURN iterations of a loop in the app's own code, and
   the LibOS's memset over a 4 KiB buffer LIBOS_ROUNDS times (libos/libc: rep stos, whose cost
   grows with the bytes), then one console line. Built as a program for every placement. */

#include "libc.h"

#ifndef BURN
#define BURN		100000
#endif
#define LIBOS_ROUNDS	8

static char buf[4096];

/* Its own loop; the empty asm keeps gcc from folding or vectorising it. */
static __attribute__((noinline)) uint32_t burn(uint32_t n)
{
	uint32_t x = 1;
	for (uint32_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

int main(void)
{
	for (int k = 0; k < LIBOS_ROUNDS; k++)
		memset(buf, k + 1, sizeof buf);
	uint32_t x = burn(BURN);
	printf("burn: %u iterations -> %x, buf %d\n", (unsigned)BURN, (unsigned)x, buf[100]);
	return 0;
}
