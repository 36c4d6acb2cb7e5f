/* The pager (DESIGN section 4): a region with no mappings of its own, the page-fault upcall
   that gives it frames, eviction by the configured policy with write-back of dirty pages to
   the block range, and page-in from it. Everything protected is an exo-call: MAP_FRAME and
   UNMAP_FRAME for the secure bindings, MAP_QUERY for the A and D bits, BLOCK_IO for the
   backing store (DMA straight to and from the page itself, at the page's own address). */

#include "libc.h"
#include "libexo.h"
#include "plat.h"
#include "pager-int.h"

#define PAGE		EXO_PAGE_SIZE
#define SECTOR		512
#define PAGE_SECTORS	(PAGE / SECTOR)
#define FAULT_STACK	0x4000u		/* 16 KiB: the kernel's limit for an exception stack */
#define PF_ERR_PRESENT	0x1		/* x86 #PF error code: a protection fault, not a missing page */
#define PAGER_EXIT	0x7e		/* the exit status when the pager cannot go on */

/* Everything that stops the pager, reported by pagerFail. */
enum pagerFailure {
	PAGER_OUTSIDE,		/* a fault outside the active pager's region (an app bug) */
	PAGER_PROTECTION,	/* a protection fault in the region: it maps everything read-write */
	PAGER_NO_FRAME,		/* not one frame from the quota */
	PAGER_MAP,		/* MAP_FRAME refused */
	PAGER_UNMAP,		/* UNMAP_FRAME refused */
	PAGER_QUERY,		/* MAP_QUERY refused */
	PAGER_WRITEBACK,	/* BLOCK_IO write failed: the page's data would be lost */
	PAGER_PAGEIN,		/* BLOCK_IO read failed */
};
static const char *const failureName[] = {
	[PAGER_OUTSIDE] = "fault outside the paged region",
	[PAGER_PROTECTION] = "protection fault in the paged region",
	[PAGER_NO_FRAME] = "no frame in the quota",
	[PAGER_MAP] = "MAP_FRAME failed",
	[PAGER_UNMAP] = "UNMAP_FRAME failed",
	[PAGER_QUERY] = "MAP_QUERY failed",
	[PAGER_WRITEBACK] = "write-back failed",
	[PAGER_PAGEIN] = "page-in failed",
};

static struct pager *active;
static uint8_t *faultStack;	/* allocated once, kept for every pager after */

static __attribute__((noreturn)) void pagerFail(enum pagerFailure why, uint32_t va, int detail)
{
	printf("pager: %s at %x (%d), after %u faults\n", failureName[why], va, detail, active ? active->stats.faults : 0);
	plat_exit(PAGER_EXIT);
}

static uint32_t pageVa(struct pager *pg, uint32_t vpn)
{
	return pg->base + vpn * PAGE;
}

uint32_t pagerQuery(struct pager *pg, uint32_t vpn, uint32_t clear)
{
	int r = exo_map_query(pageVa(pg, vpn), clear);

	if (r == EXO_E_NOT_BOUND)
		return EXO_PTE_DIRTY;	/* the kernel took the mapping: no bits to read, assume the worst */
	if (r < 0)
		pagerFail(PAGER_QUERY, pageVa(pg, vpn), r);
	/* a page mapped again after the kernel took it may have been dirtied before: write it back */
	return (uint32_t)r | (pg->page[vpn] & PAGER_PG_REMAPPED ? EXO_PTE_DIRTY : 0);
}

