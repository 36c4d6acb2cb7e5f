/* plat.h's block device for a ring-0 image on the bare machine (uni, and the mono kernel):
   the NVMe-flavoured disk of machine/block.ts driven from ring 0 through a queue pair of its
   own (queue 1 when the device has two or more, so queue 0 stays free for whoever else drives
   it), completions polled by phase. Its DMA goes through the image's IOMMU domain, which holds
   the rings and every buffer the disk has been asked to reach (identity I/O addresses: uni
   runs with paging off, mono maps its memory one to one). As a partition of the exokernel
   there is no disk here: the kernel keeps it. */

#include "libc.h"
#include "plat.h"
#include "pc.h"

#define BLK_VENDOR	0x0e10
#define BLK_DEVICE	0xb10c

/* registers (machine/block.ts BLOCK_REGS, QUEUE_REGS) */
#define BLK_QUEUES	0x004
#define BLK_CAP_LO	0x008
#define BLK_CAP_HI	0x00c
#define BLK_Q(q, r)	(0x100 + 0x40 * (q) + (r))
#define BQ_SQBASE	0x00
#define BQ_SQSIZE	0x04
#define BQ_CQBASE	0x08
#define BQ_CQSIZE	0x0c
#define BQ_QCTRL	0x10
#define   BQ_EN		0x1u
#define BQ_QSTATUS	0x18
#define   BQS_RUN	0x1u
#define BLK_SQ_DB(q)	(0x1000 + 8 * (q))
#define BLK_CQ_DB(q)	(0x1000 + 8 * (q) + 4)

#define OP_WRITE	1
#define OP_READ		2
#define DPTR_PAGE_LIST	0x40	/* the data pointer holds 32-bit addresses of 4 KiB pages */

#define ENTRIES		8	/* one command at a time; room for the phase to wrap */
#define TIMEOUT		400000000ull	/* cycles: 200 ms at 2 GHz, far past any transfer */

struct sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid, rsvd[4];
	uint32_t dptr, dptr_hi, rsvd2[2];
	uint32_t lba, lba_hi, count, rsvd3[3];
};
struct cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id, cid;
	uint16_t status;	/* bit 0 phase, 8:1 status code */
};
_Static_assert(sizeof(struct sqe) == 64 && sizeof(struct cqe) == 16, "block.ts entry sizes");

static int opened;		/* 1 up, -1 failed for good */
static uint32_t bar, queue, capacity;
static volatile struct sqe *sq;
static volatile struct cqe *cq;
static volatile uint32_t *pageList;
static uint32_t sqTail, cqHead, phase = 1;
static uint16_t nextCid;

static uint32_t rd(uint32_t r) { return mmio_read(bar + r); }
static void wr(uint32_t r, uint32_t v) { mmio_write(bar + r, v); }

/* Device memory from the platform's DMA pool, in the IOMMU domain whether or not the NIC
   turned translation on before us. */
static void *ring(uint32_t bytes, uint32_t flags)
{
	struct plat_dma d;

	if (plat_dma_alloc(bytes, 4096, flags | PLAT_DMA_ZERO, &d) != 0)
		return 0;
	return pc_iommu_map(d.iova, bytes, flags & PLAT_DMA_DEV_WRITE) == 0 ? d.va : 0;
}

static int blockUp(void)
{
	struct pci_fn fn;

	if (!pc_bare() || pc_pci_find(BLK_VENDOR, BLK_DEVICE, &fn) != 0 || !(bar = pc_pci_bar(&fn, 0)))
		return -1;
	if (rd(BLK_CAP_HI) != 0 || (capacity = rd(BLK_CAP_LO)) == 0)
		return -1;
	queue = rd(BLK_QUEUES) >= 2 ? 1 : 0;
	pc_iommu_init(lapic_read(LAPIC_ID) >> 24, VEC_IOMMU);
	pc_iommu_attach(fn.rid);
	sq = ring(ENTRIES * sizeof *sq, 0);
	pageList = ring(4096, 0);
	cq = ring(ENTRIES * sizeof *cq, PLAT_DMA_DEV_WRITE);
	if (!sq || !pageList || !cq || pc_iommu_sync() != 0)
		return -1;
	pc_iommu_enable();
	pc_pci_enable(&fn);
	wr(BLK_Q(queue, BQ_QCTRL), 0);
	wr(BLK_Q(queue, BQ_SQBASE), (uint32_t)sq);
	wr(BLK_Q(queue, BQ_SQSIZE), ENTRIES);
	wr(BLK_Q(queue, BQ_CQBASE), (uint32_t)cq);
	wr(BLK_Q(queue, BQ_CQSIZE), ENTRIES);
	wr(BLK_Q(queue, BQ_QCTRL), BQ_EN);
	return rd(BLK_Q(queue, BQ_QSTATUS)) & BQS_RUN ? 0 : -1;
}

