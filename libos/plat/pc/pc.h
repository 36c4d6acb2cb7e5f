/* The bare machine as a ring-0 image drives it (DESIGN section 2), shared by the placements
   that run in ring 0 (uni, mono): MMIO addresses, the local APIC, PCI through ECAM, MSI-X, the
   VT-d-flavoured IOMMU (board.c) and the block device (block.c). Nothing here is visible to
   the LibOS above plat.h. Addresses are physical: the image reaches them one to one. */

#ifndef PC_H
#define PC_H

#include <stdint.h>

#define PC_UART		0xfe000000u	/* THR: byte writes */
#define PC_SYSCTL	0xfe001000u	/* a 32-bit write powers off with that status */
#define PC_LAPIC	0xfee00000u
#define PC_ECAM		0xe0000000u
#define PC_IOMMU	0xfed00000u
#define PC_DEVICES	0xc0000000u	/* from here to the top: BARs (machine/pci.ts) and the above */

#define VEC_TIMER	0x30	/* the timeout of plat_irq_wait (cpu.c) */
#define VEC_IOMMU	0x50	/* the IOMMU's fault event */

/* local APIC registers (SDM vol. 3A table 11-1) */
#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define   SVR_ENABLE	0x100u
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_DCR	0x3e0
#define   DCR_DIV1	0xbu

/* PCI configuration (PCI 3.0 6.1) */
#define PCI_VENDOR	0x00
#define PCI_COMMAND	0x04
#define   PCI_CMD_MEM	0x0002u
#define   PCI_CMD_MASTER 0x0004u
#define PCI_STATUS	0x06
#define   PCI_ST_CAPS	0x0010u
#define PCI_BAR0	0x10
#define PCI_CAP_PTR	0x34
#define PCI_CAP_MSIX	0x11
#define   MSIX_ENABLE	0x8000u

/* IOMMU registers (machine/iommu.ts) */
#define IOMMU_GCMD	0x018
#define   IOMMU_TE	0x80000000u
#define IOMMU_CTXPTR	0x020
#define IOMMU_FSTS	0x034
#define   IOMMU_FSTS_IQE 0x10u
#define IOMMU_FECTL	0x038
#define IOMMU_FEDATA	0x03c
#define IOMMU_FEADDR	0x040
#define IOMMU_FEUADDR	0x044
#define IOMMU_IQBASE	0x080
#define IOMMU_IQSIZE	0x084
#define IOMMU_IQTAIL	0x08c
#define IOMMU_FR(k)	(0x100 + 16 * (k))
#define   IOMMU_FR_VALID 0x80000000u
#define IOMMU_SLOTS	8
#define IOPTE_P		0x1u	/* the IOMMU's page-table entries */
#define IOPTE_W		0x2u

static inline uint32_t mmio_read(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t lapic_read(uint32_t r) { return mmio_read(PC_LAPIC + r); }
static inline void lapic_write(uint32_t r, uint32_t v) { mmio_write(PC_LAPIC + r, v); }

struct pci_fn {
	uint32_t cfg;		/* ECAM address of its configuration space */
	uint16_t rid;		/* requester ID: bus 0, dev << 3 | fn */
	uint16_t vendor, device;
};

/* The platform's (uni, mono): 1 when the image owns the machine (exolab's bare boot), 0 as a
   partition of the exokernel, which keeps PCI, the IOMMU and the disk to itself. */
int pc_bare(void);

/* cpu.c: the interrupts plat_irq_count counts (the platform's trap handler adds its NIC's),
   and the exception names by vector for trap reports. */
extern volatile uint32_t pc_irqs;
extern const char *const pc_exc_names[20];

/* board.c */
int pc_pci_find(uint16_t vendor, uint16_t device, struct pci_fn *out);
uint32_t pc_pci_bar(const struct pci_fn *f, int k);
void pc_pci_enable(const struct pci_fn *f);
/* MSI-X entry k of f sends `vector` to APIC `dest`, unmasked, MSI-X enabled; 0 or -1. */
int pc_msix_route(const struct pci_fn *f, uint32_t k, uint32_t dest, uint32_t vector);
/* Context table and invalidation queue; the fault event to (dest, vector). Once: later
   calls do nothing. */
void pc_iommu_init(uint32_t dest, uint32_t vector);
/* Requester `rid` translates through the one domain of this image. */
void pc_iommu_attach(uint32_t rid);
/* Map [a, a + len) one to one, read or read-write; 0, or -1 with no table page left. */
int pc_iommu_map(uint32_t a, uint32_t len, int writable);
/* 1 when every page of [a, a + len) is mapped (writable, if asked), else 0. */
int pc_iommu_mapped(uint32_t a, uint32_t len, int writable);
/* Flush context cache and IOTLB and wait; 0 or -1. */
int pc_iommu_sync(void);
void pc_iommu_enable(void);
/* Count (and clear) the recorded faults. */
uint32_t pc_iommu_faults_take(void);
extern volatile uint32_t pc_iommu_fault_msis;

#endif
