/* NIC driver: queue setup, TX/RX rings, refill, polling. */

#include "r0.h"
#include "nic.h"

uint32_t nic_read(struct nic *n, uint32_t reg) { return r0_mmio_read(n->regs + reg); }
void nic_write(struct nic *n, uint32_t reg, uint32_t v) { r0_mmio_write(n->regs + reg, v); }
uint32_t nic_qread(struct nic *n, uint32_t reg) { return nic_read(n, NIC_Q(n->q, reg)); }
void nic_qwrite(struct nic *n, uint32_t reg, uint32_t v) { nic_write(n, NIC_Q(n->q, reg), v); }

int nic_probe(struct nic *n, struct pci_dev *devs, int ndevs)
{
	n->pci = pci_find(devs, ndevs, NIC_VENDOR, NIC_DEVICE);
	if (!n->pci || !n->pci->bar[0])
		return -1;
	n->regs = n->pci->bar[0];
	pci_enable(n->pci, 1);
	return msix_init(&n->msix, n->pci);
}

static void ringInit(struct nic_ring *r, struct nic_desc *d, uint8_t *bufs, uint32_t size, uint32_t bufsize)
{
	r->desc = d;
	r->size = size;
	r->tail = r->next = 0;
	r->bufs = bufs;
	r->bufsize = bufsize;
	for (uint32_t k = 0; k < size; k++) {
		d[k].addr = (uint32_t)(bufs + k * bufsize);
		d[k].addr_hi = 0;
		d[k].len = bufsize;
		d[k].cmd = 0;
		d[k].status = 0;
		d[k].hash = 0;
	}
}

void nic_queue_init(struct nic *n, uint32_t q, struct nic_desc *tx, uint8_t *txbufs, uint32_t txsize,
		    struct nic_desc *rx, uint8_t *rxbufs, uint32_t rxsize, uint32_t bufsize)
{
	n->q = q;
	nic_qwrite(n, NQ_QCTRL, 0);
	ringInit(&n->tx, tx, txbufs, txsize, bufsize);
	ringInit(&n->rx, rx, rxbufs, rxsize, bufsize);
	nic_qwrite(n, NQ_TXBASE, (uint32_t)tx);
	nic_qwrite(n, NQ_TXSIZE, txsize);
	nic_qwrite(n, NQ_RXBASE, (uint32_t)rx);
	nic_qwrite(n, NQ_RXSIZE, rxsize);
	nic_qwrite(n, NQ_QCTRL, NQ_TXEN | NQ_RXEN);
	nic_rx_refill(n);
}

void nic_queue_irq(struct nic *n, uint32_t dest, uint32_t vector, uint32_t imask)
{
	msix_set(&n->msix, n->q, dest, vector);
	msix_mask(&n->msix, n->q, 0);
	msix_enable(&n->msix, 1);
	nic_qwrite(n, NQ_VEC, n->q);
	nic_qwrite(n, NQ_CAUSE, 0x1f);
	nic_qwrite(n, NQ_IMASK, imask);
}

void nic_rx_refill(struct nic *n)
{
	struct nic_ring *r = &n->rx;
	uint32_t m = r->size - 1;

	while (((r->tail + 1) & m) != (r->next & m)) {
		r->desc[r->tail].len = r->bufsize;
		r->desc[r->tail].status = 0;
		r->tail = (r->tail + 1) & m;
	}
	nic_qwrite(n, NQ_RXTAIL, r->tail);
}

int nic_rx_poll(struct nic *n, uint8_t **frame, uint32_t *len, uint32_t *status)
{
	struct nic_ring *r = &n->rx;
	volatile struct nic_desc *d = &r->desc[r->next];

	if (r->next == r->tail || !(d->status & NIC_STA_DD))
		return 0;
	*frame = (uint8_t *)d->addr;
	*len = d->len;
	*status = d->status;
	return 1;
}

void nic_rx_release(struct nic *n)
{
	struct nic_ring *r = &n->rx;

	r->desc[r->next].status = 0;
	r->next = (r->next + 1) & (r->size - 1);
	nic_rx_refill(n);
}

int nic_tx_send(struct nic *n, const void *frame, uint32_t len)
{
	struct nic_ring *r = &n->tx;
	uint32_t m = r->size - 1, slot = r->tail;

	if (((slot + 1) & m) == r->next || len > r->bufsize)
		return -1;
	uint8_t *buf = r->bufs + slot * r->bufsize;
	const uint8_t *src = frame;

	if (src != buf)
		for (uint32_t k = 0; k < len; k++)
			buf[k] = src[k];
	r->desc[slot].addr = (uint32_t)buf;
	r->desc[slot].len = len;
	r->desc[slot].cmd = NIC_CMD_EOP | NIC_CMD_RS;
	r->desc[slot].status = 0;
	r->tail = (slot + 1) & m;
	nic_qwrite(n, NQ_TXTAIL, r->tail);
	return 0;
}

uint32_t nic_tx_reap(struct nic *n, uint32_t *errors)
{
	struct nic_ring *r = &n->tx;
	uint32_t done = 0;

	while (r->next != r->tail && (r->desc[r->next].status & NIC_STA_DD)) {
		if (errors && NIC_STA_ERR(r->desc[r->next].status))
			(*errors)++;
		r->desc[r->next].status = 0;
		r->next = (r->next + 1) & (r->size - 1);
		done++;
	}
	return done;
}

uint32_t nic_tx_pending(struct nic *n)
{
	return (n->tx.tail - n->tx.next) & (n->tx.size - 1);
}
