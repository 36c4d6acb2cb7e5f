/* A demand pager in a page-fault upcall: 64 pages of a region nothing was ever mapped at are
   touched one after another; each first touch faults, the handler carves a Frame from the
   boot Untyped, maps it at the faulting page and resumes the store. The pattern is read
   back, and the faults counted: one per page, in order, and none on the second pass. */

#include "exotest.h"

#define PAGE	EXO_PAGE_SIZE
#define PAGES	64
#define WORDS	(PAGE / 4)

static uint32_t region;			/* PAGES + 1 pages of virtual space, never mapped */
static volatile uint32_t faults, outside, lastError;
static uint32_t faultAt[PAGES + 1];

static void onPageFault(struct exo_upcall_frame *f)
{
	uint32_t page = f->arg0 & ~(PAGE - 1), s;

	if (page < region || page >= region + (PAGES + 1) * PAGE) {
		outside++;
		printf("FAIL pf-outside-region: fault at %x eip %x error %x\n", f->arg0, f->eip, f->arg1);
		plat_exit(100);
	}
	if (faults <= PAGES)
		faultAt[faults] = f->arg0;
	faults++;
	lastError = f->arg1;
	if (exo_frame_alloc(PAGE, &s) != 0 || exo_map_frame(s, page, EXO_R_READ | EXO_R_WRITE) != 0) {
		printf("FAIL pf-map: no frame for %x after %u faults\n", page, faults);
		plat_exit(101);
	}
	exo_resume(f);
}

static uint32_t pattern(uint32_t page, uint32_t word)
{
	return 0x9e3779b9u * (page + 1) ^ word * 0x85ebca6bu;
}

int main(void)
{
	void *stack = upcall_stack();

	region = exo_va_alloc((PAGES + 1) * PAGE);
	if (!check(stack && region, "pager-setup", "stack %p region %x", stack, region))
		return finish();
	expect("upcall-entry", exo_upcall_entry(EXO_UPCALL_PAGE_FAULT, onPageFault, stack), 0);

	/* first pass: the first store to each page faults; the rest of the page does not */
	for (uint32_t p = 0; p < PAGES; p++) {
		volatile uint32_t *w = (volatile uint32_t *)(region + p * PAGE);
		w[p % WORDS] = pattern(p, p % WORDS);
		for (uint32_t k = 0; k < WORDS; k++)
			w[k] = pattern(p, k);
	}
	check(faults == PAGES, "pf-count", "got %u want %u", faults, PAGES);
	uint32_t order = 0;
	for (uint32_t p = 0; p < PAGES && p < faults; p++)
		order += faultAt[p] == region + p * PAGE + (p % WORDS) * 4;
	check(order == PAGES, "pf-addresses", "%u of %u faults at the address stored to", order, PAGES);
	check((lastError & 7) == 6, "pf-error-code", "got %x want user|write|not-present (6)", lastError);

	/* second pass: read everything back, no fault */
	uint32_t bad = 0;
	for (uint32_t p = 0; p < PAGES; p++) {
		volatile uint32_t *w = (volatile uint32_t *)(region + p * PAGE);
		for (uint32_t k = 0; k < WORDS; k++)
			bad += w[k] != pattern(p, k);
	}
	check(bad == 0, "pattern-read-back", "%u of %u words differ", bad, PAGES * WORDS);
	check(faults == PAGES, "no-fault-when-mapped", "%u faults after the read-back, want %u", faults, PAGES);

	/* a read of the page after them faults too, with the error code of a read */
	uint32_t v = *(volatile uint32_t *)(region + PAGES * PAGE);
	(void)v;
	check(faults == PAGES + 1 && (lastError & 7) == 4, "pf-read-fault", "faults %u error %x want %u and 4", faults,
	      lastError, PAGES + 1);
	check(outside == 0, "pf-only-in-region", "%u faults outside", outside);
	printf("pagefault: %u faults handled\n", faults);
	return finish();
}
