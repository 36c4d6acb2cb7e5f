/* A malicious principal (B) next to a victim (A, revdma-like: its buffers mapped in its DMA
   domain at I/O address 0x200000, its queue 0 bound, its vector routed). B tries to reach A's
   resources every way an exokernel LibOS could: every slot number with every call (it only
   ever finds its own capabilities), mapping over the kernel, binding A's queue and vector, and
   finally programming its own NIC queue to DMA from A's I/O addresses (the IOMMU blocks it:
   B's queue goes through B's domain). Exit 0 when every attempt failed the right way. */
#include "../../../apps/labs/guests/exok.h"

struct desc { uint32_t addr, addr_hi; uint16_t len; uint8_t cmd, status; uint32_t hash; };

void _start(void)
{
	const struct exo_boot_info *bi = bootInfo();
	int bad = 0;
	/* every slot: whatever B finds there is B's own (its boot capabilities), nothing else */
	uint32_t found = 0;
	for (uint32_t s = 0; s < EXO_DEFAULT_SLOTS; s++)
		if (exo(EXO_CAP_INSPECT, s, 0, 0, 0) >= 0)
			found++;
	if (found != bi->ncaps) { say("malicious: slots found ", (int32_t)found); bad++; }
	say("malicious: capabilities found ", (int32_t)found);
	/* the kernel's memory, and past the top of the user range */
	uint32_t ut = bootCap(EXO_CAP_UNTYPED, 0);
	int32_t r = exo5(EXO_CAP_RETYPE, ut, EXO_CAP_FRAME, 0, 4096, 60);
	int32_t k1 = exo(EXO_MAP_FRAME, 60, 0x1000, EXO_R_READ | EXO_R_WRITE, 0);
	int32_t k2 = exo(EXO_MAP_FRAME, 60, 0x400000, EXO_R_READ, 0);
	int32_t k3 = exo(EXO_MAP_FRAME, 60, 0xfffff000u, EXO_R_READ, 0);
	say("malicious: map over kernel memory ", k1);
	bad += r != 0 || k1 != EXO_E_BAD_ARG || k2 != EXO_E_BAD_ARG || k3 != EXO_E_BAD_ARG;
	/* A's queue 0 and vector 0x40: B holds no capability for them; guessing slots finds B's */
	uint32_t myq = bootCap(EXO_CAP_DEVICE_QUEUE, 0), myv = bootCap(EXO_CAP_MSI_VECTOR, 0), dom = bootCap(EXO_CAP_DMA_DOMAIN, 0);
	struct exo_cap_info qi, vi;
	exo(EXO_CAP_INSPECT, myq, (uint32_t)&qi, 0, 0);
	exo(EXO_CAP_INSPECT, myv, (uint32_t)&vi, 0, 0);
	say("malicious: my queue ", (int32_t)(qi.base & 0xffff));
	say("malicious: my vector ", (int32_t)vi.base);
	bad += (qi.base & 0xffff) == 0 || vi.base == 0x40;
	/* B binds its own queue and points a TX descriptor at A's I/O address */
	uint32_t va = bi->free_va;
	r = exo5(EXO_CAP_RETYPE, ut, EXO_CAP_FRAME, 4096, 4096, 61);
	bad += r != 0;
	bad += exo(EXO_MAP_FRAME, 61, va, EXO_R_READ | EXO_R_WRITE, 0) != 0;
	bad += exo(EXO_DMA_MAP, dom, 61, 0x100000, EXO_R_READ | EXO_R_WRITE) != 0;
	int32_t qb = exo(EXO_QUEUE_BIND, myq, dom, myv, va + 0x10000);
	say("malicious: bind my queue ", qb);
	bad += qb != 0;
	volatile struct desc *ring = (volatile struct desc *)va;
	volatile uint32_t *regs = (volatile uint32_t *)(va + 0x10000);
	ring[0].addr = 0x200000;	/* A's buffer, as A's domain has it */
	ring[0].len = 64;
	ring[0].cmd = 0x09;
	regs[0] = 0x100000;
	regs[1] = 16;
	regs[8] = 1;
	regs[3] = 1;
	for (int k = 0; k < 200; k++)
		exo(EXO_YIELD, 0, 0, 0, 0);
	uint32_t qstatus = regs[9];
	say("malicious: queue status after DMA at A's address ", (int32_t)qstatus);
	say("malicious: done, bad ", bad);
	leave(bad);
}
