/* libexo: one wrapper per exo-call of exo.h (DESIGN section 3: int 0x80, number in EAX,
   arguments in EBX, ECX, EDX, ESI, EDI, result in EAX), and the helpers over the boot-info
   page a LibOS starts from: boot capabilities by type, slots, Frames and virtual space. */

#include <stddef.h>
#include "libexo.h"

/* upcall.S reads the frame by these offsets */
_Static_assert(offsetof(struct exo_upcall_frame, eip) == 12, "upcall.S F_EIP");
_Static_assert(offsetof(struct exo_upcall_frame, eflags) == 16, "upcall.S F_EFLAGS");
_Static_assert(offsetof(struct exo_upcall_frame, esp) == 20, "upcall.S F_ESP");
_Static_assert(offsetof(struct exo_upcall_frame, eax) == 24, "upcall.S F_EAX");
_Static_assert(offsetof(struct exo_upcall_frame, edi) == 48, "upcall.S F_EDI");

/* ---- capabilities ---- */

int exo_cap_mint(uint32_t src, uint32_t dst, uint32_t rights, uint32_t badge)
{
	return exo_syscall(EXO_CAP_MINT, src, dst, rights, badge, 0);
}

int exo_cap_grant(uint32_t src, uint32_t principal, uint32_t rights, uint32_t badge)
{
	return exo_syscall(EXO_CAP_GRANT, src, principal, rights, badge, 0);
}

int exo_cap_delete(uint32_t slot)
{
	return exo_syscall(EXO_CAP_DELETE, slot, 0, 0, 0, 0);
}

int exo_cap_revoke(uint32_t slot)
{
	return exo_syscall(EXO_CAP_REVOKE, slot, 0, 0, 0, 0);
}

int exo_cap_retype(uint32_t untyped, uint32_t type, uint32_t offset, uint32_t bytes, uint32_t dst)
{
	return exo_syscall(EXO_CAP_RETYPE, untyped, type, offset, bytes, dst);
}

int exo_cap_inspect(uint32_t slot, struct exo_cap_info *info)
{
	return exo_syscall(EXO_CAP_INSPECT, slot, (uint32_t)info, 0, 0, 0);
}

/* ---- memory ---- */

int exo_map_frame(uint32_t frame, uint32_t va, uint32_t perms)
{
	return exo_syscall(EXO_MAP_FRAME, frame, va, perms, 0, 0);
}

int exo_unmap_frame(uint32_t va)
{
	return exo_syscall(EXO_UNMAP_FRAME, va, 0, 0, 0, 0);
}

int exo_map_query(uint32_t va, uint32_t clear)
{
	return exo_syscall(EXO_MAP_QUERY, va, clear, 0, 0, 0);
}

/* ---- upcalls ---- */

int exo_upcall_entry(uint32_t kind, exo_upcall_fn *handler, void *stack_top)
{
	return exo_syscall(EXO_UPCALL_ENTRY, kind, (uint32_t)handler, (uint32_t)stack_top, 0, 0);
}

/* ---- interrupts and devices ---- */

int exo_irq_bind(uint32_t vector, uint32_t mode, uint32_t core)
{
	return exo_syscall(EXO_IRQ_BIND, vector, mode, core, 0, 0);
}

int exo_irq_unbind(uint32_t vector)
{
	return exo_syscall(EXO_IRQ_UNBIND, vector, 0, 0, 0, 0);
}

int exo_queue_bind(uint32_t queue, uint32_t domain, uint32_t vector, uint32_t va)
{
	return exo_syscall(EXO_QUEUE_BIND, queue, domain, vector, va, 0);
}

int exo_queue_unbind(uint32_t queue)
{
	return exo_syscall(EXO_QUEUE_UNBIND, queue, 0, 0, 0, 0);
}

int exo_dma_map(uint32_t domain, uint32_t frame, uint32_t iova, uint32_t perms)
{
	return exo_syscall(EXO_DMA_MAP, domain, frame, iova, perms, 0);
}

int exo_dma_unmap(uint32_t domain, uint32_t iova)
{
	return exo_syscall(EXO_DMA_UNMAP, domain, iova, 0, 0, 0);
}

int exo_block_io(uint32_t range, uint32_t op, uint32_t sector, uint32_t count, void *va)
{
	return exo_syscall(EXO_BLOCK_IO, range, op, sector, count, (uint32_t)va);
}

/* ---- scheduling, revocation, console, exit ---- */

int exo_yield(void)
{
	return exo_syscall(EXO_YIELD, 0, 0, 0, 0, 0);
}

int exo_donate(uint32_t principal)
{
	return exo_syscall(EXO_DONATE, principal, 0, 0, 0, 0);
}

int exo_revoke_reply(uint32_t slot, uint32_t request)
{
	return exo_syscall(EXO_REVOKE_REPLY, slot, request, 0, 0, 0);
}