/* Give up the policy's victim: written back first if the CPU dirtied it, then unmapped. */
static uint32_t pagerEvict(struct pager *pg)
{
	uint32_t bits, k = pg->cfg.policy->victim(pg, &bits);
	uint32_t vpn = pg->frame[k].vpn, va = pageVa(pg, vpn);

	if (bits == PAGER_BITS_UNKNOWN)
		bits = pagerQuery(pg, vpn, 0);
	if (pg->page[vpn] & PAGER_PG_REMAPPED)
		bits |= EXO_PTE_DIRTY;
	if ((bits & EXO_PTE_DIRTY) && exo_map_query(va, 0) == EXO_E_NOT_BOUND &&
	    exo_map_frame(pg->frame[k].slot, va, EXO_R_READ | EXO_R_WRITE) != 0)	/* BLOCK_IO needs it mapped */
		pagerFail(PAGER_MAP, va, 0);
	if (bits & EXO_PTE_DIRTY) {
		int r = exo_block_io(pg->cfg.block, EXO_BLK_WRITE, pg->cfg.sector + vpn * PAGE_SECTORS, PAGE_SECTORS, (void *)va);
		if (r != 0)
			pagerFail(PAGER_WRITEBACK, va, r);
		pg->page[vpn] |= PAGER_PG_STORED;
		pg->stats.writebacks++;
	}
	int r = exo_unmap_frame(va);
	if (r != 0 && r != EXO_E_NOT_BOUND)	/* NOT_BOUND: the kernel unmapped it already */
		pagerFail(PAGER_UNMAP, va, r);
	pg->page[vpn] &= PAGER_PG_STORED;
	pg->stats.evictions++;
	return k;
}

/* Frame k at page vpn, holding what the store has for it or zeros; A and D clear after. */
static void pagerPageIn(struct pager *pg, uint32_t k, uint32_t vpn)
{
	uint32_t va = pageVa(pg, vpn);
	int r = exo_map_frame(pg->frame[k].slot, va, EXO_R_READ | EXO_R_WRITE);

	if (r != 0)
		pagerFail(PAGER_MAP, va, r);
	pg->frame[k].vpn = vpn;
	pg->page[vpn] = (pg->page[vpn] & PAGER_PG_STORED) | PAGER_PG_RESIDENT | k;
	if (pg->page[vpn] & PAGER_PG_STORED) {
		/* DMA sets no PTE bits: the page is clean, and not yet accessed, until the app's
		   resumed access */
		r = exo_block_io(pg->cfg.block, EXO_BLK_READ, pg->cfg.sector + vpn * PAGE_SECTORS, PAGE_SECTORS, (void *)va);
		if (r != 0)
			pagerFail(PAGER_PAGEIN, va, r);
		pg->stats.pageins++;
	} else {
		memset((void *)va, 0, PAGE);
		pagerQuery(pg, vpn, EXO_PTE_ACCESSED | EXO_PTE_DIRTY);	/* our zeros are not the app's writes */
		pg->stats.zerofills++;
	}
}

static void pagerFault(struct pager *pg, uint32_t vpn)
{
	uint32_t k, slot;

	pg->stats.faults++;
	if (pg->page[vpn] & PAGER_PG_RESIDENT) {
		/* Its frame is still ours but the mapping went (the kernel unmapped it, as a
		   page-fault storm does): map it again where it was. */
		uint32_t f = pg->page[vpn] & PAGER_PG_FRAME;
		if (exo_map_frame(pg->frame[f].slot, pageVa(pg, vpn), EXO_R_READ | EXO_R_WRITE) != 0)
			pagerFail(PAGER_NO_FRAME, pageVa(pg, vpn), 0);
		pg->page[vpn] |= PAGER_PG_REMAPPED;
		pg->stats.remaps++;
		return;
	}
	if (pg->nframes < pg->cfg.frames && pager_frame_get(&slot) == 0) {
		k = pg->nframes++;
		pg->frame[k].slot = slot;
	} else if (pg->nframes > 0) {
		pg->cfg.frames = pg->nframes;	/* the quota said no: make do with what there is */
		k = pagerEvict(pg);
	} else {
		pagerFail(PAGER_NO_FRAME, pageVa(pg, vpn), 0);
	}
	pagerPageIn(pg, k, vpn);
}

