/* IOMMU driver: context entries, I/O page tables, queued invalidation, fault records. */

#include "r0.h"
#include "iommu.h"

#define TABLE_PAGES	24
#define IQ_ENTRIES	16

static uint32_t pages[TABLE_PAGES][1024] __attribute__((aligned(4096)));
static uint32_t pagesUsed;
static uint32_t *context;	/* 256 entries of 8 bytes */
static volatile uint32_t iq[IQ_ENTRIES][4] __attribute__((aligned(16)));
static uint32_t iqTail;
static volatile uint32_t waitStatus;

uint32_t iommu_read(uint32_t reg) { return r0_mmio_read(IOMMU_BASE + reg); }
void iommu_write(uint32_t reg, uint32_t v) { r0_mmio_write(IOMMU_BASE + reg, v); }

static uint32_t *pageAlloc(void)
{
	if (pagesUsed == TABLE_PAGES) {
		r0_printf("FAIL iommu table pool exhausted\n");
		r0_poweroff(0x7d);
	}
	uint32_t *p = pages[pagesUsed++];
	for (int k = 0; k < 1024; k++)
		p[k] = 0;
	return p;
}

void iommu_init(uint32_t dest, uint32_t vector)
{
	context = pageAlloc();
	iommu_write(IOMMU_CTXPTR, (uint32_t)context);
	iommu_write(IOMMU_IQBASE, (uint32_t)iq);
	iommu_write(IOMMU_IQSIZE, IQ_ENTRIES);
	iqTail = 0;
	iommu_write(IOMMU_FEADDR, 0xfee00000u | (dest << 12));
	iommu_write(IOMMU_FEUADDR, 0);
	iommu_write(IOMMU_FEDATA, vector);
	iommu_write(IOMMU_FECTL, vector ? 0 : IOMMU_FECTL_IM);
}

void iommu_domain_init(struct iommu_domain *d, uint32_t id)
{
	d->id = id & 0xff;
	d->pd = pageAlloc();
}

void iommu_attach(struct iommu_domain *d, uint32_t rid)
{
	context[2 * rid + 1] = d->id;	/* the domain ID lives in the upper dword */
	context[2 * rid] = (uint32_t)d->pd | 1;
}

static volatile uint32_t *ptePtr(struct iommu_domain *d, uint32_t iova, int alloc)
{
	uint32_t *pde = &d->pd[iova >> 22];

	if (!(*pde & PTE_P)) {
		if (!alloc)
			return 0;
		*pde = (uint32_t)pageAlloc() | PTE_P | PTE_W;
	}
	return (volatile uint32_t *)(*pde & ~0xfffu) + ((iova >> 12) & 1023);
}

void iommu_map(struct iommu_domain *d, uint32_t iova, uint32_t pa, uint32_t len, uint32_t perm)
{
	uint32_t end = iova + len;

	for (iova &= ~0xfffu, pa &= ~0xfffu; iova < end; iova += PAGE, pa += PAGE)
		*ptePtr(d, iova, 1) = pa | PTE_P | (perm & IOMMU_WRITE ? PTE_W : 0);
}

void iommu_unmap(struct iommu_domain *d, uint32_t iova, uint32_t len)
{
	uint32_t end = iova + len;

	for (iova &= ~0xfffu; iova < end; iova += PAGE) {
		volatile uint32_t *pte = ptePtr(d, iova, 0);

		if (pte)
			*pte = 0;
	}
}

static void iqPut(uint32_t dw0, uint32_t dw1, uint32_t dw2)
{
	iq[iqTail][0] = dw0;
	iq[iqTail][1] = dw1;
	iq[iqTail][2] = dw2;
	iq[iqTail][3] = 0;
	iqTail = (iqTail + 1) % IQ_ENTRIES;
}

uint32_t iommu_invalidate(void)
{
	uint64_t t0 = r0_rdtsc();

	waitStatus = 0;
	iqPut(1 | (1 << 4), 0, 0);		/* context cache, all */
	iqPut(2 | (1 << 4), 0, 0);		/* IOTLB, global */
	iqPut(3, (uint32_t)&waitStatus, 0x600d);	/* WAIT: write the status dword */
	iommu_write(IOMMU_IQTAIL, iqTail);
	for (uint32_t spins = 0; waitStatus != 0x600d; spins++) {
		if ((iommu_read(IOMMU_FSTS) & IOMMU_FSTS_IQE) || spins > 1000000)
			return 0;
		r0_pause();
	}
	return (uint32_t)(r0_rdtsc() - t0);
}

void iommu_enable(int on)
{
	iommu_write(IOMMU_GCMD, on ? IOMMU_TE : 0);
}

int iommu_fault_take(struct iommu_fault *f)
{
	for (int k = 0; k < IOMMU_SLOTS; k++) {
		uint32_t info = iommu_read(IOMMU_FR(k) + 4);

		if (!(info & IOMMU_FR_VALID))
			continue;
		f->iova = iommu_read(IOMMU_FR(k));
		f->rid = info & 0xffff;
		f->reason = (info >> 16) & 0xff;
		f->write = (info & IOMMU_FR_WRITE) != 0;
		f->at = ((uint64_t)iommu_read(IOMMU_FR(k) + 12) << 32) | iommu_read(IOMMU_FR(k) + 8);
		iommu_write(IOMMU_FR(k) + 4, IOMMU_FR_VALID);	/* W1C */
		return 1;
	}
	return 0;
}
