/* Reflect the wire: every frame received on queue 0 is transmitted back out UNCHANGED (no MAC
   swap), until the wire has been quiet for IDLE cycles. Run on `pcap:IN@RATE+record:OUT`: OUT
   then holds exactly what this guest sent, which it reports as frames and bytes. The NIC is
   brought up before anything else, since the replay starts at cycle 0. */

#include "r0.h"
#include "board.h"
#include "nic.h"

#define RING	128
#define BUF	2048
#define IDLE	10000000ull	/* 5 ms at 2 GHz without a frame: the capture is over */

/* Rings and buffers in RAM past the image at 16 MiB: not in .bss, whose zeroing at start-up
   would cost a millisecond while the replay is already running. */
#define AREA	0x01000000u
static struct nic_desc *const txr = (struct nic_desc *)AREA;
static struct nic_desc *const rxr = (struct nic_desc *)(AREA + 0x1000);
static uint8_t *const txb = (uint8_t *)(AREA + 0x10000);
static uint8_t *const rxb = (uint8_t *)(AREA + 0x10000 + RING * BUF);
static struct nic nic;
static struct iommu_domain dom;

int main(void)
{
	board_init();
	if (!r0_check(board_nic_up(&nic, &dom, 1, txr, txb, RING, rxr, rxb, RING, BUF) == 0, "reflect-nic-up", "no NIC"))
		return r0_finish();
	uint32_t frames = 0, bytes = 0, rxerr = 0, txerr = 0, txfull = 0;
	uint64_t last = r0_rdtsc();

	r0_printf("reflect ready at cycle %u\n", (uint32_t)last);

	while (r0_rdtsc() - last < IDLE) {
		uint8_t *p;
		uint32_t len, st;

		nic_tx_reap(&nic, &txerr);
		if (!nic_rx_poll(&nic, &p, &len, &st)) {
			r0_cli();
			board_halt(100000);	/* sleep between polls: the machine skips idle time */
			continue;
		}
		last = r0_rdtsc();
		if (NIC_STA_ERR(st)) {
			rxerr++;
		} else {
			while (nic_tx_send(&nic, p, len) != 0) {
				txfull++;
				nic_tx_reap(&nic, &txerr);
			}
			frames++;
			bytes += len;
		}
		nic_rx_release(&nic);
	}
	while (nic_tx_pending(&nic))
		nic_tx_reap(&nic, &txerr);
	r0_printf("reflect sent %u frames %u bytes; rx errors %u tx errors %u\n", frames, bytes, rxerr, txerr);
	uint32_t recv = nic_read(&nic, NIC_RXRECV), deliv = nic_read(&nic, NIC_RXDELIV), drop = nic_read(&nic, NIC_RXDROP);
	r0_printf("reflect nic received %u delivered %u dropped %u:", recv, deliv, drop);
	for (int r = 0; r < NIC_DROP_REASONS; r++)
		r0_printf(" %u", nic_read(&nic, NIC_DROPS(r)));
	r0_printf("\n");
	r0_check(recv == deliv + drop, "reflect-accounting", "received %u != delivered %u + dropped %u", recv, deliv, drop);
	r0_check(nic_read(&nic, NIC_TXSENT) == frames && txerr == 0, "reflect-all-sent", "TXSENT %u, sent %u, %u errors",
		 nic_read(&nic, NIC_TXSENT), frames, txerr);
	r0_check(deliv == frames + rxerr, "reflect-every-delivered-frame", "delivered %u, reflected %u", deliv, frames);
	return r0_finish();
}
