/* Common start-up for the device programs. */

#include "r0.h"
#include "board.h"

struct pci_dev board_devs[BOARD_MAX_DEVS];
int board_ndevs;
volatile uint32_t board_fault_msis;

static void onFaultMsi(struct r0_frame *f)
{
	board_fault_msis++;
	lapic_eoi();
}

static void onTimer(struct r0_frame *f)
{
	lapic_eoi();
}

void board_halt(uint32_t cycles)
{
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, cycles);
	r0_sti_hlt();
	lapic_write(LAPIC_TIMER_ICR, 0);
}

void board_init(void)
{
	lapic_enable();
	r0_set_handler(VEC_TIMER, onTimer);
	r0_set_handler(VEC_IOMMU, onFaultMsi);
	board_ndevs = pci_enumerate(board_devs, BOARD_MAX_DEVS);
	iommu_init(lapic_id(), VEC_IOMMU);
}

uint32_t fnv32(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint32_t h = 0x811c9dc5u;

	for (uint32_t k = 0; k < len; k++)
		h = (h ^ b[k]) * 0x01000193u;
	return h;
}

void fill_pattern(void *p, uint32_t len, uint32_t seed)
{
	uint8_t *b = p;
	uint32_t x = seed * 2654435761u + 1;

	for (uint32_t k = 0; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[k] = (uint8_t)x;
	}
}

int board_nic_up(struct nic *n, struct iommu_domain *dom, uint32_t id, struct nic_desc *txr, uint8_t *txb, uint32_t txn,
		 struct nic_desc *rxr, uint8_t *rxb, uint32_t rxn, uint32_t bufsize)
{
	if (nic_probe(n, board_devs, board_ndevs) != 0)
		return -1;
	iommu_domain_init(dom, id);
	iommu_attach(dom, n->pci->rid);
	iommu_map(dom, (uint32_t)txr, (uint32_t)txr, txn * sizeof *txr, IOMMU_READ | IOMMU_WRITE);
	iommu_map(dom, (uint32_t)rxr, (uint32_t)rxr, rxn * sizeof *rxr, IOMMU_READ | IOMMU_WRITE);
	iommu_map(dom, (uint32_t)txb, (uint32_t)txb, txn * bufsize, IOMMU_READ);
	iommu_map(dom, (uint32_t)rxb, (uint32_t)rxb, rxn * bufsize, IOMMU_READ | IOMMU_WRITE);
	if (iommu_invalidate() == 0)
		return -1;
	iommu_enable(1);
	nic_queue_init(n, 0, txr, txb, txn, rxr, rxb, rxn, bufsize);
	return 0;
}
