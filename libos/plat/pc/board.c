/* Board bring-up for a ring-0 image on the bare machine (uni, mono): PCI functions on bus 0
   through ECAM (PCI 3.0 6.1, PCIe ECAM addressing), MSI-X routing (PCI 3.0 6.8.2), and one
   IOMMU domain (VT-d 3.4, 6.5) that confines the devices' DMA to the pages the platform hands
   them. */

#include "libc.h"
#include "pc.h"

/* ---- PCI ---- */

static uint32_t cfg32(const struct pci_fn *f, uint32_t off) { return mmio_read(f->cfg + off); }
static uint16_t cfg16(const struct pci_fn *f, uint32_t off) { return *(volatile uint16_t *)(f->cfg + off); }
static uint8_t cfg8(const struct pci_fn *f, uint32_t off) { return *(volatile uint8_t *)(f->cfg + off); }
static void cfg16w(const struct pci_fn *f, uint32_t off, uint16_t v) { *(volatile uint16_t *)(f->cfg + off) = v; }

int pc_pci_find(uint16_t vendor, uint16_t device, struct pci_fn *out)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		for (uint32_t fn = 0; fn < 8; fn++) {
			struct pci_fn f = { PC_ECAM + (dev << 15) + (fn << 12), (uint16_t)(dev << 3 | fn), 0, 0 };
			f.vendor = cfg16(&f, PCI_VENDOR);
			if (f.vendor == 0xffff)
				continue;
			f.device = cfg16(&f, PCI_VENDOR + 2);
			if (f.vendor == vendor && f.device == device) {
				*out = f;
				return 0;
			}
		}
	}
	return -1;
}

/* The address the firmware (the machine) gave BAR k: memory BARs, 32-bit. */
uint32_t pc_pci_bar(const struct pci_fn *f, int k)
{
	return k >= 0 && k < 6 ? cfg32(f, PCI_BAR0 + 4 * k) & ~0xfu : 0;
}

void pc_pci_enable(const struct pci_fn *f)
{
	cfg16w(f, PCI_COMMAND, cfg16(f, PCI_COMMAND) | PCI_CMD_MEM | PCI_CMD_MASTER);
}

static uint32_t findCap(const struct pci_fn *f, uint8_t id)
{
	if (!(cfg16(f, PCI_STATUS) & PCI_ST_CAPS))
		return 0;
	uint32_t at = cfg8(f, PCI_CAP_PTR) & ~3u;
	for (int hops = 0; at >= 0x40 && at < 0x100 && hops < 48; hops++) {	/* a looped list ends */
		if (cfg8(f, at) == id)
			return at;
		at = cfg8(f, at + 1) & ~3u;
	}
	return 0;
}

int pc_msix_route(const struct pci_fn *f, uint32_t k, uint32_t dest, uint32_t vector)
{
	uint32_t cap = findCap(f, PCI_CAP_MSIX);
	if (!cap)
		return -1;
	uint16_t ctrl = cfg16(f, cap + 2);
	uint32_t t = cfg32(f, cap + 4), bar = pc_pci_bar(f, t & 7);
	if (!bar || k > (ctrl & 0x7ffu))
		return -1;
	uint32_t e = bar + (t & ~7u) + 16 * k;
	mmio_write(e + 0, 0xfee00000u | dest << 12);
	mmio_write(e + 4, 0);
	mmio_write(e + 8, vector & 0xff);
	mmio_write(e + 12, 0);	/* unmasked */
	cfg16w(f, cap + 2, (cfg16(f, cap + 2) | MSIX_ENABLE) & ~0x4000u);	/* enabled, function not masked */
	return 0;
}

/* ---- IOMMU ---- */

#define DOMAIN_ID	1
#define TABLE_PAGES	8	/* the context table, the I/O page directory, page tables */
#define IQ_ENTRIES	16

static uint32_t tables[TABLE_PAGES][1024] __attribute__((aligned(4096)));
static uint32_t tablesUsed;
static uint32_t *context, *iopd;
static volatile uint32_t iq[IQ_ENTRIES][4] __attribute__((aligned(16)));
static uint32_t iqTail;
static volatile uint32_t waitWord;
volatile uint32_t pc_iommu_fault_msis;

