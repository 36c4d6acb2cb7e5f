/* The NIC on the `loop` wire: enumerate, an IOMMU domain for the NIC with its rings and
   buffers mapped (TX buffers read-only), send N frames of many sizes, receive them back
   byte-exact with MSI-X interrupts (sti;hlt between frames). */

#include "r0.h"
#include "board.h"
#include "nic.h"

#define RING	64
#define BUF	2048
#define N	40

static struct nic_desc txr[RING] __attribute__((aligned(4096)));
static struct nic_desc rxr[RING] __attribute__((aligned(4096)));
static uint8_t txb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t rxb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t frame[BUF];
static struct nic nic;
static struct iommu_domain dom;
static volatile uint32_t irqs;

static void onNic(struct r0_frame *f)
{
	irqs++;
	nic_qwrite(&nic, NQ_CAUSE, NC_RXDONE | NC_TXDONE);
	lapic_eoi();
}

static uint32_t frameLen(int k)
{
	static const uint16_t sizes[] = { 60, 64, 65, 128, 511, 512, 1000, 1514 };
	return sizes[k % 8];
}

static void makeFrame(int k)
{
	fill_pattern(frame, frameLen(k), 100 + k);
	for (int j = 0; j < 6; j++)
		frame[j] = 0xff;	/* broadcast */
	frame[12] = 0x88;
	frame[13] = 0xb5;		/* local experimental EtherType */
	frame[14] = (uint8_t)k;
}

int main(void)
{
	board_init();
	r0_check(board_ndevs >= 1, "pci-enumerate", "%d functions", board_ndevs);
	int found = nic_probe(&nic, board_devs, board_ndevs) == 0;
	if (!r0_check(found, "nic-probe", "no NIC 0xe1ab:0x0010 with MSI-X on bus 0"))
		return r0_finish();
	struct pci_dev *d = nic.pci;
	r0_check(d->dev == 2 && d->fn == 0 && d->class_code == 0x020000, "nic-identity", "00:%x.%u class %x", d->dev, d->fn, d->class_code);
	r0_check(d->bar_size[0] == 0x20000 && d->bar[0] >= 0xc0000000u && d->bar_size[1] >= 4096, "nic-bar-sizing",
		 "bar0 %x size %x bar1 size %x", d->bar[0], d->bar_size[0], d->bar_size[1]);
	uint32_t nq = nic_read(&nic, NIC_NQUEUES);
	r0_check(nic.msix.vectors == nq + 1 && nic.msix.cap >= 0x40, "nic-msix-cap", "cap %x vectors %u queues %u",
		 nic.msix.cap, nic.msix.vectors, nq);

	iommu_domain_init(&dom, 1);
	iommu_attach(&dom, d->rid);
	iommu_map(&dom, (uint32_t)txr, (uint32_t)txr, sizeof txr, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&dom, (uint32_t)rxr, (uint32_t)rxr, sizeof rxr, IOMMU_READ | IOMMU_WRITE);
	iommu_map(&dom, (uint32_t)txb, (uint32_t)txb, sizeof txb, IOMMU_READ);
	iommu_map(&dom, (uint32_t)rxb, (uint32_t)rxb, sizeof rxb, IOMMU_READ | IOMMU_WRITE);
	uint32_t inv = iommu_invalidate();
	r0_check(inv > 0, "iommu-invalidate-wait", "the WAIT descriptor never completed (IQE %x)", iommu_read(IOMMU_FSTS));
	r0_printf("iommu invalidation wait %u cycles\n", inv);
	iommu_enable(1);
	r0_check(iommu_read(IOMMU_GSTS) & IOMMU_TE, "iommu-enabled", "GSTS %x", iommu_read(IOMMU_GSTS));

	r0_set_handler(VEC_NIC, onNic);
	nic_queue_init(&nic, 0, txr, txb, RING, rxr, rxb, RING, BUF);
	nic_queue_irq(&nic, lapic_id(), VEC_NIC, NC_RXDONE);
	r0_check((nic_qread(&nic, NQ_QSTATUS) & (NQS_TXON | NQS_RXON)) == (NQS_TXON | NQS_RXON), "nic-queue-on",
		 "QSTATUS %x", nic_qread(&nic, NQ_QSTATUS));

	uint32_t sent = 0, got = 0, bad = 0, bytes = 0, txerr = 0, halts = 0;
	uint64_t t0 = r0_rdtsc();
	/* the first half one at a time, each waited for in hlt (interrupt-driven); the rest in a
	   burst of up to RING/2 in flight, received by polling */
	while (got < N && r0_rdtsc() - t0 < 200000000ull) {
		uint32_t window = sent < N / 2 ? 1 : RING / 2;
		while (sent < N && sent - got < window && nic_tx_pending(&nic) < RING / 2) {
			makeFrame(sent);
			if (nic_tx_send(&nic, frame, frameLen(sent)) == 0)
				sent++;
		}
		nic_tx_reap(&nic, &txerr);
		uint8_t *p;
		uint32_t len, st;
		if (nic_rx_poll(&nic, &p, &len, &st)) {
			makeFrame(got);
			int same = len == frameLen(got) && NIC_STA_ERR(st) == 0 && fnv32(p, len) == fnv32(frame, len);
			for (uint32_t j = 0; same && j < len; j++)
				same = p[j] == frame[j];
			if (!same && bad++ < 3)
				r0_printf("frame %u: len %u (want %u) status %x\n", got, len, frameLen(got), st);
			bytes += len;
			got++;
			nic_rx_release(&nic);
			continue;
		}
		r0_cli();
		if (!(rxr[nic.rx.next].status & NIC_STA_DD)) {
			halts++;
			board_halt(2000000);	/* an RXDONE interrupt wakes it */
		}
		r0_sti();
	}
	while (nic_tx_pending(&nic) && r0_rdtsc() - t0 < 200000000ull)
		nic_tx_reap(&nic, &txerr);
	r0_printf("nic-loop sent %u received %u bytes %u interrupts %u halts %u\n", sent, got, bytes, irqs, halts);
	r0_check(got == N && bad == 0, "loop-frames-byte-exact", "%u of %u received, %u differ", got, N, bad);
	r0_check(txerr == 0, "loop-tx-status", "%u TX descriptors with errors", txerr);
	r0_check(halts >= N / 2 && irqs >= halts, "loop-msix-interrupts", "%u interrupts for %u waits in hlt", irqs, halts);
	r0_check(nic_read(&nic, NIC_TXSENT) == N && nic_read(&nic, NIC_RXDELIV) == N && nic_read(&nic, NIC_RXDROP) == 0,
		 "loop-counters", "sent %u delivered %u dropped %u", nic_read(&nic, NIC_TXSENT), nic_read(&nic, NIC_RXDELIV),
		 nic_read(&nic, NIC_RXDROP));
	r0_check(board_fault_msis == 0 && !(iommu_read(IOMMU_FSTS) & IOMMU_FSTS_PPF), "loop-no-dma-faults",
		 "fault MSIs %u FSTS %x", board_fault_msis, iommu_read(IOMMU_FSTS));
	return r0_finish();
}
