/* plat.h for the unikernel placement: the app and the LibOS are one ring-0 image with its own
   IDT. On the bare machine it owns the first core: paging off (virtual = physical = IOVA), and
   it confines the NIC's DMA itself with an IOMMU domain holding only the DMA memory below. As
   a partition of the exokernel the kernel did all of that for it (its memory at the image's
   addresses for the CPU and the IOMMU alike, the queue's page mapped, its MSI-X entry routed
   here): the platform reads struct exo_part_info and touches neither PCI nor the IOMMU. */

#include "libc.h"
#include "plat.h"
#include "uni.h"
#include "exo.h"

int main(void);

uint32_t uni_boot_magic, uni_ram_bytes, uni_part_info;
static uint32_t nicQueue = UNI_NIC_QUEUE;

/* The exokernel's partition-info page, or 0 on the bare machine. */
static const struct exo_part_info *partition(void)
{
	return uni_boot_magic == EXO_PART_MAGIC ? (const struct exo_part_info *)uni_part_info : 0;
}
int pc_bare(void)
{
	return !partition();
}

static uint32_t nicBar;
static struct pci_fn nicFn;
static int iommuOn;

/* DMA memory: from the end of the image (link.ld) up to __dma_end, handed out once. */
extern char __dma_start[], __dma_end[];
static uint32_t dmaNext;

/* ---- exit (the console and the interrupt wait: ../pc/cpu.c) ---- */

__attribute__((noreturn)) void plat_exit(int status)
{
	__asm__ volatile("cli");
	if (partition()) {
		printf("uni: exit %d (partition)\n", status);
		for (;;)	/* the kernel's exit gate: it takes this core back */
			__asm__ volatile(".byte 0x0f, 0x3f, %c1" : : "a"(status), "i"(EXO_GATE_EXIT) : "memory");
	}
	pc_iommu_faults_take();
	printf("uni: exit %d; iommu fault messages %u\n", status, pc_iommu_fault_msis);
	for (;;)
		mmio_write(PC_SYSCTL, (uint32_t)status);
}

/* ---- the IDT (SDM vol. 3A 6.11: 8-byte interrupt gates) ---- */

extern const uint32_t uni_isr_table[256];
static uint32_t idt[256][2] __attribute__((aligned(8)));

static void idtInit(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t t = uni_isr_table[v];
		idt[v][0] = 0x08u << 16 | (t & 0xffff);	/* ring-0 code selector */
		idt[v][1] = (t & 0xffff0000u) | 0x8e00u;	/* present, DPL 0, interrupt gate */
	}
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { sizeof idt - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void uni_trap(struct uni_frame *f)
{
	uint32_t v = f->vector;

	if (v == VEC_NIC + nicQueue) {
		pc_irqs++;
	} else if (v == VEC_IOMMU) {
		pc_iommu_fault_msis++;
	} else if (v == VEC_SPURIOUS) {
		return;	/* no EOI for the spurious vector (SDM 11.9) */
	} else if (v != VEC_TIMER) {
		uint32_t cr2;
		__asm__ volatile("mov %%cr2,%0" : "=r"(cr2));
		printf("uni: unexpected %s vector %u error %x at eip %x cr2 %x\n", v < 20 ? pc_exc_names[v] : "interrupt", v,
		       f->error, f->eip, cr2);
		plat_exit(0x80 | (v & 0x7f));
	}
	lapic_write(LAPIC_EOI, 0);
}

int uni_main(void)
{
	idtInit();
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_TIMER, 0x10000u | VEC_TIMER);	/* masked until a wait */
	dmaNext = (uint32_t)__dma_start;
	if ((uint32_t)__dma_end > uni_ram_bytes) {
		printf("uni: RAM is %u bytes; this image needs %u (its DMA memory ends there)\n", uni_ram_bytes,
		       (uint32_t)__dma_end);
		return 0x7c;
	}
	return main();
}

/* ---- DMA memory ---- */

