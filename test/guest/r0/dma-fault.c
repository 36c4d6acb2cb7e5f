/* A DMA to an unmapped IOVA, on the `loop` wire: RX descriptor 0 names a buffer in RAM that
   the NIC's domain does not map. The frame is dropped (reason iommu fault), the descriptor
   says DMA fault, the IOMMU records requester/address/reason and sends its fault MSI, and the
   buffer is untouched. Then a TX buffer at an unmapped IOVA: read fault, nothing sent. */

#include "r0.h"
#include "board.h"
#include "nic.h"

#define RING	16
#define BUF	2048

static struct nic_desc txr[RING] __attribute__((aligned(4096)));
static struct nic_desc rxr[RING] __attribute__((aligned(4096)));
static uint8_t txb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t rxb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t victim[4096] __attribute__((aligned(4096)));	/* never mapped for the NIC */
static uint8_t frame[128];
static struct nic nic;
static struct iommu_domain dom;

static int waitDD(volatile struct nic_desc *d)
{
	uint64_t t0 = r0_rdtsc();

	while (!(d->status & NIC_STA_DD))
		if (r0_rdtsc() - t0 > 2000000)
			return 0;
	return 1;
}

static void waitFaultMsi(uint32_t want)
{
	for (int k = 0; k < 4 && board_fault_msis < want; k++) {
		r0_cli();
		if (board_fault_msis < want)
			board_halt(200000);
		r0_sti();
	}
}

int main(void)
{
	board_init();
	for (uint32_t k = 0; k < sizeof victim; k++)
		victim[k] = 0xa5;
	uint32_t before = fnv32(victim, sizeof victim);

	if (!r0_check(board_nic_up(&nic, &dom, 1, txr, txb, RING, rxr, rxb, RING, BUF) == 0, "fault-nic-up", "no NIC"))
		return r0_finish();
	/* descriptor 0 -> the unmapped victim (posted: the RX ring was filled by queue init) */
	rxr[0].addr = (uint32_t)victim;
	fill_pattern(frame, sizeof frame, 7);
	nic_tx_send(&nic, frame, sizeof frame);
	int done = waitDD(&rxr[0]);
	uint32_t st = rxr[0].status;
	r0_check(done && NIC_STA_ERR(st) == NIC_ERR_DMA && rxr[0].len == 0, "rx-desc-dma-fault-status",
		 "done %d status %x len %u", done, st, rxr[0].len);
	r0_check(nic_read(&nic, NIC_DROPS(NIC_DROP_IOMMU)) == 1 && nic_read(&nic, NIC_RXDELIV) == 0, "rx-drop-reason-iommu",
		 "iommu drops %u delivered %u", nic_read(&nic, NIC_DROPS(NIC_DROP_IOMMU)), nic_read(&nic, NIC_RXDELIV));
	r0_check(fnv32(victim, sizeof victim) == before, "victim-unchanged", "the unmapped buffer was written");
	r0_check(iommu_read(IOMMU_FSTS) & IOMMU_FSTS_PPF, "iommu-fault-pending", "FSTS %x", iommu_read(IOMMU_FSTS));
	struct iommu_fault f;
	int have = iommu_fault_take(&f);
	r0_printf("fault record: iova %x rid %x reason %u write %u at %u\n", f.iova, f.rid, f.reason, f.write, (uint32_t)f.at);
	r0_check(have && f.iova == (uint32_t)victim && f.rid == nic.pci->rid && f.reason == IOMMU_NOT_MAPPED && f.write,
		 "iommu-fault-record", "have %d iova %x rid %x reason %u write %u", have, f.iova, f.rid, f.reason, f.write);
	waitFaultMsi(1);
	r0_check(board_fault_msis == 1, "iommu-fault-msi", "%u fault MSIs", board_fault_msis);
	nic_rx_release(&nic);	/* descriptor 0 consumed; the ring goes on */

	/* the next frame lands in a mapped buffer */
	frame[0] = 0x42;
	nic_tx_send(&nic, frame, sizeof frame);
	uint8_t *p;
	uint32_t len;
	uint64_t t0 = r0_rdtsc();
	while (!nic_rx_poll(&nic, &p, &len, &st) && r0_rdtsc() - t0 < 2000000)
		;
	r0_check(len == sizeof frame && NIC_STA_ERR(st) == 0 && p[0] == 0x42, "rx-continues-after-fault", "len %u status %x", len, st);
	nic_rx_release(&nic);

	/* TX from an unmapped IOVA: a read fault, the frame is not sent */
	uint32_t sentBefore = nic_read(&nic, NIC_TXSENT), slot = nic.tx.tail;
	txr[slot].addr = (uint32_t)victim;
	txr[slot].len = 64;
	txr[slot].cmd = NIC_CMD_EOP | NIC_CMD_RS;
	txr[slot].status = 0;
	nic.tx.tail = (slot + 1) & (RING - 1);
	nic_qwrite(&nic, NQ_TXTAIL, nic.tx.tail);
	done = waitDD(&txr[slot]);
	r0_check(done && NIC_STA_ERR(txr[slot].status) == NIC_ERR_DMA && nic_read(&nic, NIC_TXSENT) == sentBefore,
		 "tx-unmapped-buffer", "done %d status %x sent %u", done, txr[slot].status, nic_read(&nic, NIC_TXSENT));
	have = iommu_fault_take(&f);
	r0_check(have && f.iova == (uint32_t)victim && f.reason == IOMMU_NOT_MAPPED && !f.write, "iommu-fault-record-read",
		 "have %d iova %x reason %u write %u", have, f.iova, f.reason, f.write);
	waitFaultMsi(2);
	r0_check(board_fault_msis == 2, "iommu-fault-msi-second", "%u fault MSIs", board_fault_msis);
	r0_check(!(iommu_read(IOMMU_FSTS) & IOMMU_FSTS_PPF), "iommu-faults-cleared", "FSTS %x", iommu_read(IOMMU_FSTS));
	return r0_finish();
}
