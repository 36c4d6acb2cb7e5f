/* MSI-X masking (PCI 3.0, 6.8.3.4) on the NIC, `loop` wire: a masked vector latches its
   pending bit in the PBA and sends nothing; unmasking sends it and clears the bit. The
   function mask holds every vector the same way until it is cleared. */

#include "r0.h"
#include "board.h"
#include "nic.h"

#define RING	16
#define BUF	2048

static struct nic_desc txr[RING] __attribute__((aligned(4096)));
static struct nic_desc rxr[RING] __attribute__((aligned(4096)));
static uint8_t txb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t rxb[RING * BUF] __attribute__((aligned(4096)));
static uint8_t frame[64];
static struct nic nic;
static struct iommu_domain dom;
static volatile uint32_t irqs;

static void onNic(struct r0_frame *f)
{
	irqs++;
	lapic_eoi();
}

/* Send a frame and wait (polling, interrupts on) until it is received and a bit more. */
static void event(void)
{
	uint8_t *p;
	uint32_t len, st;

	nic_qwrite(&nic, NQ_CAUSE, 0x1f);
	nic_tx_send(&nic, frame, sizeof frame);
	r0_sti();
	uint64_t t0 = r0_rdtsc();
	while (!nic_rx_poll(&nic, &p, &len, &st) && r0_rdtsc() - t0 < 2000000)
		;
	r0_wait(20000, 0, 0);	/* time for a message to arrive, were one sent */
	nic_rx_release(&nic);
	nic_tx_reap(&nic, 0);
}

static void waitIrq(uint32_t want)
{
	for (int k = 0; k < 4 && irqs < want; k++) {
		r0_cli();
		if (irqs < want)
			board_halt(200000);
		r0_sti();
	}
}

int main(void)
{
	board_init();
	if (!r0_check(board_nic_up(&nic, &dom, 1, txr, txb, RING, rxr, rxb, RING, BUF) == 0, "mask-nic-up", "no NIC"))
		return r0_finish();
	r0_set_handler(VEC_NIC, onNic);
	struct msix *m = &nic.msix;
	r0_check(msix_masked(m, 0) && !msix_pending(m, 0), "msix-reset-masked", "entry 0 not masked at reset");
	msix_set(m, 0, lapic_id(), VEC_NIC);	/* programmed, still masked */
	msix_enable(m, 1);
	nic_qwrite(&nic, NQ_VEC, 0);
	nic_qwrite(&nic, NQ_IMASK, NC_RXDONE);

	event();
	r0_check(msix_pending(m, 0), "masked-sets-pending", "PBA %x", r0_mmio_read(m->pba));
	r0_check(irqs == 0, "masked-no-interrupt", "%u interrupts", irqs);
	msix_mask(m, 0, 0);
	waitIrq(1);
	r0_check(irqs == 1, "unmask-delivers", "%u interrupts", irqs);
	r0_check(!msix_pending(m, 0), "unmask-clears-pending", "PBA %x", r0_mmio_read(m->pba));

	event();
	waitIrq(2);
	r0_check(irqs == 2 && !msix_pending(m, 0), "unmasked-direct", "%u interrupts, PBA %x", irqs, r0_mmio_read(m->pba));

	msix_function_mask(m, 1);
	event();
	r0_check(msix_pending(m, 0) && irqs == 2, "function-mask-holds", "%u interrupts, PBA %x", irqs, r0_mmio_read(m->pba));
	msix_function_mask(m, 0);
	waitIrq(3);
	r0_check(irqs == 3 && !msix_pending(m, 0), "function-unmask-delivers", "%u interrupts, PBA %x", irqs, r0_mmio_read(m->pba));

	msix_mask(m, 0, 1);
	event();
	msix_enable(m, 0);
	msix_mask(m, 0, 0);
	r0_check(irqs == 3 && msix_pending(m, 0), "disabled-holds-pending", "%u interrupts, PBA %x", irqs, r0_mmio_read(m->pba));
	msix_enable(m, 1);
	waitIrq(4);
	r0_check(irqs == 4 && !msix_pending(m, 0), "enable-releases-pending", "%u interrupts, PBA %x", irqs, r0_mmio_read(m->pba));
	return r0_finish();
}
