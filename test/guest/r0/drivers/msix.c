/* MSI-X table programming, masking and the pending bits. */

#include "r0.h"
#include "msix.h"

int msix_init(struct msix *m, const struct pci_dev *d)
{
	m->pci = d;
	m->cap = pci_find_cap(d, PCI_CAP_MSIX);
	if (!m->cap)
		return -1;
	uint16_t ctrl = pci_read16(d, m->cap + 2);
	uint32_t t = pci_read32(d, m->cap + 4), p = pci_read32(d, m->cap + 8);

	m->vectors = (ctrl & MSIX_CTRL_SIZE) + 1;
	if ((t & 7) >= PCI_MAX_BARS || (p & 7) >= PCI_MAX_BARS || !d->bar[t & 7] || !d->bar[p & 7])
		return -1;
	m->table = d->bar[t & 7] + (t & ~7u);
	m->pba = d->bar[p & 7] + (p & ~7u);
	return 0;
}

void msix_set(struct msix *m, uint32_t k, uint32_t dest, uint32_t vector)
{
	uint32_t e = m->table + 16 * k;

	r0_mmio_write(e + 0, 0xfee00000u | (dest << 12));
	r0_mmio_write(e + 4, 0);
	r0_mmio_write(e + 8, vector & 0xff);
}

void msix_mask(struct msix *m, uint32_t k, int masked)
{
	r0_mmio_write(m->table + 16 * k + 12, masked ? MSIX_MASKED : 0);
}

int msix_masked(struct msix *m, uint32_t k)
{
	return r0_mmio_read(m->table + 16 * k + 12) & MSIX_MASKED;
}

int msix_pending(struct msix *m, uint32_t k)
{
	return (r0_mmio_read(m->pba + 4 * (k / 32)) >> (k % 32)) & 1;
}

static void setCtrl(struct msix *m, uint16_t bit, int on)
{
	uint16_t ctrl = pci_read16(m->pci, m->cap + 2);

	pci_write16(m->pci, m->cap + 2, on ? ctrl | bit : ctrl & ~bit);
}

void msix_enable(struct msix *m, int on) { setCtrl(m, MSIX_CTRL_ENABLE, on); }
void msix_function_mask(struct msix *m, int on) { setCtrl(m, MSIX_CTRL_FMASK, on); }
