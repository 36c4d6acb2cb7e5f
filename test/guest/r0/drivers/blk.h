/* The NVMe-flavoured block device (machine/block.ts): I/O queue pairs configured through
   registers, 64-byte submission and 16-byte completion entries with a phase bit, doorbells,
   one MSI-X vector per completion queue. Sector counts are one-based. */

#ifndef BLK_H
#define BLK_H

#include <stdint.h>
#include "pci.h"
#include "msix.h"

#define BLK_VENDOR	0x0e10
#define BLK_DEVICE	0xb10c
#define BLK_SECTOR	512

#define BLK_QUEUES	0x04
#define BLK_CAP_LO	0x08
#define BLK_MAXXFER	0x14
#define BLK_CSTS	0x24
#define BLK_DMAERR	0x28
#define BLK_Q(q, r)	(0x100 + 0x40 * (q) + (r))
#define BQ_SQBASE	0x00
#define BQ_SQSIZE	0x04
#define BQ_CQBASE	0x08
#define BQ_CQSIZE	0x0c
#define BQ_QCTRL	0x10
#define   BQ_EN		0x1u
#define   BQ_IEN	0x2u
#define BQ_QVEC		0x14
#define BQ_QSTATUS	0x18
#define   BQS_RUN	0x1u
#define   BQS_FATAL	0x2u
#define   BQS_DBERR	0x4u
#define   BQS_REASON(s)	(((s) >> 8) & 0xff)
#define BLK_SQ_DOORBELL(q)	(0x1000 + 8 * (q))
#define BLK_CQ_DOORBELL(q)	(0x1000 + 8 * (q) + 4)

#define BLK_OP_FLUSH	0
#define BLK_OP_WRITE	1
#define BLK_OP_READ	2
#define BLK_SC_SUCCESS		0x00
#define BLK_SC_INVALID_FIELD	0x02
#define BLK_SC_DATA_TRANSFER	0x04
#define BLK_SC_LBA_RANGE	0x80

struct blk_sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t rsvd[4];
	uint32_t dptr, dptr_hi;
	uint32_t rsvd2[2];
	uint32_t lba, lba_hi;
	uint32_t count;
	uint32_t rsvd3[3];
};

struct blk_cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id, cid;
	volatile uint16_t status;	/* bit 0 phase, 8:1 status code */
};

struct blk {
	struct pci_dev *pci;
	uint32_t regs;
	struct msix msix;
	uint32_t q;
	volatile struct blk_sqe *sq;
	volatile struct blk_cqe *cq;
	uint32_t sqsize, cqsize, sqtail, cqhead, phase;
	uint16_t cid;
};

uint32_t blk_read(struct blk *b, uint32_t reg);
void blk_write(struct blk *b, uint32_t reg, uint32_t v);
int blk_probe(struct blk *b, struct pci_dev *devs, int ndevs);
/* Queue pair q over the given rings; interrupts (ien) through MSI-X entry q -> (dest, vector).
   Returns QSTATUS after enabling. */
uint32_t blk_queue_init(struct blk *b, uint32_t q, struct blk_sqe *sq, uint32_t sqsize,
			struct blk_cqe *cq, uint32_t cqsize, int ien, uint32_t dest, uint32_t vector);
/* Submit one command; returns its command id. */
uint16_t blk_submit(struct blk *b, uint8_t op, uint32_t lba, uint32_t count, uint32_t dptr);
/* Take the next completion if its phase says it is new: 1 and *status = code, *cid set. */
int blk_poll(struct blk *b, uint32_t *status, uint16_t *cid);
/* Submit and wait (polling) for that one command; returns its status or 0xffff on timeout. */
uint32_t blk_io(struct blk *b, uint8_t op, uint32_t lba, uint32_t count, void *buf);

#endif
