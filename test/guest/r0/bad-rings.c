/* A guest that programs nonsense, on the `loop` wire with a disk: rings outside its memory,
   zero-length and odd-sized rings, a ring wrapping 4 GiB, a tail past the ring, descriptors
   naming unmapped IOVAs, RAM that is not there, zero lengths. Each must come back as an error
   status or an IOMMU fault; the devices keep working afterwards; power-off 0. */

#include "r0.h"
#include "board.h"
#include "nic.h"
#include "blk.h"

#define RING	8
#define BUF	2048
#define NOWHERE	0x30000000u	/* an IOVA no domain maps */
#define NORAM	0x31000000u	/* an IOVA mapped to physical memory past the end of RAM */

static struct nic_desc txr[RING] __attribute__((aligned(4096)));
static struct nic_desc rxr[RING] __attribute__((aligned(4096)));
static uint8_t txb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t rxb[RING * BUF] __attribute__((aligned(4096)));
static struct blk_sqe sq[RING] __attribute__((aligned(4096)));
static struct blk_cqe cq[RING] __attribute__((aligned(4096)));
static uint8_t sect[4096] __attribute__((aligned(4096)));
static struct nic nic;
static struct blk blk;
static struct iommu_domain ndom, bdom;

static void drainFaults(uint32_t *n, uint32_t *reason)
{
	struct iommu_fault f;

	while (iommu_fault_take(&f)) {
		(*n)++;
		*reason = f.reason;
	}
}

/* TX ring at `base` with `size` entries, enabled, tail written: QSTATUS after a while. */
static uint32_t txRing(uint32_t base, uint32_t size, uint32_t tail)
{
	nic_qwrite(&nic, NQ_QCTRL, 0);
	nic_qwrite(&nic, NQ_TXBASE, base);
	nic_qwrite(&nic, NQ_TXSIZE, size);
	nic_qwrite(&nic, NQ_QCTRL, NQ_TXEN);
	nic_qwrite(&nic, NQ_TXTAIL, tail);
	r0_wait(20000, 0, 0);
	return nic_qread(&nic, NQ_QSTATUS);
}

/* One TX descriptor on a good ring: its status once done. */
static uint32_t txDesc(uint32_t addr, uint32_t addrHi, uint16_t len)
{
	nic_queue_init(&nic, 0, txr, txb, RING, rxr, rxb, RING, BUF);
	txr[0].addr = addr;
	txr[0].addr_hi = addrHi;
	txr[0].len = len;
	txr[0].cmd = NIC_CMD_EOP | NIC_CMD_RS;
	txr[0].status = 0;
	nic_qwrite(&nic, NQ_TXTAIL, 1);
	r0_wait(20000, 0, 0);
	return txr[0].status;
}