int plat_dma_alloc(uint32_t bytes, uint32_t align, uint32_t flags, struct plat_dma *out)
{
	if (align == 0 || (align & (align - 1)) || align > 4096)
		return -1;
	uint32_t at = (dmaNext + align - 1) & ~(align - 1);
	if (bytes > (uint32_t)__dma_end - at)
		return -1;
	if (iommuOn && (pc_iommu_map(at, bytes, flags & PLAT_DMA_DEV_WRITE) != 0 || pc_iommu_sync() != 0))
		return -1;
	dmaNext = at + bytes;
	if (flags & PLAT_DMA_ZERO)
		memset((void *)at, 0, bytes);
	out->va = (void *)at;
	out->iova = at;
	out->bytes = bytes;
	return 0;
}

/* ---- the NIC ---- */

int plat_nic_open(struct plat_nic *n)
{
	const struct exo_part_info *pi = partition();
	if (pi) {
		if (pi->queue == EXO_SLOT_NONE)
			return -1;
		for (int k = 0; k < 4; k++)
			n->mac[k] = (uint8_t)(pi->mac_lo >> 8 * k);
		n->mac[4] = (uint8_t)pi->mac_hi;
		n->mac[5] = (uint8_t)(pi->mac_hi >> 8);
		n->queue = nicQueue = pi->queue;
		n->qregs = (volatile uint32_t *)pi->queue_va;
		return 0;
	}
	if (pc_pci_find(NIC_VENDOR, NIC_DEVICE, &nicFn) != 0 || !(nicBar = pc_pci_bar(&nicFn, 0)))
		return -1;
	uint32_t dest = lapic_read(LAPIC_ID) >> 24;

	/* the NIC's domain holds the DMA memory handed out so far, and later allocations as made */
	pc_iommu_init(dest, VEC_IOMMU);
	pc_iommu_attach(nicFn.rid);
	if (dmaNext > (uint32_t)__dma_start && pc_iommu_map((uint32_t)__dma_start, dmaNext - (uint32_t)__dma_start, 1) != 0)
		return -1;
	if (pc_iommu_sync() != 0) {
		printf("uni: the IOMMU invalidation queue failed\n");
		return -1;
	}
	pc_iommu_enable();
	iommuOn = 1;
	pc_pci_enable(&nicFn);

	uint32_t lo = mmio_read(nicBar + NIC_MACLO), hi = mmio_read(nicBar + NIC_MACHI);
	for (int k = 0; k < 4; k++)
		n->mac[k] = (uint8_t)(lo >> 8 * k);
	n->mac[4] = (uint8_t)hi;
	n->mac[5] = (uint8_t)(hi >> 8);
	n->queue = UNI_NIC_QUEUE;
	n->qregs = (volatile uint32_t *)(nicBar + EXO_NIC_QUEUE_BASE + EXO_NIC_QUEUE_STRIDE * UNI_NIC_QUEUE);
	return 0;
}

int plat_nic_irq_enable(struct plat_nic *n)
{
	uint32_t dest = lapic_read(LAPIC_ID) >> 24;

	if (partition())
		return 0;	/* the kernel routed the queue's MSI-X entry (vector VEC_NIC + queue) here */
	if (!nicBar || pc_msix_route(&nicFn, n->queue, dest, VEC_NIC + n->queue) != 0)
		return -1;
	n->qregs[NQ_VEC / 4] = n->queue;	/* the queue's causes go to MSI-X entry `queue` */
	return 0;
}

int plat_nic_counters(struct plat_nic *n, struct plat_nic_counters *c)
{
	if (!nicBar)
		return -1;
	c->received = mmio_read(nicBar + NIC_RXRECV);
	c->delivered = mmio_read(nicBar + NIC_RXDELIV);
	c->dropped = mmio_read(nicBar + NIC_RXDROP);
	c->sent = mmio_read(nicBar + NIC_TXSENT);
	for (int r = 0; r < PLAT_NIC_DROP_REASONS; r++)
		c->drops[r] = mmio_read(nicBar + NIC_DROPS + 4 * r);
	return 0;
}
