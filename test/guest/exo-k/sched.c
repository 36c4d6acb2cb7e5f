/* Two or more of these share one core: each yields `arg` times and counts how often it got the
   core back; with DONATE the first hands its core straight to principal 1. The kernel's round
   robin must give every holder of the core's CoreSlice its turn. */
#include "../../../apps/labs/guests/exok.h"

void _start(uint32_t id)
{
	uint32_t n = bootInfo()->arg ? bootInfo()->arg : 100, bad = 0;
	__asm__ volatile("" : "=a"(id));	/* EAX at entry: the principal id */
	for (uint32_t k = 0; k < n; k++)
		if (exo(EXO_YIELD, 0, 0, 0, 0) != 0)
			bad++;
	int32_t d = exo(EXO_DONATE, 999, 0, 0, 0);	/* no such principal */
	say("sched: yields done, bad ", (int32_t)bad);
	say("sched: donate to 999 ", d);
	if (id == 0)
		say("sched: donate to 1 ", exo(EXO_DONATE, 1, 0, 0, 0));
	leave((int)bad + (d != EXO_E_NO_PRINCIPAL));
}
