/* One queue of exolab's NIC (machine/nic.ts): its register page, the 16-byte descriptor
   layout, and the driver's view of the two rings and the packet-buffer pool. */

#ifndef NICQ_H
#define NICQ_H

#include <stdint.h>
#include "plat.h"

/* queue registers, byte offsets in the queue's page (machine/nic.ts QUEUE_REGS) */
#define NQ_TXBASE	0x00	/* ring IOVA, 16-byte aligned */
#define NQ_TXSIZE	0x04	/* entries: power of two */
#define NQ_TXHEAD	0x08	/* device: next to complete */
#define NQ_TXTAIL	0x0c	/* doorbell: one past the last posted */
#define NQ_RXBASE	0x10
#define NQ_RXSIZE	0x14
#define NQ_RXHEAD	0x18
#define NQ_RXTAIL	0x1c
#define NQ_QCTRL	0x20
#define   NQ_TXEN	0x1u
#define   NQ_RXEN	0x2u
#define NQ_QSTATUS	0x24
#define   NQS_TXERR	0x10u
#define   NQS_RXERR	0x20u
#define NQ_ITR		0x28	/* cycles between interrupts */
#define NQ_CAUSE	0x30	/* write 1 to clear */
#define NQ_IMASK	0x34
#define   NC_TXDONE	0x1u
#define   NC_RXDONE	0x2u
#define   NC_RXDROP	0x4u
#define   NC_ERROR	0x8u
#define   NC_ALL	0x1fu

/* descriptor (16 bytes, little-endian) */
struct nic_desc {
	uint32_t addr;		/* buffer IOVA */
	uint32_t addr_hi;	/* must be 0 */
	uint16_t len;		/* TX: bytes to send; RX: buffer size in, frame length out */
	uint8_t cmd;
	uint8_t status;		/* written by the device */
	uint32_t hash;		/* RX: the steering hash */
};
#define NIC_CMD_EOP	0x01
#define NIC_CMD_RS	0x08
#define NIC_STA_DD	0x01
#define NIC_STA_ERR(s)	(((s) >> 4) & 0xf)

#define NICQ_BUF	2048	/* one frame per buffer: the NIC's frames are at most 1514 bytes */
#define NICQ_NOBUF	0xffffu
#define NICQ_MAX_RING	4096
#define NICQ_MAX_BUFS	8192	/* 16 MiB of buffers */

struct nicq {
	struct plat_nic pn;
	uint32_t size;			/* entries per ring */
	volatile struct nic_desc *tx, *rx;
	uint32_t tx_tail, tx_next;	/* posted up to tail; reaped up to next */
	uint32_t rx_tail, rx_next;
	uint16_t *tx_buf, *rx_buf;	/* the buffer in each slot */
	uint8_t *pool;			/* nbufs buffers of NICQ_BUF bytes */
	uint32_t pool_iova, nbufs;
	uint16_t *free;			/* a stack of free buffer ids */
	uint32_t nfree;
	int irq;			/* interrupt-driven receive */
	uint32_t tx_errors;
};

/* Rings of `size` entries and a pool of `nbufs` buffers from the platform's DMA memory, the
   queue enabled and RX posted; with `irq`, RX completions interrupt (moderated by `itr`). */
int nicq_init(struct nicq *q, uint32_t size, uint32_t nbufs, int irq, uint32_t itr);
static inline uint8_t *nicq_buf(struct nicq *q, uint32_t b) { return q->pool + b * NICQ_BUF; }
uint32_t nicq_buf_alloc(struct nicq *q);	/* NICQ_NOBUF if none */
void nicq_buf_free(struct nicq *q, uint32_t b);
/* The next received frame: 1 with its buffer (now the caller's), length and status. The slot
   is refilled from the pool. */
int nicq_rx(struct nicq *q, uint32_t *buf, uint32_t *len, uint32_t *status);
/* Post free buffers to the empty RX slots (nicq_rx does so too; call it after freeing). */
void nicq_rx_refill(struct nicq *q);
/* Post buffer `b` (`len` bytes) for sending: the ring owns it until reaped. -1 if full. */
int nicq_tx(struct nicq *q, uint32_t b, uint32_t len);
/* Free the buffers of completed TX descriptors; returns how many. */
uint32_t nicq_tx_reap(struct nicq *q);
uint32_t nicq_tx_pending(struct nicq *q);
/* Acknowledge the queue's interrupt causes (before looking at the rings). */
void nicq_ack(struct nicq *q);
uint32_t nicq_reg(struct nicq *q, uint32_t off);

#endif
