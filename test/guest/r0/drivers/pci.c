/* PCI configuration through ECAM: enumeration, BAR sizing, capability walk. */

#include "r0.h"
#include "pci.h"

static uint32_t cfgAddr(const struct pci_dev *d, uint32_t off)
{
	return PCI_ECAM + ((uint32_t)d->dev << 15) + ((uint32_t)d->fn << 12) + off;
}

uint32_t pci_read32(const struct pci_dev *d, uint32_t off) { return *(volatile uint32_t *)cfgAddr(d, off); }
uint16_t pci_read16(const struct pci_dev *d, uint32_t off) { return *(volatile uint16_t *)cfgAddr(d, off); }
uint8_t pci_read8(const struct pci_dev *d, uint32_t off) { return *(volatile uint8_t *)cfgAddr(d, off); }
void pci_write32(const struct pci_dev *d, uint32_t off, uint32_t v) { *(volatile uint32_t *)cfgAddr(d, off) = v; }
void pci_write16(const struct pci_dev *d, uint32_t off, uint16_t v) { *(volatile uint16_t *)cfgAddr(d, off) = v; }

/* The write-all-ones protocol, with decoding off so the BAR never decodes at a junk address. */
static void sizeBars(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_CFG_COMMAND);

	pci_write16(d, PCI_CFG_COMMAND, cmd & ~PCI_CMD_MEMORY);
	for (int k = 0; k < PCI_MAX_BARS; k++) {
		uint32_t off = PCI_CFG_BAR0 + 4 * k, old = pci_read32(d, off);

		pci_write32(d, off, 0xffffffffu);
		uint32_t mask = pci_read32(d, off) & ~0xfu;
		pci_write32(d, off, old);
		d->bar[k] = mask ? old & ~0xfu : 0;
		d->bar_size[k] = mask ? ~mask + 1 : 0;
	}
	pci_write16(d, PCI_CFG_COMMAND, cmd);
}

int pci_enumerate(struct pci_dev *out, int max)
{
	int n = 0;

	for (int dev = 0; dev < 32; dev++) {
		for (int fn = 0; fn < 8 && n < max; fn++) {
			struct pci_dev *d = &out[n];

			d->dev = dev;
			d->fn = fn;
			if (pci_read16(d, PCI_CFG_VENDOR) == 0xffff)
				continue;
			d->rid = (dev << 3) | fn;
			d->vendor = pci_read16(d, PCI_CFG_VENDOR);
			d->device = pci_read16(d, PCI_CFG_DEVICE);
			d->class_code = pci_read32(d, PCI_CFG_REVCLASS) >> 8;
			sizeBars(d);
			r0_printf("pci 00:%02x.%u %04x:%04x class %06x bar0 %x/%x bar1 %x/%x\n", dev, fn, d->vendor,
				  d->device, d->class_code, d->bar[0], d->bar_size[0], d->bar[1], d->bar_size[1]);
			n++;
		}
	}
	return n;
}

struct pci_dev *pci_find(struct pci_dev *list, int n, uint16_t vendor, uint16_t device)
{
	for (int k = 0; k < n; k++)
		if (list[k].vendor == vendor && list[k].device == device)
			return &list[k];
	return 0;
}

void pci_enable(const struct pci_dev *d, int master)
{
	uint16_t cmd = pci_read16(d, PCI_CFG_COMMAND) | PCI_CMD_MEMORY;

	pci_write16(d, PCI_CFG_COMMAND, master ? cmd | PCI_CMD_MASTER : cmd & ~PCI_CMD_MASTER);
}

uint32_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	if (!(pci_read16(d, PCI_CFG_STATUS) & PCI_STATUS_CAPS))
		return 0;
	uint32_t at = pci_read8(d, PCI_CFG_CAP_PTR) & ~3u;

	for (int guard = 0; at >= 0x40 && at < 0x100 && guard < 48; guard++) {	/* a loop in the list ends here */
		if (pci_read8(d, at) == id)
			return at;
		at = pci_read8(d, at + 1) & ~3u;
	}
	return 0;
}