static void nicCases(void)
{
	uint32_t n = 0, reason = 0, s;

	s = txRing(NOWHERE, RING, 1);
	drainFaults(&n, &reason);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_RING_FETCH && n == 1 && reason == IOMMU_NOT_MAPPED,
		 "nic-ring-unmapped", "QSTATUS %x faults %u reason %u", s, n, reason);
	n = 0;
	s = txRing(NORAM, RING, 1);
	drainFaults(&n, &reason);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_RING_FETCH && n == 1 && reason == IOMMU_OUTSIDE_RAM,
		 "nic-ring-outside-ram", "QSTATUS %x faults %u reason %u", s, n, reason);
	s = txRing((uint32_t)txr, 0, 0);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_RING_CONFIG, "nic-ring-zero-length", "QSTATUS %x", s);
	s = txRing((uint32_t)txr, 3, 1);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_RING_CONFIG, "nic-ring-size-3", "QSTATUS %x", s);
	s = txRing(0xffffff00u, 64, 1);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_RING_CONFIG, "nic-ring-wraps-4g", "QSTATUS %x", s);
	s = txRing((uint32_t)txr, RING, RING + 5);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_BAD_TAIL, "nic-tail-past-ring", "QSTATUS %x", s);
	s = txRing((uint32_t)txr, RING, 0xffff);
	r0_check((s & NQS_TXERR) && NQS_TXCODE(s) == NIC_ERR_BAD_TAIL, "nic-tail-0xffff", "QSTATUS %x", s);

	n = 0;
	uint32_t sent = nic_read(&nic, NIC_TXSENT);
	s = txDesc(NOWHERE, 0, 64);
	drainFaults(&n, &reason);
	r0_check((s & NIC_STA_DD) && NIC_STA_ERR(s) == NIC_ERR_DMA && n == 1 && reason == IOMMU_NOT_MAPPED,
		 "nic-desc-unmapped-iova", "status %x faults %u reason %u", s, n, reason);
	n = 0;
	s = txDesc(NORAM, 0, 64);
	drainFaults(&n, &reason);
	r0_check((s & NIC_STA_DD) && NIC_STA_ERR(s) == NIC_ERR_DMA && n == 1 && reason == IOMMU_OUTSIDE_RAM,
		 "nic-desc-outside-ram", "status %x faults %u reason %u", s, n, reason);
	s = txDesc((uint32_t)txb, 0, 0);
	r0_check((s & NIC_STA_DD) && NIC_STA_ERR(s) == NIC_ERR_BAD_DESC, "nic-desc-zero-length", "status %x", s);
	s = txDesc((uint32_t)txb, 1, 64);
	r0_check((s & NIC_STA_DD) && NIC_STA_ERR(s) == NIC_ERR_BAD_DESC, "nic-desc-high-address", "status %x", s);
	s = txDesc((uint32_t)txb, 0, 40000);
	r0_check((s & NIC_STA_DD) && NIC_STA_ERR(s) == NIC_ERR_BAD_DESC, "nic-desc-too-big", "status %x", s);
	r0_check(nic_read(&nic, NIC_TXSENT) == sent, "nic-bad-descs-not-sent", "TXSENT %u -> %u", sent, nic_read(&nic, NIC_TXSENT));

	/* RX: a descriptor ring the device cannot read when a frame comes */
	nic_qwrite(&nic, NQ_QCTRL, 0);
	nic_qwrite(&nic, NQ_RXBASE, NOWHERE);
	nic_qwrite(&nic, NQ_RXSIZE, RING);
	nic_qwrite(&nic, NQ_TXBASE, (uint32_t)txr);
	nic_qwrite(&nic, NQ_TXSIZE, RING);
	nic_qwrite(&nic, NQ_QCTRL, NQ_TXEN | NQ_RXEN);
	nic_qwrite(&nic, NQ_RXTAIL, RING - 1);
	nic.tx.tail = nic.tx.next = 0;
	nic_tx_send(&nic, txb, 60);
	r0_wait(40000, 0, 0);
	s = nic_qread(&nic, NQ_QSTATUS);
	n = 0;
	drainFaults(&n, &reason);
	r0_check((s & NQS_RXERR) && NQS_RXCODE(s) == NIC_ERR_RING_FETCH && n >= 1, "nic-rx-ring-unmapped",
		 "QSTATUS %x faults %u", s, n);

	/* and after all that, a good queue works */
	nic_queue_init(&nic, 0, txr, txb, RING, rxr, rxb, RING, BUF);
	fill_pattern(txb + BUF, 100, 9);
	nic_tx_send(&nic, txb + BUF, 100);
	uint8_t *p;
	uint32_t len = 0;
	uint64_t t0 = r0_rdtsc();
	while (!nic_rx_poll(&nic, &p, &len, &s) && r0_rdtsc() - t0 < 2000000)
		;
	r0_check(len == 100 && NIC_STA_ERR(s) == 0 && fnv32(p, 100) == fnv32(txb + BUF, 100), "nic-recovers",
		 "len %u status %x", len, s);
	uint32_t recv = nic_read(&nic, NIC_RXRECV), deliv = nic_read(&nic, NIC_RXDELIV), drop = nic_read(&nic, NIC_RXDROP);
	r0_check(recv == deliv + drop, "nic-accounting", "received %u delivered %u dropped %u", recv, deliv, drop);
}