int exo_repo_notice(struct exo_repo_notice *buf, uint32_t capacity)
{
	return exo_syscall(EXO_REPO_NOTICE, (uint32_t)buf, capacity, 0, 0, 0);
}

int exo_console_write(uint32_t uart, const void *buf, uint32_t len)
{
	return exo_syscall(EXO_CONSOLE_WRITE, uart, (uint32_t)buf, len, 0, 0);
}

__attribute__((noreturn)) void exo_exit(int status)
{
	for (;;)	/* EXIT does not return; if it ever did, ask again */
		exo_syscall(EXO_EXIT, (uint32_t)status, 0, 0, 0, 0);
}

/* ---- the boot-info page and the principal's resources ---- */

uint32_t exo_principal, exo_core;

#define PAGE_UP(x)	(((x) + EXO_PAGE_SIZE - 1) & ~(uint32_t)(EXO_PAGE_SIZE - 1))
#define CORE_STACK	0x10000u	/* each core's initial stack, below EXO_USER_STACK_TOP */

static struct {
	int ready;
	uint32_t untyped, ut_size, ut_next;	/* the boot Untyped: slot, bytes, next free offset */
	uint32_t next_slot;			/* lowest slot not yet looked at */
	uint32_t next_va, va_end;		/* free virtual space */
} res;

static const struct exo_boot_cap *bootCaps(void)
{
	return (const struct exo_boot_cap *)(exo_boot_info() + 1);
}

const struct exo_boot_cap *exo_boot_cap(uint32_t type, uint32_t index)
{
	const struct exo_boot_info *bi = exo_boot_info();

	for (uint32_t k = 0; k < bi->ncaps; k++)
		if (bootCaps()[k].type == type && index-- == 0)
			return &bootCaps()[k];
	return 0;
}

uint32_t exo_boot_slot(uint32_t type, uint32_t index)
{
	const struct exo_boot_cap *c = exo_boot_cap(type, index);

	return c ? c->slot : EXO_SLOT_NONE;
}

/* First use: the Untyped to carve from, the slots and the addresses nobody holds yet. */
static void resInit(void)
{
	const struct exo_boot_info *bi = exo_boot_info();
	const struct exo_boot_cap *ut = exo_boot_cap(EXO_CAP_UNTYPED, 0);

	res.untyped = ut ? ut->slot : EXO_SLOT_NONE;
	res.ut_size = ut ? ut->size : 0;
	for (uint32_t k = 0; k < bi->ncaps; k++)
		if (bootCaps()[k].slot >= res.next_slot)
			res.next_slot = bootCaps()[k].slot + 1;
	res.next_va = PAGE_UP(bi->free_va);
	/* the cores' initial stacks sit below the top, 64 KiB each (assumed: one per core of
	   the machine, which is more than this principal has) */
	uint32_t cores = bi->ncores ? bi->ncores : 1;
	res.va_end = cores < 0x1000 ? EXO_USER_STACK_TOP - cores * CORE_STACK : 0;
	if (res.va_end < res.next_va)
		res.va_end = res.next_va;
	res.ready = 1;
}

uint32_t exo_slot_alloc(void)
{
	if (!res.ready)
		resInit();
	for (;;) {
		uint32_t s = res.next_slot;
		int r = exo_cap_inspect(s, 0);
		if (r == EXO_E_BAD_SLOT)
			return EXO_SLOT_NONE;
		res.next_slot = s + 1;
		if (r == EXO_E_EMPTY)
			return s;
	}
}

int exo_frame_alloc(uint32_t bytes, uint32_t *slot)
{
	if (!res.ready)
		resInit();
	uint32_t size = PAGE_UP(bytes);
	if (res.untyped == EXO_SLOT_NONE || size == 0 || size < bytes || size > res.ut_size - res.ut_next)
		return EXO_E_NO_MEMORY;
	uint32_t s = exo_slot_alloc();
	if (s == EXO_SLOT_NONE)
		return EXO_E_NO_MEMORY;
	int r = exo_cap_retype(res.untyped, EXO_CAP_FRAME, res.ut_next, size, s);
	if (r < 0)
		return r;
	res.ut_next += size;
	*slot = s;
	return 0;
}

uint32_t exo_va_alloc(uint32_t bytes)
{
	if (!res.ready)
		resInit();
	uint32_t size = PAGE_UP(bytes);
	if (size == 0 || size < bytes || size > res.va_end - res.next_va)
		return 0;
	uint32_t va = res.next_va;
	res.next_va += size;
	return va;
}

void *exo_mem_map(uint32_t bytes, uint32_t perms, uint32_t *slot)
{
	uint32_t s, va;

	if (exo_frame_alloc(bytes, &s) != 0)
		return 0;
	if (!(va = exo_va_alloc(bytes)) || exo_map_frame(s, va, perms) != 0) {
		exo_cap_delete(s);	/* the bump allocator does not reuse its range */
		return 0;
	}
	if (slot)
		*slot = s;
	return (void *)va;
}