int plat_block_open(void)
{
	if (opened == 0)
		opened = blockUp() == 0 ? 1 : -1;
	return opened == 1 ? 0 : -1;
}

/* The image owns the disk: one capability, all of it, read and write. */
int plat_block_cap(uint32_t sector, uint32_t count, uint32_t rights, struct plat_block_cap *cap)
{
	if (plat_block_open() != 0 || sector >= capacity || count > capacity - sector)
		return -1;
	cap->handle = 0;
	cap->base = 0;
	cap->sectors = capacity;
	cap->rights = PLAT_BLOCK_READ | PLAT_BLOCK_WRITE;
	return 0;
}

/* One command, its completion awaited by phase; the status code, or 0xffff on timeout. */
static uint32_t blockCommand(uint8_t op, uint32_t lba, uint32_t count)
{
	volatile struct sqe *e = &sq[sqTail];
	uint16_t cid = ++nextCid;

	memset((void *)e, 0, sizeof *e);
	e->opcode = op;
	e->flags = DPTR_PAGE_LIST;
	e->cid = cid;
	e->nsid = 1;
	e->dptr = (uint32_t)pageList;
	e->lba = lba;
	e->count = count;
	sqTail = (sqTail + 1) % ENTRIES;
	wr(BLK_SQ_DB(queue), sqTail);
	for (uint64_t t0 = plat_cycles(); plat_cycles() - t0 < TIMEOUT;) {
		volatile struct cqe *c = &cq[cqHead];
		uint16_t st = c->status;
		if ((st & 1) != phase) {
			plat_relax();
			continue;
		}
		uint16_t got = c->cid;
		cqHead = (cqHead + 1) % ENTRIES;
		if (cqHead == 0)
			phase ^= 1;
		wr(BLK_CQ_DB(queue), cqHead);
		if (got == cid)
			return (st >> 1) & 0xff;
	}
	return 0xffff;
}

int plat_block_io(const struct plat_block_cap *cap, uint32_t op, uint32_t sector, uint32_t count, void *buf)
{
	uint32_t a = (uint32_t)buf, bytes = count * PLAT_BLOCK_SECTOR;
	int dev_write = op == PLAT_BLOCK_READ;

	if (plat_block_open() != 0 || (op != PLAT_BLOCK_READ && op != PLAT_BLOCK_WRITE) || count == 0 ||
	    count > PLAT_BLOCK_MAX || (a & 4095) || sector >= capacity || count > capacity - sector)
		return -1;
	/* the scatter-gather list the device walks: one entry per 4 KiB page */
	for (uint32_t k = 0; k * 4096 < bytes; k++)
		pageList[k] = a + k * 4096;
	/* a buffer the domain does not hold yet joins it (and stays: the image is one trust domain) */
	if (!pc_iommu_mapped(a, bytes, dev_write) && (pc_iommu_map(a, bytes, dev_write) != 0 || pc_iommu_sync() != 0))
		return -1;
	uint32_t st = blockCommand(op == PLAT_BLOCK_READ ? OP_READ : OP_WRITE, sector, count);
	if (st != 0) {
		printf("pc: block %s of %u sectors at %u: status %x\n", op == PLAT_BLOCK_READ ? "read" : "write", count, sector, st);
		return -1;
	}
	return 0;
}

/* From the DMA pool (in the domain once the disk is open). */
void *plat_block_buffer(uint32_t bytes)
{
	uint32_t n = (bytes + 4095) & ~4095u;

	return n && plat_block_open() == 0 ? ring(n, PLAT_DMA_DEV_WRITE) : 0;
}
