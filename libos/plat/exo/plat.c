/* plat.h for the exo placement: the app and the LibOS run in ring 3 in their own address
   space over exo-calls (DESIGN sections 3-4). The console is the UART capability, memory is
   carved from the boot Untyped and mapped by secure bindings, the NIC queue's register page
   and its DMA come by QUEUE_BIND and DMA_MAP, interrupts arrive as upcalls. One core runs
   all of this (crt0.S picks it); nothing here is safe on two cores at once. */

#include <stddef.h>
#include "libc.h"
#include "libexo.h"
#include "plat.h"

int main(void);

/* crt0.S walks the boot page by these */
_Static_assert(offsetof(struct exo_boot_info, ncaps) == 12, "crt0.S BI_NCAPS");
_Static_assert(sizeof(struct exo_boot_info) == 40, "crt0.S BI_BYTES");
_Static_assert(offsetof(struct exo_boot_cap, type) == 4, "crt0.S BC_TYPE");
_Static_assert(offsetof(struct exo_boot_cap, base) == 8, "crt0.S BC_BASE");
_Static_assert(sizeof(struct exo_boot_cap) == 20, "crt0.S BC_BYTES");
_Static_assert(EXO_CAP_CORE_SLICE == 3 && EXO_YIELD == 0x138, "crt0.S numbers");

#define LINE_BYTES	256		/* plat_putc's buffer: a line, or this much of one */
#define IRQ_STACK	0x4000u		/* the interrupt upcall's exception stack */

static uint32_t uartSlot = EXO_SLOT_NONE;
static char line[LINE_BYTES];
static uint32_t lineLen;
static uint32_t nicVector = EXO_SLOT_NONE;	/* the MSI vector slot of the queue plat_nic_open took */
static volatile uint32_t irqCount;

void exo_start(uint32_t principal, const struct exo_boot_info *bi, uint32_t core) __attribute__((noreturn));
static void revocationsOn(void);

/* From crt0.S on the one core that runs the program. */
void exo_start(uint32_t principal, const struct exo_boot_info *bi, uint32_t core)
{
	exo_principal = principal;
	exo_core = core;
	if (bi->magic != EXO_BOOT_MAGIC)
		exo_exit(0x7d);		/* no boot page to find even the console in */
	uartSlot = exo_boot_slot(EXO_CAP_UART, 0);
	revocationsOn();
	plat_exit(main());
}

/* ---- visible revocation ---- */

#define REVOKE_STACK	0x2000u
static volatile uint32_t revokedReturned, revokedKept;
static volatile int irqGone;	/* the MSI vector was given back: waits poll from then on */

/* The kernel asks for a capability back (arg0 its slot, arg1 the request). The LibOS gives
   back what it can live without, an MSI vector (its waits become timed polls) or a CoreSlice
   of a core it does not run on, and keeps the rest: for those the kernel's deadline and its
   abort protocol decide. */
static void onRevocation(struct exo_upcall_frame *f)
{
	struct exo_cap_info info;
	uint32_t slot = f->arg0;
	int type = exo_cap_inspect(slot, &info) >= 0 ? (int)EXO_CAPW_GET(info.word, TYPE) : -1;
	int spare = type == EXO_CAP_MSI_VECTOR || (type == EXO_CAP_CORE_SLICE && info.base != exo_core);

	if (spare && exo_revoke_reply(slot, f->arg1) == 0) {
		if (slot == nicVector) {
			nicVector = EXO_SLOT_NONE;
			irqGone = 1;
		}
		revokedReturned++;
		printf("exo: gave back slot %u (type %d) as the kernel asked\n", slot, type);
	} else {
		revokedKept++;
		printf("exo: keeping slot %u (type %d): the kernel may take it at its deadline\n", slot, type);
	}
	exo_resume(f);
}

static void revocationsOn(void)
{
	uint8_t *stack = exo_mem_map(REVOKE_STACK, EXO_R_READ | EXO_R_WRITE, 0);
	if (stack)
		exo_upcall_entry(EXO_UPCALL_REVOCATION, onRevocation, stack + REVOKE_STACK);
}

/* ---- console, time, exit ---- */

static void lineFlush(void)
{
	uint32_t off = 0;

	while (uartSlot != EXO_SLOT_NONE && off < lineLen) {
		int n = exo_console_write(uartSlot, line + off, lineLen - off);
		if (n <= 0)
			break;	/* the console is gone: the output with it */
		off += (uint32_t)n;
	}
	lineLen = 0;
}

/* One CONSOLE_WRITE per line: a crossing per character would swamp what is measured. */
void plat_putc(char c)
{
	line[lineLen++] = c;
	if (c == '\n' || lineLen == LINE_BYTES)
		lineFlush();
}

void plat_relax(void)
{
	exo_yield();
}

