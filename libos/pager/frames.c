/* The pager's frame allocator: one-page Frames carved from the boot Untyped (libexo's
   exo_frame_alloc) only when a pager first needs them, so a principal never holds more of
   its quota than its pagers have had resident at once; given back by pager_fini and reused,
   since the Untyped's bump allocator never hands a range out twice. */

#include "libexo.h"
#include "pager.h"

static uint32_t freeSlot[PAGER_MAX_FRAMES];	/* carved and unused, a stack */
static uint32_t nfree, carved;

int pager_frame_get(uint32_t *slot)
{
	if (nfree > 0) {
		*slot = freeSlot[--nfree];
		return 0;
	}
	if (carved >= PAGER_MAX_FRAMES)
		return EXO_E_NO_MEMORY;
	int r = exo_frame_alloc(EXO_PAGE_SIZE, slot);
	if (r != 0)
		return EXO_E_NO_MEMORY;
	carved++;
	return 0;
}

void pager_frame_put(uint32_t slot)
{
	if (nfree < PAGER_MAX_FRAMES)	/* never more than carved: a stray put is dropped */
		freeSlot[nfree++] = slot;
}

uint32_t pager_frames_carved(void)
{
	return carved;
}
