/* The VT-d-flavoured IOMMU (machine/iommu.ts): a flat context table by requester ID, one
   two-level I/O page table per domain (x86 PDE/PTE format, P = read, RW = write), queued
   invalidation with a WAIT descriptor, fault-recording slots and the fault-event MSI. */

#ifndef IOMMU_H
#define IOMMU_H

#include <stdint.h>

#define IOMMU_BASE	0xfed00000u
#define IOMMU_CAP	0x008
#define IOMMU_GCMD	0x018
#define   IOMMU_TE		0x80000000u
#define IOMMU_GSTS	0x01c
#define IOMMU_CTXPTR	0x020
#define IOMMU_FSTS	0x034
#define   IOMMU_FSTS_PFO	0x1u
#define   IOMMU_FSTS_PPF	0x2u
#define   IOMMU_FSTS_IQE	0x10u
#define IOMMU_FECTL	0x038
#define   IOMMU_FECTL_IM	0x80000000u
#define   IOMMU_FECTL_IP	0x40000000u
#define IOMMU_FEDATA	0x03c
#define IOMMU_FEADDR	0x040
#define IOMMU_FEUADDR	0x044
#define IOMMU_FCOUNT	0x048
#define IOMMU_IQBASE	0x080
#define IOMMU_IQSIZE	0x084
#define IOMMU_IQHEAD	0x088
#define IOMMU_IQTAIL	0x08c
#define IOMMU_IQERR	0x090
#define IOMMU_FR(k)	(0x100 + 16 * (k))	/* +0 address, +4 info, +8/+c time */
#define   IOMMU_FR_VALID	0x80000000u
#define   IOMMU_FR_WRITE	0x01000000u
#define IOMMU_SLOTS	8

/* fault reasons (machine/device.ts DMA status codes) */
#define IOMMU_NOT_MAPPED	1
#define IOMMU_NO_PERMISSION	2
#define IOMMU_NO_CONTEXT	3
#define IOMMU_OUTSIDE_RAM	4

#define IOMMU_READ	1
#define IOMMU_WRITE	2

struct iommu_domain {
	uint32_t id;
	uint32_t *pd;		/* the I/O page directory */
};

struct iommu_fault {
	uint32_t iova, rid, reason, write;
	uint64_t at;
};

/* Context table, invalidation queue, fault event to (dest, vector) (vector 0: stays masked). */
void iommu_init(uint32_t dest, uint32_t vector);
void iommu_domain_init(struct iommu_domain *d, uint32_t id);
/* Requester `rid` translates through domain d. */
void iommu_attach(struct iommu_domain *d, uint32_t rid);
/* Map [iova, iova+len) to [pa, ...) with IOMMU_READ/IOMMU_WRITE; unmap clears the PTEs. */
void iommu_map(struct iommu_domain *d, uint32_t iova, uint32_t pa, uint32_t len, uint32_t perm);
void iommu_unmap(struct iommu_domain *d, uint32_t iova, uint32_t len);
/* Context cache and IOTLB flushed, then a WAIT: returns the cycles it took, or 0 on error. */
uint32_t iommu_invalidate(void);
void iommu_enable(int on);
/* Take the valid fault record in the lowest slot (clearing it); 1 if there was one. */
int iommu_fault_take(struct iommu_fault *f);
uint32_t iommu_read(uint32_t reg);
void iommu_write(uint32_t reg, uint32_t v);

#endif