/* The page-fault upcall, on its own exception stack. */
static void onPageFault(struct exo_upcall_frame *f)
{
	uint64_t t0 = plat_cycles();
	struct pager *pg = active;
	uint32_t va = f->arg0;

	if (pg == 0 || va - pg->base >= pg->cfg.pages * PAGE) {
		printf("pager: eip %x touched %x (error %x)\n", f->eip, va, f->arg1);
		pagerFail(PAGER_OUTSIDE, va, (int)f->arg1);
	}
	if (f->arg1 & PF_ERR_PRESENT)
		pagerFail(PAGER_PROTECTION, va, (int)f->arg1);
	pagerFault(pg, (va - pg->base) / PAGE);
	pg->stats.cycles += plat_cycles() - t0;
	exo_resume(f);
}

/* The block range to page to: c->block, or the first read-write one of the boot caps. Its
   slot, with its size in sectors in *sectors; EXO_SLOT_NONE when there is none. */
static uint32_t storeRange(uint32_t block, uint32_t *sectors)
{
	struct exo_cap_info info;
	const uint32_t rw = EXO_R_READ | EXO_R_WRITE;

	for (uint32_t k = 0; block == EXO_SLOT_NONE; k++) {
		const struct exo_boot_cap *bc = exo_boot_cap(EXO_CAP_BLOCK_RANGE, k);
		if (bc == 0)
			return EXO_SLOT_NONE;
		if ((bc->rights & rw) == rw)
			block = bc->slot;
	}
	int w = exo_cap_inspect(block, &info);
	if (w < 0 || EXO_CAPW_GET(w, TYPE) != EXO_CAP_BLOCK_RANGE || (EXO_CAPW_GET(w, RIGHTS) & rw) != rw)
		return EXO_SLOT_NONE;
	*sectors = info.size;
	return block;
}

int pager_init(struct pager *pg, const struct pager_config *c)
{
	uint32_t sectors = 0;

	if (active)
		return EXO_E_EXISTS;
	if (c->pages == 0 || c->pages > (EXO_USER_MAX - EXO_USER_MIN) / PAGE ||
	    c->frames < PAGER_MIN_FRAMES || c->frames > PAGER_MAX_FRAMES)
		return EXO_E_BAD_ARG;
	uint32_t block = storeRange(c->block, &sectors);
	if (block == EXO_SLOT_NONE)
		return EXO_E_EMPTY;
	if (c->sector > sectors || c->pages > (sectors - c->sector) / PAGE_SECTORS)
		return EXO_E_BAD_ARG;	/* the store must hold every page of the region */

	memset(pg, 0, sizeof *pg);
	pg->cfg = *c;
	pg->cfg.block = block;
	if (pg->cfg.policy == 0)
		pg->cfg.policy = &pager_fifo;
	pg->page = exo_mem_map(c->pages * sizeof pg->page[0], EXO_R_READ | EXO_R_WRITE, 0);
	pg->frame = exo_mem_map(c->frames * sizeof pg->frame[0], EXO_R_READ | EXO_R_WRITE, 0);
	pg->base = exo_va_alloc(c->pages * PAGE);
	if (faultStack == 0 && exo_va_alloc(PAGE))	/* an unmapped guard page below the stack */
		faultStack = exo_mem_map(FAULT_STACK, EXO_R_READ | EXO_R_WRITE, 0);
	if (!pg->page || !pg->frame || !pg->base || !faultStack)
		return EXO_E_NO_MEMORY;
	memset(pg->page, 0, c->pages * sizeof pg->page[0]);
	int r = exo_upcall_entry(EXO_UPCALL_PAGE_FAULT, onPageFault, faultStack + FAULT_STACK);
	if (r != 0)
		return r;
	active = pg;
	return 0;
}

int pager_fini(struct pager *pg)
{
	int err = 0;

	if (active != pg)
		return EXO_E_NOT_BOUND;
	for (uint32_t k = 0; k < pg->nframes; k++) {
		uint32_t vpn = pg->frame[k].vpn;
		int r = exo_unmap_frame(pageVa(pg, vpn));
		if (r != 0 && err == 0)
			err = r;
		pg->page[vpn] &= PAGER_PG_STORED;
		pager_frame_put(pg->frame[k].slot);
	}
	pg->nframes = 0;
	active = 0;
	return err;
}
