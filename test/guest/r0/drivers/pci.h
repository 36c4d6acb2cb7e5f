/* PCI on exolab's bus 0 through the ECAM window (PCI Local Bus 3.0, 6.1 header type 0, 6.7
   capability list; PCIe ECAM addressing): enumerate functions, size and read 32-bit memory
   BARs, enable memory decode and bus mastering, walk the capability list. */

#ifndef PCI_H
#define PCI_H

#include <stdint.h>

#define PCI_ECAM	0xe0000000u
#define PCI_CFG_VENDOR	0x00
#define PCI_CFG_DEVICE	0x02
#define PCI_CFG_COMMAND	0x04
#define   PCI_CMD_MEMORY	0x0002u
#define   PCI_CMD_MASTER	0x0004u
#define PCI_CFG_STATUS	0x06
#define   PCI_STATUS_CAPS	0x0010u
#define PCI_CFG_REVCLASS 0x08	/* revision 7:0, class code 31:8 */
#define PCI_CFG_BAR0	0x10
#define PCI_CFG_CAP_PTR	0x34
#define PCI_CAP_MSIX	0x11
#define PCI_MAX_BARS	6

struct pci_dev {
	uint8_t dev, fn;
	uint16_t rid;		/* requester ID: bus << 8 | dev << 3 | fn */
	uint16_t vendor, device;
	uint32_t class_code;	/* class << 16 | subclass << 8 | prog-if */
	uint32_t bar[PCI_MAX_BARS];	/* base addresses (0: not implemented) */
	uint32_t bar_size[PCI_MAX_BARS];
};

uint32_t pci_read32(const struct pci_dev *d, uint32_t off);
uint16_t pci_read16(const struct pci_dev *d, uint32_t off);
uint8_t pci_read8(const struct pci_dev *d, uint32_t off);
void pci_write32(const struct pci_dev *d, uint32_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint32_t off, uint16_t v);

/* Every function on bus 0, BARs sized; returns how many (at most max). */
int pci_enumerate(struct pci_dev *out, int max);
/* The first of `n` with this vendor and device, or 0. */
struct pci_dev *pci_find(struct pci_dev *list, int n, uint16_t vendor, uint16_t device);
/* Memory decode and bus mastering on. */
void pci_enable(const struct pci_dev *d, int master);
/* Offset of capability `id` in configuration space, or 0. Bounded walk. */
uint32_t pci_find_cap(const struct pci_dev *d, uint8_t id);

#endif
