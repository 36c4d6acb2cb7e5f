/* CLOCK replacement (second chance): the hand goes round frame[] in load order like FIFO's,
   but a page whose accessed bit the CPU set since the hand last passed is spared: MAP_QUERY
   reads its bits and clears A, and the hand moves on. The first page found with A clear
   goes. One sweep clears every A bit, so the second finds a victim at the latest. */

#include "libexo.h"
#include "pager-int.h"

static uint32_t clockVictim(struct pager *pg, uint32_t *bits)
{
	for (uint32_t n = 0; n <= 2 * pg->nframes; n++) {
		uint32_t k = pg->hand;
		pg->hand = (k + 1) % pg->nframes;
		uint32_t b = pagerQuery(pg, pg->frame[k].vpn, EXO_PTE_ACCESSED);
		if (!(b & EXO_PTE_ACCESSED)) {
			*bits = b;
			return k;
		}
		pg->stats.scanned++;
	}
	*bits = PAGER_BITS_UNKNOWN;	/* not reached: nothing runs to set A again while we look */
	return pg->hand;
}

const struct pager_policy pager_clock = { "clock", clockVictim };