__attribute__((noreturn)) void plat_exit(int status)
{
	lineFlush();
	exo_exit(status);
}

/* ---- DMA memory ---- */

/* Whole pages: a Frame carved and mapped read-write, then mapped into the boot DMA domain at
   IOVA == VA (the domain is this principal's alone, so identity is as good as any). */
int plat_dma_alloc(uint32_t bytes, uint32_t align, uint32_t flags, struct plat_dma *out)
{
	uint32_t dom = exo_boot_slot(EXO_CAP_DMA_DOMAIN, 0), frame;

	if (align == 0 || (align & (align - 1)) || align > EXO_PAGE_SIZE || bytes == 0 || dom == EXO_SLOT_NONE)
		return -1;
	uint8_t *va = exo_mem_map(bytes, EXO_R_READ | EXO_R_WRITE, &frame);
	if (!va)
		return -1;
	uint32_t dev = EXO_R_READ | (flags & PLAT_DMA_DEV_WRITE ? EXO_R_WRITE : 0);
	int r = exo_dma_map(dom, frame, (uint32_t)va, dev);
	if (r != 0) {
		printf("exo: DMA_MAP of %u bytes: %d\n", bytes, r);
		return -1;
	}
	if (flags & PLAT_DMA_ZERO)
		memset(va, 0, bytes);
	out->va = va;
	out->iova = (uint32_t)va;
	out->bytes = bytes;
	return 0;
}

/* ---- the NIC ---- */

/* The first queue of the boot capabilities, its register page bound at a free address with
   the DMA domain and (when there is one) its MSI vector: boot caps pair them by order. */
int plat_nic_open(struct plat_nic *n)
{
	const struct exo_boot_info *bi = exo_boot_info();
	const struct exo_boot_cap *q = exo_boot_cap(EXO_CAP_DEVICE_QUEUE, 0);
	uint32_t dom = exo_boot_slot(EXO_CAP_DMA_DOMAIN, 0), vec = exo_boot_slot(EXO_CAP_MSI_VECTOR, 0);
	uint32_t va = exo_va_alloc(EXO_PAGE_SIZE);

	if (!q || dom == EXO_SLOT_NONE || !va)
		return -1;
	int r = exo_queue_bind(q->slot, dom, vec, va);
	if (r != 0) {
		printf("exo: QUEUE_BIND of queue %x: %d\n", q->base, r);
		return -1;
	}
	nicVector = vec;
	n->qregs = (volatile uint32_t *)va;
	n->queue = q->base & 0xffff;
	for (int k = 0; k < 4; k++)
		n->mac[k] = (uint8_t)(bi->mac_lo >> 8 * k);
	n->mac[4] = (uint8_t)bi->mac_hi;
	n->mac[5] = (uint8_t)(bi->mac_hi >> 8);
	return 0;
}

/* The interrupt upcall: count, then back to whatever it interrupted. The kernel has done the
   EOI; the queue's causes are the driver's to acknowledge. */
static void onInterrupt(struct exo_upcall_frame *f)
{
	if (f->kind == EXO_UPCALL_INTERRUPT)
		irqCount++;
	exo_resume(f);
}

int plat_nic_irq_enable(struct plat_nic *n)
{
	if (nicVector == EXO_SLOT_NONE || !exo_va_alloc(EXO_PAGE_SIZE))	/* an unmapped guard page below */
		return -1;
	uint8_t *stack = exo_mem_map(IRQ_STACK, EXO_R_READ | EXO_R_WRITE, 0);
	if (!stack)
		return -1;
	int r = exo_upcall_entry(EXO_UPCALL_INTERRUPT, onInterrupt, stack + IRQ_STACK);
	if (r == 0)
		r = exo_irq_bind(nicVector, exo_boot_info()->irq_mode, exo_core);
	if (r != 0) {
		printf("exo: interrupt upcall or IRQ_BIND: %d\n", r);
		return -1;
	}
	return 0;
}

/* The NIC's global registers are the kernel's: a LibOS sees its own queue only. */
int plat_nic_counters(struct plat_nic *n, struct plat_nic_counters *c)
{
	return -1;
}

/* ---- interrupts ---- */

uint32_t plat_irq_count(void)
{
	return irqCount;
}

/* Yield between looks: an idle core halts in the kernel until an interrupt, whose upcall runs
   on the way back, so a count that changed is seen at the next look. */
uint32_t plat_irq_wait(uint32_t seen, uint64_t cycles)
{
	uint64_t t0 = plat_cycles();

	if (irqGone) {
		/* No interrupt will come: sleep to the next tick, then have the caller look again. */
		exo_yield();
		return seen + 1;
	}

	while (irqCount == seen && !irqGone && plat_cycles() - t0 < cycles)
		exo_yield();
	return irqCount;
}