static uint32_t blkQueue(uint32_t sqbase, uint32_t sqsize)
{
	blk_write(&blk, BLK_Q(0, BQ_QCTRL), 0);
	blk_write(&blk, BLK_Q(0, BQ_SQBASE), sqbase);
	blk_write(&blk, BLK_Q(0, BQ_SQSIZE), sqsize);
	blk_write(&blk, BLK_Q(0, BQ_CQBASE), (uint32_t)cq);
	blk_write(&blk, BLK_Q(0, BQ_CQSIZE), RING);
	blk_write(&blk, BLK_Q(0, BQ_QCTRL), BQ_EN);
	blk_write(&blk, BLK_SQ_DOORBELL(0), 1);
	r0_wait(100000, 0, 0);
	return blk_read(&blk, BLK_Q(0, BQ_QSTATUS));
}

static void blkCases(void)
{
	uint32_t n = 0, reason = 0, s;

	s = blkQueue(NOWHERE, RING);
	drainFaults(&n, &reason);
	r0_check((s & BQS_FATAL) && BQS_REASON(s) == 4 && n == 1, "blk-sq-unmapped", "QSTATUS %x faults %u", s, n);
	s = blkQueue((uint32_t)sq, 0);
	r0_check((s & BQS_FATAL) && BQS_REASON(s) == 3 && !(s & BQS_RUN), "blk-sq-zero-length", "QSTATUS %x", s);
	blk_queue_init(&blk, 0, sq, RING, cq, RING, 0, 0, 0);
	blk_write(&blk, BLK_SQ_DOORBELL(0), RING + 3);
	s = blk_read(&blk, BLK_Q(0, BQ_QSTATUS));
	r0_check((s & BQS_DBERR) && (s & BQS_RUN), "blk-doorbell-past-ring", "QSTATUS %x", s);
	blk_queue_init(&blk, 0, sq, RING, cq, RING, 0, 0, 0);
	n = 0;
	s = blk_io(&blk, BLK_OP_READ, 0, 1, (void *)NOWHERE);
	drainFaults(&n, &reason);
	r0_check(s == BLK_SC_DATA_TRANSFER && n == 1, "blk-data-unmapped", "status %x faults %u", s, n);
	s = blk_io(&blk, BLK_OP_READ, 0, 1, (void *)NORAM);
	r0_check(s == BLK_SC_DATA_TRANSFER, "blk-data-outside-ram", "status %x", s);
	drainFaults(&n, &reason);
	s = blk_io(&blk, BLK_OP_READ, blk_read(&blk, BLK_CAP_LO), 1, sect);
	r0_check(s == BLK_SC_LBA_RANGE, "blk-lba-past-end", "status %x", s);
	s = blk_io(&blk, BLK_OP_READ, 0, 0, sect);
	r0_check(s == BLK_SC_INVALID_FIELD, "blk-zero-count", "status %x", s);
	s = blk_io(&blk, BLK_OP_READ, 0, 1000, sect);
	r0_check(s == BLK_SC_INVALID_FIELD, "blk-count-over-max", "status %x", s);
	s = blk_io(&blk, BLK_OP_READ, 0, 1, sect);
	r0_check(s == BLK_SC_SUCCESS, "blk-recovers", "status %x", s);
}

int main(void)
{
	board_init();
	if (!r0_check(board_nic_up(&nic, &ndom, 1, txr, txb, RING, rxr, rxb, RING, BUF) == 0, "bad-nic-up", "no NIC"))
		return r0_finish();
	iommu_map(&ndom, NORAM, 0x7f000000u, PAGE, IOMMU_READ | IOMMU_WRITE);
	if (!r0_check(blk_probe(&blk, board_devs, board_ndevs) == 0, "bad-blk-up", "no block device"))
		return r0_finish();
	iommu_domain_init(&bdom, 2);
	iommu_attach(&bdom, blk.pci->rid);
	iommu_map(&bdom, (uint32_t)sq, (uint32_t)sq, sizeof sq, IOMMU_READ);
	iommu_map(&bdom, (uint32_t)cq, (uint32_t)cq, sizeof cq, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&bdom, (uint32_t)sect, (uint32_t)sect, sizeof sect, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&bdom, NORAM, 0x7f000000u, PAGE, IOMMU_READ | IOMMU_WRITE);
	iommu_invalidate();
	nicCases();
	blkCases();
	return r0_finish();
}
