/* pager: application-level paging in the exo placement (DESIGN section 4). A region of
   virtual pages has no mappings of its own: each first touch is a page-fault upcall, and the
   handler maps one of at most `frames` resident frames there, evicting a page chosen by the
   replacement policy (FIFO, or CLOCK over the accessed bits MAP_QUERY reads) when all are in
   use. A dirty victim is written to the backing store on a writable block range first, and a
   page that was written there is read back when it is touched again; one never written
   reads as zeros. One pager at a time per principal, on the one core that runs main(). */

#ifndef PAGER_H
#define PAGER_H

#include <stdint.h>

#define PAGER_MIN_FRAMES	4	/* an instruction may touch two pages, and its stack a third */
#define PAGER_MAX_FRAMES	192	/* the frame pool's size: slots are 256 a space */
#define PAGER_BITS_UNKNOWN	0xffffffffu

struct pager;

/* A replacement policy: which resident frame to give up. victim() returns its index in
   pg->frame[] and stores the page's EXO_PTE_* bits in *bits when it read them (the pager
   then knows whether the page is dirty without asking again), else PAGER_BITS_UNKNOWN. */
struct pager_policy {
	const char *name;
	uint32_t (*victim)(struct pager *pg, uint32_t *bits);
};
extern const struct pager_policy pager_fifo;	/* the oldest page loaded goes first */
extern const struct pager_policy pager_clock;	/* second chance for a page with its A bit set */

/* What one pager did: a pager has one policy, so these are per policy. */
struct pager_stats {
	uint32_t faults;	/* page-fault upcalls handled */
	uint32_t evictions;	/* resident pages pushed out to make room */
	uint32_t writebacks;	/* evicted pages that were dirty, written to the backing store */
	uint32_t pageins;	/* faults on a page the store holds: read back from the block range */
	uint32_t zerofills;	/* faults on a page the store does not hold: a zeroed frame */
	uint32_t scanned;	/* CLOCK: pages passed over, their accessed bit cleared */
	uint32_t remaps;	/* faults on a resident page whose mapping the kernel took: mapped again */
	uint64_t cycles;	/* TSC cycles from the handler's entry to its resume (kernel calls included) */
};

struct pager_config {
	uint32_t pages;				/* the region's size in pages */
	uint32_t frames;			/* resident frames at most: PAGER_MIN_FRAMES..PAGER_MAX_FRAMES */
	const struct pager_policy *policy;	/* 0: FIFO */
	uint32_t block;				/* block range slot; EXO_SLOT_NONE: the first read-write boot one */
	uint32_t sector;			/* the store's first sector in that range: page k at sector + 8k */
};

struct pager_frame {
	uint32_t slot;		/* its Frame capability (one page) */
	uint32_t vpn;		/* the region page it holds */
};

struct pager {
	struct pager_config cfg;
	uint32_t base;			/* the region's first address */
	uint32_t *page;			/* per region page: PAGER_PG_* flags | a frame index */
	struct pager_frame *frame;	/* the resident frames, [0, nframes) */
	uint32_t nframes;
	uint32_t hand;			/* the policy's position in frame[] */
	struct pager_stats stats;
};

#define PAGER_PG_RESIDENT	0x80000000u	/* mapped; the low 16 bits are its frame index */
#define PAGER_PG_STORED		0x40000000u	/* the backing store holds its content */
#define PAGER_PG_REMAPPED	0x20000000u	/* mapped again after the kernel took its mapping: its D bit was lost */
#define PAGER_PG_FRAME		0x0000ffffu

/* Set up `pg` over a fresh region of c->pages pages and take the page-fault upcall; the
   region's address is pg->base. 0, or an EXO_E_*: EXO_E_BAD_ARG for sizes out of range or a
   store that does not fit the block range, EXO_E_EMPTY with no writable block range,
   EXO_E_EXISTS while another pager is active. */
int pager_init(struct pager *pg, const struct pager_config *c);
/* Unmap every resident page and give the frames back to the pool for the next pager; the
   region's content is gone, the counters stay. 0 or an EXO_E_*. */
int pager_fini(struct pager *pg);

/* The frame allocator under the pagers: single-page Frames carved from the boot Untyped when
   first needed (so within the principal's quota) and kept for reuse after pager_fini. */
int pager_frame_get(uint32_t *slot);	/* 0, or EXO_E_NO_MEMORY: the quota or the pool is used up */
void pager_frame_put(uint32_t slot);
uint32_t pager_frames_carved(void);	/* how many Frames the pool has taken from the quota */

#endif
