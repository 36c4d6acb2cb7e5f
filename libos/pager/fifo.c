/* FIFO replacement: the page loaded longest ago goes. The frames fill in order and a page
   brought in takes its victim's place, so frame[] in hand order is the load order and the
   victim is always the one under the hand. It reads no page bits. */

#include "pager.h"

static uint32_t fifoVictim(struct pager *pg, uint32_t *bits)
{
	uint32_t k = pg->hand;

	pg->hand = (k + 1) % pg->nframes;
	*bits = PAGER_BITS_UNKNOWN;
	return k;
}

const struct pager_policy pager_fifo = { "fifo", fifoVictim };
