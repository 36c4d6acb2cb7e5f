/* What every device program starts with: the local APIC on, bus 0 enumerated, the IOMMU's
   fault event wired to a counting handler, and checksum/pattern helpers. */

#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>
#include "pci.h"
#include "iommu.h"

#define VEC_NIC		0x40	/* + queue */
#define VEC_IOMMU	0x50
#define VEC_BLK		0x60	/* + queue */
#define VEC_TIMER	0x30	/* the watchdog of board_halt */
#define BOARD_MAX_DEVS	16

extern struct pci_dev board_devs[BOARD_MAX_DEVS];
extern int board_ndevs;
extern volatile uint32_t board_fault_msis;

/* LAPIC, enumeration, IOMMU tables with its fault MSI to core 0 (translation still off). */
void board_init(void);
/* With IF clear: sleep in hlt until an interrupt, or the LAPIC timer after `cycles`; returns
   with IF set. A lost MSI becomes a timeout, never a hang. */
void board_halt(uint32_t cycles);
uint32_t fnv32(const void *p, uint32_t len);
void fill_pattern(void *p, uint32_t len, uint32_t seed);



#include "nic.h"
/* The NIC probed, an IOMMU domain `id` for it holding the rings and buffers (TX buffers
   read-only), translation on, queue 0 up with RX posted; 0 on success. */
int board_nic_up(struct nic *n, struct iommu_domain *dom, uint32_t id, struct nic_desc *txr, uint8_t *txb, uint32_t txn,
		 struct nic_desc *rxr, uint8_t *rxb, uint32_t rxn, uint32_t bufsize);
#endif
