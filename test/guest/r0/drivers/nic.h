/* The multi-queue NIC (machine/nic.ts): per-queue TX and RX rings of 16-byte descriptors in
   guest memory, head/tail registers, an MSI-X vector per queue, FENCE/DRAINED. */

#ifndef NIC_H
#define NIC_H

#include <stdint.h>
#include "pci.h"
#include "msix.h"

#define NIC_VENDOR	0xe1ab
#define NIC_DEVICE	0x0010

/* global registers */
#define NIC_CTRL	0x000
#define NIC_STATUS	0x004
#define NIC_NQUEUES	0x008
#define NIC_RXRECV	0x030
#define NIC_RXDELIV	0x034
#define NIC_RXDROP	0x038
#define NIC_TXSENT	0x03c
#define NIC_DROPS(r)	(0x040 + 4 * (r))
#define NIC_DROP_RING_FULL	0
#define NIC_DROP_FENCED		1
#define NIC_DROP_BAD_DESC	2
#define NIC_DROP_IOMMU		3
#define NIC_DROP_TOO_LONG	4
#define NIC_DROP_LINK_DOWN	5
#define NIC_DROP_RESET		6
#define NIC_DROP_REASONS	7

/* per-queue registers at 0x1000 + 0x100 q */
#define NIC_Q(q, r)	(0x1000 + 0x1000 * (q) + (r))
#define NQ_TXBASE	0x00
#define NQ_TXSIZE	0x04
#define NQ_TXHEAD	0x08
#define NQ_TXTAIL	0x0c
#define NQ_RXBASE	0x10
#define NQ_RXSIZE	0x14
#define NQ_RXHEAD	0x18
#define NQ_RXTAIL	0x1c
#define NQ_QCTRL	0x20
#define   NQ_TXEN	0x1u
#define   NQ_RXEN	0x2u
#define   NQ_FENCE	0x4u
#define NQ_QSTATUS	0x24
#define   NQS_TXON	0x1u
#define   NQS_RXON	0x2u
#define   NQS_FENCED	0x4u
#define   NQS_DRAINED	0x8u
#define   NQS_TXERR	0x10u
#define   NQS_RXERR	0x20u
#define   NQS_TXCODE(s)	(((s) >> 8) & 0xf)
#define   NQS_RXCODE(s)	(((s) >> 12) & 0xf)
#define NQ_ITR		0x28
#define NQ_VEC		0x2c
#define NQ_CAUSE	0x30
#define NQ_IMASK	0x34
#define   NC_TXDONE	0x1u
#define   NC_RXDONE	0x2u
#define   NC_RXDROP	0x4u
#define   NC_ERROR	0x8u
#define   NC_DRAINED	0x10u
#define NQ_INFLIGHT	0x38
#define NQ_RXFRAMES	0x3c
#define NQ_RXDROPS	0x40
#define NQ_TXFRAMES	0x44

/* descriptor errors (status 7:4, and QSTATUS codes) */
#define NIC_ERR_BAD_DESC	1
#define NIC_ERR_DMA		2
#define NIC_ERR_TOO_LONG	3
#define NIC_ERR_RING_CONFIG	4
#define NIC_ERR_BAD_TAIL	5
#define NIC_ERR_RING_FETCH	6

struct nic_desc {
	uint32_t addr;
	uint32_t addr_hi;
	uint16_t len;
	uint8_t cmd;
	volatile uint8_t status;
	uint32_t hash;
};
#define NIC_CMD_EOP	0x01
#define NIC_CMD_RS	0x08
#define NIC_STA_DD	0x01
#define NIC_STA_EOP	0x02
#define NIC_STA_ERR(s)	(((s) >> 4) & 0xf)

struct nic_ring {
	volatile struct nic_desc *desc;
	uint32_t size;		/* power of two */
	uint32_t tail;		/* next slot the driver posts */
	uint32_t next;		/* next slot the driver reaps */
	uint8_t *bufs;		/* size buffers of `bufsize` bytes */
	uint32_t bufsize;
};

struct nic {
	struct pci_dev *pci;
	uint32_t regs;		/* BAR0 */
	struct msix msix;
	uint32_t q;
	struct nic_ring tx, rx;
};

uint32_t nic_read(struct nic *n, uint32_t reg);
void nic_write(struct nic *n, uint32_t reg, uint32_t v);
uint32_t nic_qread(struct nic *n, uint32_t reg);
void nic_qwrite(struct nic *n, uint32_t reg, uint32_t v);

/* Find the NIC among `devs`, enable it (bus master), locate MSI-X; 0 on success. */
int nic_probe(struct nic *n, struct pci_dev *devs, int ndevs);
/* Rings and buffers for queue q (both enabled; RX descriptors all posted). */
void nic_queue_init(struct nic *n, uint32_t q, struct nic_desc *tx, uint8_t *txbufs, uint32_t txsize,
		    struct nic_desc *rx, uint8_t *rxbufs, uint32_t rxsize, uint32_t bufsize);
/* Interrupt causes `imask` of the queue go to MSI-X entry q -> (dest, vector), unmasked. */
void nic_queue_irq(struct nic *n, uint32_t dest, uint32_t vector, uint32_t imask);
/* Post the free RX descriptors up to size - 1 in the ring. */
void nic_rx_refill(struct nic *n);
/* The next completed RX descriptor: 1 with frame/len/status set (hand it back with
   nic_rx_release), or 0 if none. */
int nic_rx_poll(struct nic *n, uint8_t **frame, uint32_t *len, uint32_t *status);
void nic_rx_release(struct nic *n);
/* Copy a frame into the next TX buffer and post it; -1 if the ring is full. */
int nic_tx_send(struct nic *n, const void *frame, uint32_t len);
/* Reap completed TX descriptors; returns how many; errors counted in *errors (may be 0). */
uint32_t nic_tx_reap(struct nic *n, uint32_t *errors);
/* TX descriptors posted and not reaped. */
uint32_t nic_tx_pending(struct nic *n);

#endif
