/* Block driver: queue pair setup, submission, completions by phase. */

#include "r0.h"
#include "blk.h"

uint32_t blk_read(struct blk *b, uint32_t reg) { return r0_mmio_read(b->regs + reg); }
void blk_write(struct blk *b, uint32_t reg, uint32_t v) { r0_mmio_write(b->regs + reg, v); }

int blk_probe(struct blk *b, struct pci_dev *devs, int ndevs)
{
	b->pci = pci_find(devs, ndevs, BLK_VENDOR, BLK_DEVICE);
	if (!b->pci || !b->pci->bar[0])
		return -1;
	b->regs = b->pci->bar[0];
	pci_enable(b->pci, 1);
	return msix_init(&b->msix, b->pci);
}

uint32_t blk_queue_init(struct blk *b, uint32_t q, struct blk_sqe *sq, uint32_t sqsize,
			struct blk_cqe *cq, uint32_t cqsize, int ien, uint32_t dest, uint32_t vector)
{
	b->q = q;
	b->sq = sq;
	b->cq = cq;
	b->sqsize = sqsize;
	b->cqsize = cqsize;
	b->sqtail = b->cqhead = 0;
	b->phase = 1;
	for (uint32_t k = 0; k < cqsize; k++)
		cq[k].status = 0;
	blk_write(b, BLK_Q(q, BQ_QCTRL), 0);
	blk_write(b, BLK_Q(q, BQ_SQBASE), (uint32_t)sq);
	blk_write(b, BLK_Q(q, BQ_SQSIZE), sqsize);
	blk_write(b, BLK_Q(q, BQ_CQBASE), (uint32_t)cq);
	blk_write(b, BLK_Q(q, BQ_CQSIZE), cqsize);
	blk_write(b, BLK_Q(q, BQ_QVEC), q);
	if (ien) {
		msix_set(&b->msix, q, dest, vector);
		msix_mask(&b->msix, q, 0);
		msix_enable(&b->msix, 1);
	}
	blk_write(b, BLK_Q(q, BQ_QCTRL), BQ_EN | (ien ? BQ_IEN : 0));
	return blk_read(b, BLK_Q(q, BQ_QSTATUS));
}

uint16_t blk_submit(struct blk *b, uint8_t op, uint32_t lba, uint32_t count, uint32_t dptr)
{
	volatile struct blk_sqe *e = &b->sq[b->sqtail];
	volatile uint32_t *w = (volatile uint32_t *)e;

	for (int k = 0; k < 16; k++)
		w[k] = 0;
	e->opcode = op;
	e->cid = ++b->cid;
	e->nsid = 1;
	e->dptr = dptr;
	e->lba = lba;
	e->count = count;
	b->sqtail = (b->sqtail + 1) % b->sqsize;
	blk_write(b, BLK_SQ_DOORBELL(b->q), b->sqtail);
	return b->cid;
}

int blk_poll(struct blk *b, uint32_t *status, uint16_t *cid)
{
	volatile struct blk_cqe *c = &b->cq[b->cqhead];
	uint16_t st = c->status;

	if ((st & 1) != b->phase)
		return 0;
	*status = (st >> 1) & 0xff;
	*cid = c->cid;
	b->cqhead = (b->cqhead + 1) % b->cqsize;
	if (b->cqhead == 0)
		b->phase ^= 1;
	blk_write(b, BLK_CQ_DOORBELL(b->q), b->cqhead);
	return 1;
}

uint32_t blk_io(struct blk *b, uint8_t op, uint32_t lba, uint32_t count, void *buf)
{
	uint16_t want = blk_submit(b, op, lba, count, (uint32_t)buf), cid;
	uint32_t status;
	uint64_t t0 = r0_rdtsc();

	while (r0_rdtsc() - t0 < 10000000ull) {
		if (blk_poll(b, &status, &cid) && cid == want)
			return status;
		r0_pause();
	}
	return 0xffff;
}
