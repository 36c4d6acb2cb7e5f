/* The block device: queue pairs over IOMMU-mapped rings, WRITE of patterned sectors, READ
   back, FNV checksums compared, for many sizes up to MAXXFER; queue 0 completes by polling the
   phase bit, queue 1 by MSI-X. Sector 0 is read first and its checksum printed (the test
   compares it with the image file); nothing below LBA 1000 is written. */

#include "r0.h"
#include "board.h"
#include "blk.h"

#define MAXS	256
#define Q	8

static struct blk_sqe sq0[Q] __attribute__((aligned(4096)));
static struct blk_cqe cq0[Q] __attribute__((aligned(4096)));
static struct blk_sqe sq1[Q] __attribute__((aligned(4096)));
static struct blk_cqe cq1[Q] __attribute__((aligned(4096)));
static uint8_t wbuf[MAXS * BLK_SECTOR] __attribute__((aligned(4096)));
static uint8_t rbuf[MAXS * BLK_SECTOR] __attribute__((aligned(4096)));
static struct blk b0, b1;
static struct iommu_domain dom;
static volatile uint32_t irqs;

static void onBlk(struct r0_frame *f)
{
	irqs++;
	lapic_eoi();
}

/* One command on queue 1, completion awaited in hlt (MSI-X), then taken from the CQ. */
static uint32_t ioIrq(uint8_t op, uint32_t lba, uint32_t count, void *buf)
{
	uint32_t seen = irqs, status;
	uint16_t want = blk_submit(&b1, op, lba, count, (uint32_t)buf), cid;

	for (int k = 0; k < 4 && irqs == seen; k++) {
		r0_cli();
		if (irqs == seen)
			board_halt(4000000);
		r0_sti();
	}
	if (irqs == seen)
		return 0xfffe;	/* no interrupt */
	uint64_t t0 = r0_rdtsc();
	while (r0_rdtsc() - t0 < 1000000)
		if (blk_poll(&b1, &status, &cid) && cid == want)
			return status;
	return 0xffff;
}

int main(void)
{
	static const uint16_t sizes[] = { 1, 2, 3, 8, 17, 64, 255, 256 };
	board_init();
	int ok = blk_probe(&b0, board_devs, board_ndevs) == 0;
	if (!r0_check(ok, "blk-probe", "no block device 0x0e10:0xb10c with MSI-X"))
		return r0_finish();
	b1 = b0;
	uint32_t cap = blk_read(&b0, BLK_CAP_LO);
	r0_check(b0.pci->class_code == 0x010802 && blk_read(&b0, BLK_QUEUES) >= 2 && cap > 4096, "blk-identity",
		 "class %x queues %u capacity %u", b0.pci->class_code, blk_read(&b0, BLK_QUEUES), cap);
	r0_printf("blk capacity %u sectors\n", cap);
	iommu_domain_init(&dom, 2);
	iommu_attach(&dom, b0.pci->rid);
	iommu_map(&dom, (uint32_t)sq0, (uint32_t)sq0, sizeof sq0, IOMMU_READ);
	iommu_map(&dom, (uint32_t)sq1, (uint32_t)sq1, sizeof sq1, IOMMU_READ);
	iommu_map(&dom, (uint32_t)cq0, (uint32_t)cq0, sizeof cq0, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&dom, (uint32_t)cq1, (uint32_t)cq1, sizeof cq1, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&dom, (uint32_t)wbuf, (uint32_t)wbuf, sizeof wbuf, IOMMU_READ);
	iommu_map(&dom, (uint32_t)rbuf, (uint32_t)rbuf, sizeof rbuf, IOMMU_READ | IOMMU_WRITE);
	iommu_invalidate();
	iommu_enable(1);
	r0_set_handler(VEC_BLK + 1, onBlk);
	uint32_t s0 = blk_queue_init(&b0, 0, sq0, Q, cq0, Q, 0, 0, 0);
	uint32_t s1 = blk_queue_init(&b1, 1, sq1, Q, cq1, Q, 1, lapic_id(), VEC_BLK + 1);
	r0_check((s0 & BQS_RUN) && (s1 & BQS_RUN), "blk-queues-run", "QSTATUS %x %x", s0, s1);

	uint32_t st = blk_io(&b0, BLK_OP_READ, 0, 1, rbuf);
	r0_check(st == BLK_SC_SUCCESS, "blk-read-sector0", "status %x", st);
	r0_printf("blk sector0 fnv %08x\n", fnv32(rbuf, BLK_SECTOR));

	uint32_t bad[2] = { 0, 0 };
	for (uint32_t k = 0; k < 2 * sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k % 8], lba = 1000 + 300 * (k % 8) + (k / 8) * 7, bytes = n * BLK_SECTOR;
		int irq = k >= 8;
		fill_pattern(wbuf, bytes, 31 * k + n);
		for (uint32_t j = 0; j < bytes; j++)
			rbuf[j] = 0;
		uint32_t ws = irq ? ioIrq(BLK_OP_WRITE, lba, n, wbuf) : blk_io(&b0, BLK_OP_WRITE, lba, n, wbuf);
		uint32_t rs = irq ? ioIrq(BLK_OP_READ, lba, n, rbuf) : blk_io(&b0, BLK_OP_READ, lba, n, rbuf);
		uint32_t hw = fnv32(wbuf, bytes), hr = fnv32(rbuf, bytes);
		r0_printf("blk %s lba %u sectors %u: write %x read %x fnv %08x/%08x\n", irq ? "msix" : "poll", lba, n, ws, rs, hw, hr);
		if (ws || rs || hw != hr)
			bad[irq]++;
	}
	r0_check(bad[0] == 0, "blk-rw-checksums-poll", "%u of 8 transfers differ or failed", bad[0]);
	r0_check(bad[1] == 0, "blk-rw-checksums-msix", "%u of 8 transfers differ or failed", bad[1]);
	r0_check(irqs >= 16, "blk-msix-completions", "%u interrupts for 16 commands", irqs);
	st = blk_io(&b0, BLK_OP_FLUSH, 0, 0, 0);
	r0_check(st == BLK_SC_SUCCESS, "blk-flush", "status %x", st);
	/* many commands in flight on one queue, completions reaped by phase across a CQ wrap */
	for (uint32_t k = 0; k < Q - 1; k++)
		blk_submit(&b0, BLK_OP_READ, 1000 + 300 * k, 4, (uint32_t)(rbuf + k * 4 * BLK_SECTOR));
	uint32_t got = 0, errs = 0, status;
	uint16_t cid;
	uint64_t t0 = r0_rdtsc();
	while (got < Q - 1 && r0_rdtsc() - t0 < 20000000)
		if (blk_poll(&b0, &status, &cid)) {
			got++;
			errs += status != 0;
		}
	r0_check(got == Q - 1 && errs == 0, "blk-batch-phase", "%u completions, %u errors", got, errs);
	r0_check(blk_read(&b0, BLK_DMAERR) == 0 && !(iommu_read(IOMMU_FSTS) & IOMMU_FSTS_PPF), "blk-no-dma-faults",
		 "DMAERR %u FSTS %x", blk_read(&b0, BLK_DMAERR), iommu_read(IOMMU_FSTS));
	return r0_finish();
}