static uint32_t ioRead(uint32_t r) { return mmio_read(PC_IOMMU + r); }
static void ioWrite(uint32_t r, uint32_t v) { mmio_write(PC_IOMMU + r, v); }

static uint32_t *tablePage(void)
{
	if (tablesUsed == TABLE_PAGES)
		return 0;
	uint32_t *p = tables[tablesUsed++];
	memset(p, 0, 4096);
	return p;
}

void pc_iommu_init(uint32_t dest, uint32_t vector)
{
	if (context)
		return;	/* once for the image: the NIC and the disk share the domain */
	context = tablePage();
	iopd = tablePage();
	ioWrite(IOMMU_CTXPTR, (uint32_t)context);
	ioWrite(IOMMU_IQBASE, (uint32_t)iq);
	ioWrite(IOMMU_IQSIZE, IQ_ENTRIES);
	iqTail = 0;
	ioWrite(IOMMU_FEADDR, 0xfee00000u | dest << 12);
	ioWrite(IOMMU_FEUADDR, 0);
	ioWrite(IOMMU_FEDATA, vector);
	ioWrite(IOMMU_FECTL, 0);	/* unmasked */
}

void pc_iommu_attach(uint32_t rid)
{
	context[2 * rid + 1] = DOMAIN_ID;	/* the domain ID lives in the upper dword */
	context[2 * rid] = (uint32_t)iopd | 1;
}

int pc_iommu_map(uint32_t a, uint32_t len, int writable)
{
	for (uint32_t p = a & ~0xfffu; p < a + len; p += 4096) {
		uint32_t *pde = &iopd[p >> 22];
		if (!(*pde & IOPTE_P)) {
			uint32_t *pt = tablePage();
			if (!pt)
				return -1;
			*pde = (uint32_t)pt | IOPTE_P | IOPTE_W;
		}
		uint32_t *pte = (uint32_t *)(*pde & ~0xfffu) + ((p >> 12) & 1023);
		*pte = p | IOPTE_P | (writable || (*pte & IOPTE_W) ? IOPTE_W : 0);	/* a page shared with a writable buffer stays so */
	}
	return 0;
}

int pc_iommu_mapped(uint32_t a, uint32_t len, int writable)
{
	for (uint32_t p = a & ~0xfffu; p < a + len; p += 4096) {
		uint32_t pde = iopd ? iopd[p >> 22] : 0;
		uint32_t pte = pde & IOPTE_P ? ((uint32_t *)(pde & ~0xfffu))[(p >> 12) & 1023] : 0;
		if (!(pte & IOPTE_P) || (writable && !(pte & IOPTE_W)))
			return 0;
	}
	return 1;
}

static void iqPut(uint32_t dw0, uint32_t dw1, uint32_t dw2)
{
	iq[iqTail][0] = dw0;
	iq[iqTail][1] = dw1;
	iq[iqTail][2] = dw2;
	iq[iqTail][3] = 0;
	iqTail = (iqTail + 1) % IQ_ENTRIES;
}

int pc_iommu_sync(void)
{
	waitWord = 0;
	iqPut(1 | 1 << 4, 0, 0);		/* context cache: all */
	iqPut(2 | 1 << 4, 0, 0);		/* IOTLB: global */
	iqPut(3, (uint32_t)&waitWord, 1);	/* WAIT: then write 1 */
	ioWrite(IOMMU_IQTAIL, iqTail);
	for (uint32_t spins = 0; waitWord != 1; spins++) {
		if ((ioRead(IOMMU_FSTS) & IOMMU_FSTS_IQE) || spins > 10000000)
			return -1;
		__asm__ volatile("pause");
	}
	return 0;
}

void pc_iommu_enable(void)
{
	ioWrite(IOMMU_GCMD, IOMMU_TE);
}

uint32_t pc_iommu_faults_take(void)
{
	uint32_t n = 0;

	for (int k = 0; k < IOMMU_SLOTS; k++) {
		uint32_t info = ioRead(IOMMU_FR(k) + 4);
		if (!(info & IOMMU_FR_VALID))
			continue;
		printf("pc: iommu fault at iova %x, requester %x, reason %u\n", ioRead(IOMMU_FR(k)), info & 0xffff,
		       (info >> 16) & 0xff);
		ioWrite(IOMMU_FR(k) + 4, IOMMU_FR_VALID);	/* write 1 to clear */
		n++;
	}
	return n;
}
