/* The platform interface: everything the LibOS needs that depends on where it runs. One
   implementation per placement (libos/plat/uni/ now; exo/ and mono/ later):
     uni   ring 0, the image owns the machine: direct MMIO, its own IDT, its own IOMMU domain
     exo   ring 3 over exo-calls: the queue's page and the DMA frames come by secure bindings
     mono  the LibOS in a ring-0 kernel, the app above it in ring 3 (int 0x80)
   Nothing outside libos/plat/ touches hardware except the NIC queue's own register window. */

#ifndef PLAT_H
#define PLAT_H

#include <stdint.h>

/* ---- console, time, exit ---- */
void plat_putc(char c);
/* Cycles of this core's clock (the TSC); monotonic. The same in every placement: the TSC is
   readable in ring 3 as in ring 0. */
static inline uint64_t plat_cycles(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
/* Let another hyperthread or principal run for a moment while polling (pause, or yield). */
void plat_relax(void);
__attribute__((noreturn)) void plat_exit(int status);

/* ---- DMA-able memory ---- */
#define PLAT_DMA_DEV_WRITE	0x1	/* the device may write it (RX buffers, descriptor rings) */
#define PLAT_DMA_ZERO		0x2	/* zero it before handing it out */
struct plat_dma {
	void *va;		/* where the LibOS reaches it */
	uint32_t iova;		/* where the device reaches it (what descriptors hold) */
	uint32_t bytes;
};
/* `bytes` of memory the NIC may read (and, with PLAT_DMA_DEV_WRITE, write), aligned to
   `align` (a power of two up to 4096; whole pages are confined separately); physically
   contiguous; 0 on success, -1 when the platform has no more. Never freed: a LibOS takes its
   rings and buffer pool once at start-up. */
int plat_dma_alloc(uint32_t bytes, uint32_t align, uint32_t flags, struct plat_dma *out);

/* ---- the NIC queue ---- */
struct plat_nic {
	volatile uint32_t *qregs;	/* the queue's register page (machine/nic.ts QUEUE_REGS) */
	uint32_t queue;			/* which queue it is */
	uint8_t mac[6];			/* the station address */
};
/* Obtain one NIC queue (uni: probe PCI, confine the NIC's DMA to the platform's DMA memory);
   0 on success, -1 if there is none. */
int plat_nic_open(struct plat_nic *n);
/* Deliver the queue's interrupt to this core from now on (its causes are the driver's:
   IMASK and CAUSE are queue registers); 0 on success, -1 if the platform cannot. */
int plat_nic_irq_enable(struct plat_nic *n);
/* Counters of the NIC as a whole, where the platform may read them (uni: the global
   registers): frames from the wire and drops by the NIC's reasons (machine/nic.ts NicDrop
   order). 0 on success, -1 when unavailable (then the LibOS reports its own counts only). */
#define PLAT_NIC_DROP_REASONS	7
struct plat_nic_counters {
	uint32_t received, delivered, dropped, sent;
	uint32_t drops[PLAT_NIC_DROP_REASONS];
};
int plat_nic_counters(struct plat_nic *n, struct plat_nic_counters *c);

/* ---- interrupts ---- */
/* How many device interrupts this core has taken so far. */
uint32_t plat_irq_count(void);
/* Sleep until the interrupt count differs from `seen` or `cycles` have passed (without an
   interrupt source the wait is a timed one); returns the count then. Read the count, look for
   work, then wait with what was read: an interrupt in between is never slept through. */
uint32_t plat_irq_wait(uint32_t seen, uint64_t cycles);

/* ---- the block device ---- */
/* 512-byte sectors, addressed from the start of the disk. The LibOS reaches them through a
   capability: exo, a BlockRange (EXO_BLOCK_IO checks it again); uni, the whole disk. */
#define PLAT_BLOCK_SECTOR	512
#define PLAT_BLOCK_MAX		256	/* sectors per transfer */
#define PLAT_BLOCK_READ		0x1
#define PLAT_BLOCK_WRITE	0x2
struct plat_block_cap {
	uint32_t handle;	/* exo: the BlockRange's slot; uni: 0 */
	uint32_t base;		/* its first sector */
	uint32_t sectors;	/* its length */
	uint32_t rights;	/* PLAT_BLOCK_READ | PLAT_BLOCK_WRITE */
};
/* Bring the device up (uni: probe PCI, its own queue pair, the IOMMU); 0, or -1 if there is
   none. Idempotent. */
int plat_block_open(void);
/* The capability covering sectors [sector, sector + count) with `rights`: 0 with *cap filled,
   or -1 when no capability this platform holds allows it. */
int plat_block_cap(uint32_t sector, uint32_t count, uint32_t rights, struct plat_block_cap *cap);
/* Move `count` (1..PLAT_BLOCK_MAX) sectors from `sector` on, under `cap`, by DMA straight into
   (PLAT_BLOCK_READ) or out of (PLAT_BLOCK_WRITE) `buf`: page-aligned, the caller's own
   writable memory. Returns when the device is done: 0, or -1 (bad argument, device error). */
int plat_block_io(const struct plat_block_cap *cap, uint32_t op, uint32_t sector, uint32_t count, void *buf);
/* Both of the above: the simple interface for a LibOS part that does not time the phases. */
int plat_block_read(uint32_t sector, uint32_t count, void *buf);
int plat_block_write(uint32_t sector, uint32_t count, const void *buf);
/* `bytes` (rounded up to pages) of page-aligned memory for bounce buffers, which the device
   may write; 0 when there is no more. Never freed. */
void *plat_block_buffer(uint32_t bytes);

#endif
