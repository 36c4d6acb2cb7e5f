/* The unikernel platform's own view of the machine (DESIGN section 2): the bare machine's
   board (../pc/pc.h: MMIO, the local APIC, PCI, MSI-X, the IOMMU, the disk), its vectors and
   the NIC's registers. Nothing here is visible to the LibOS above plat.h. */

#ifndef UNI_H
#define UNI_H

#include <stdint.h>
#include "../pc/pc.h"

#define VEC_NIC		0x40	/* + queue */
#define VEC_SPURIOUS	0xff

/* The NIC (machine/nic.ts): identity, global registers, the queue pages. The guest build
   passes the queue layout from machine/nic.ts, so the two cannot disagree. */
#define NIC_VENDOR	0xe1ab
#define NIC_DEVICE	0x0010
#ifndef EXO_NIC_QUEUE_BASE
#define EXO_NIC_QUEUE_BASE	0x1000
#endif
#ifndef EXO_NIC_QUEUE_STRIDE
#define EXO_NIC_QUEUE_STRIDE	0x1000
#endif
#ifndef UNI_NIC_QUEUE
#define UNI_NIC_QUEUE	0	/* the queue this image drives (the NIC's default RX queue) */
#endif
#define NIC_MACLO	0x020
#define NIC_MACHI	0x024
#define NIC_RXRECV	0x030
#define NIC_RXDELIV	0x034
#define NIC_RXDROP	0x038
#define NIC_TXSENT	0x03c
#define NIC_DROPS	0x040	/* + 4 * reason */
#define NQ_VEC		0x2c

/* The frame crt0's stubs build: pusha, vector, error code, then the CPU's. */
struct uni_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

#endif
