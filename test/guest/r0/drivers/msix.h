/* MSI-X (PCI Local Bus 3.0, 6.8.2): the capability's message control, the table and the
   pending-bit array in a BAR. A message to core `dest` with `vector` is the write of
   data = vector to 0xFEE00000 | dest << 12. */

#ifndef MSIX_H
#define MSIX_H

#include <stdint.h>
#include "pci.h"

#define MSIX_CTRL_ENABLE	0x8000u
#define MSIX_CTRL_FMASK		0x4000u
#define MSIX_CTRL_SIZE		0x07ffu
#define MSIX_MASKED		0x1u

struct msix {
	const struct pci_dev *pci;
	uint32_t cap;		/* offset of the capability */
	uint32_t table;		/* address of the table */
	uint32_t pba;		/* address of the pending-bit array */
	uint32_t vectors;
};

/* Find the capability and locate table and PBA through their BARs; 0 on success. */
int msix_init(struct msix *m, const struct pci_dev *d);
/* Entry `k` sends `vector` to APIC `dest`; its mask bit is left as it is. */
void msix_set(struct msix *m, uint32_t k, uint32_t dest, uint32_t vector);
void msix_mask(struct msix *m, uint32_t k, int masked);
int msix_masked(struct msix *m, uint32_t k);
int msix_pending(struct msix *m, uint32_t k);
void msix_enable(struct msix *m, int on);
void msix_function_mask(struct msix *m, int on);

#endif
