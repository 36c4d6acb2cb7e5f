/* The NIC queue driver: descriptor rings over a pool of packet buffers. A buffer moves between
   the free stack, an RX slot, the LibOS (a received frame), and a TX slot; so a received frame
   can be sent back from where it lies (zero copy) while its RX slot takes a fresh buffer. */

#include "libc.h"
#include "nicq.h"

/* Bookkeeping the device never sees: ordinary memory, not DMA memory. One queue per LibOS. */
static uint16_t txBufOf[NICQ_MAX_RING], rxBufOf[NICQ_MAX_RING], freeIds[NICQ_MAX_BUFS];

static void regWrite(struct nicq *q, uint32_t off, uint32_t v) { q->pn.qregs[off / 4] = v; }
uint32_t nicq_reg(struct nicq *q, uint32_t off) { return q->pn.qregs[off / 4]; }

/* Descriptors are plain memory the device reads: order the stores before the doorbell. */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

uint32_t nicq_buf_alloc(struct nicq *q)
{
	return q->nfree ? q->free[--q->nfree] : NICQ_NOBUF;
}

void nicq_buf_free(struct nicq *q, uint32_t b)
{
	if (b < q->nbufs && q->nfree < q->nbufs)
		q->free[q->nfree++] = (uint16_t)b;
}

static int dmaTake(uint32_t bytes, uint32_t align, uint32_t flags, struct plat_dma *d, const char *what)
{
	if (plat_dma_alloc(bytes, align, flags, d) == 0)
		return 0;
	printf("net: no DMA memory for %s (%u bytes)\n", what, bytes);
	return -1;
}

/* Post empty buffers to RX slots from tail on, leaving one slot empty (tail == next: none). */
void nicq_rx_refill(struct nicq *q)
{
	uint32_t m = q->size - 1, posted = 0;

	while (((q->rx_tail + 1) & m) != q->rx_next) {
		uint32_t b = nicq_buf_alloc(q);
		if (b == NICQ_NOBUF)
			break;
		volatile struct nic_desc *d = &q->rx[q->rx_tail];
		q->rx_buf[q->rx_tail] = (uint16_t)b;
		d->addr = q->pool_iova + b * NICQ_BUF;
		d->addr_hi = 0;
		d->len = NICQ_BUF;
		d->cmd = 0;
		d->status = 0;
		q->rx_tail = (q->rx_tail + 1) & m;
		posted++;
	}
	if (posted) {
		barrier();
		regWrite(q, NQ_RXTAIL, q->rx_tail);
	}
}

int nicq_init(struct nicq *q, uint32_t size, uint32_t nbufs, int irq, uint32_t itr)
{
	struct plat_dma txr, rxr, pool;

	memset(q, 0, sizeof *q);
	if (size < 8 || size > NICQ_MAX_RING || (size & (size - 1)) || nbufs < 2 * size || nbufs > NICQ_MAX_BUFS) {
		printf("net: bad ring size %u or buffer count %u\n", size, nbufs);
		return -1;
	}
	if (plat_nic_open(&q->pn) != 0) {
		printf("net: no NIC queue\n");
		return -1;
	}
	uint32_t ringBytes = size * sizeof(struct nic_desc);
	if (dmaTake(ringBytes, 4096, PLAT_DMA_DEV_WRITE | PLAT_DMA_ZERO, &txr, "the TX ring") ||
	    dmaTake(ringBytes, 4096, PLAT_DMA_DEV_WRITE | PLAT_DMA_ZERO, &rxr, "the RX ring") ||
	    dmaTake(nbufs * NICQ_BUF, 4096, PLAT_DMA_DEV_WRITE, &pool, "the buffer pool"))
		return -1;
	q->size = size;
	q->tx = txr.va;
	q->rx = rxr.va;
	q->pool = pool.va;
	q->pool_iova = pool.iova;
	q->nbufs = nbufs;
	q->tx_buf = txBufOf;
	q->rx_buf = rxBufOf;
	q->free = freeIds;
	for (uint32_t b = nbufs; b-- > 0;)
		q->free[q->nfree++] = (uint16_t)b;
	q->irq = irq;

	regWrite(q, NQ_QCTRL, 0);
	regWrite(q, NQ_TXBASE, txr.iova);
	regWrite(q, NQ_TXSIZE, size);
	regWrite(q, NQ_RXBASE, rxr.iova);
	regWrite(q, NQ_RXSIZE, size);
	regWrite(q, NQ_CAUSE, NC_ALL);
	regWrite(q, NQ_ITR, itr);
	if (irq) {
		if (plat_nic_irq_enable(&q->pn) != 0) {
			printf("net: the platform cannot deliver the queue's interrupt\n");
			return -1;
		}
		/* RX done and RX drops (a full ring) wake the receiver; TX completions are reaped
		   on the way, they need no interrupt of their own */
		regWrite(q, NQ_IMASK, NC_RXDONE | NC_RXDROP | NC_ERROR);
	} else {
		regWrite(q, NQ_IMASK, 0);
	}
	regWrite(q, NQ_QCTRL, NQ_TXEN | NQ_RXEN);
	nicq_rx_refill(q);	/* the first RX buffers: the wire starts now */
	return 0;
}

int nicq_rx(struct nicq *q, uint32_t *buf, uint32_t *len, uint32_t *status)
{
	volatile struct nic_desc *d = &q->rx[q->rx_next];

	if (q->rx_next == q->rx_tail || !(d->status & NIC_STA_DD))
		return 0;
	barrier();
	uint32_t l = d->len;
	*buf = q->rx_buf[q->rx_next];
	*len = l > NICQ_BUF ? NICQ_BUF : l;	/* the device is trusted no further than the buffer */
	*status = d->status;
	q->rx_buf[q->rx_next] = NICQ_NOBUF;
	q->rx_next = (q->rx_next + 1) & (q->size - 1);
	nicq_rx_refill(q);
	return 1;
}

int nicq_tx(struct nicq *q, uint32_t b, uint32_t len)
{
	uint32_t m = q->size - 1, slot = q->tx_tail;

	if (((slot + 1) & m) == q->tx_next || len == 0 || len > NICQ_BUF)
		return -1;
	volatile struct nic_desc *d = &q->tx[slot];
	q->tx_buf[slot] = (uint16_t)b;
	d->addr = q->pool_iova + b * NICQ_BUF;
	d->addr_hi = 0;
	d->len = (uint16_t)len;
	d->cmd = NIC_CMD_EOP | NIC_CMD_RS;
	d->status = 0;
	q->tx_tail = (slot + 1) & m;
	barrier();
	regWrite(q, NQ_TXTAIL, q->tx_tail);
	return 0;
}

uint32_t nicq_tx_reap(struct nicq *q)
{
	uint32_t done = 0;

	while (q->tx_next != q->tx_tail && (q->tx[q->tx_next].status & NIC_STA_DD)) {
		if (NIC_STA_ERR(q->tx[q->tx_next].status))
			q->tx_errors++;
		nicq_buf_free(q, q->tx_buf[q->tx_next]);
		q->tx_buf[q->tx_next] = NICQ_NOBUF;
		q->tx_next = (q->tx_next + 1) & (q->size - 1);
		done++;
	}
	return done;
}

uint32_t nicq_tx_pending(struct nicq *q)
{
	return (q->tx_tail - q->tx_next) & (q->size - 1);
}

void nicq_ack(struct nicq *q)
{
	regWrite(q, NQ_CAUSE, NC_ALL);
}
