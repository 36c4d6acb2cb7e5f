/* FENCE with q descriptors in flight (machine/nic.ts: FENCED fenceLatency after the write,
   DRAINED once nothing is in flight; q in flight drain in q / rate). TX only, RX off. For each
   case: the cycles from the FENCE write to DRAINED seen, and q = INFLIGHT when FENCED is seen.
   Case "window": 255 posted, so the 64-descriptor fetch window is full when the fence lands;
   case "short": only 40 posted, part of them done before the fence lands. */

#include "r0.h"
#include "board.h"
#include "nic.h"

#define RING	256
#define BUF	64

static struct nic_desc txr[RING] __attribute__((aligned(4096)));
static struct nic_desc rxr[RING] __attribute__((aligned(4096)));
static uint8_t txb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t rxb[RING * BUF] __attribute__((aligned(4096)));
static struct nic nic;
static struct iommu_domain dom;

static void fenceCase(const char *name, uint32_t posted)
{
	nic_qwrite(&nic, NQ_QCTRL, 0);
	nic_queue_init(&nic, 0, txr, txb, RING, rxr, rxb, RING, BUF);
	nic_qwrite(&nic, NQ_QCTRL, NQ_TXEN);	/* RX off: only TX work in flight */
	for (uint32_t k = 0; k < posted; k++) {
		txr[k].addr = (uint32_t)(txb + k * BUF);
		txr[k].len = BUF;
		txr[k].cmd = NIC_CMD_EOP | NIC_CMD_RS;
		txr[k].status = 0;
	}
	nic_qwrite(&nic, NQ_TXTAIL, posted);
	uint32_t inflight0 = nic_qread(&nic, NQ_INFLIGHT) & 0xffff;
	uint64_t t0 = r0_rdtsc();
	nic_qwrite(&nic, NQ_QCTRL, NQ_TXEN | NQ_FENCE);
	uint32_t s, q = 0, fencedAt = 0, spins = 0;
	while (!((s = nic_qread(&nic, NQ_QSTATUS)) & NQS_DRAINED) && ++spins < 1000000) {
		if ((s & NQS_FENCED) && !fencedAt) {
			fencedAt = (uint32_t)(r0_rdtsc() - t0);
			q = nic_qread(&nic, NQ_INFLIGHT) & 0xffff;
		}
	}
	uint32_t drained = (uint32_t)(r0_rdtsc() - t0);
	r0_printf("fence %s: posted %u, in flight at the write %u, q %u at FENCED (seen after %u), DRAINED after %u cycles\n",
		  name, posted, inflight0, q, fencedAt, drained);
	r0_check((s & NQS_DRAINED) && fencedAt > 0, name, "QSTATUS %x", s);
}

int main(void)
{
	board_init();
	if (!r0_check(board_nic_up(&nic, &dom, 1, txr, txb, RING, rxr, rxb, RING, BUF) == 0, "fence-nic-up", "no NIC"))
		return r0_finish();
	fenceCase("fence-window", RING - 1);
	fenceCase("fence-short", 40);
	return r0_finish();
}
