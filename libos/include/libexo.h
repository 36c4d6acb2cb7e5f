/* libexo: the exo-calls of exo.h as C functions (libos/exo/libexo.c), the Aegis-style resume
   from an upcall (libos/exo/upcall.S), and a few helpers over the boot-info page: boot
   capabilities by type, free slots, Frames carved from the boot Untyped, free virtual space.
   Every call returns its EAX: >= 0 on success, a negative EXO_E_* on error. */

#ifndef LIBEXO_H
#define LIBEXO_H

#include <stdint.h>
#include "exo.h"

/* One exo-call: number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, result in EAX. The
   argument registers are declared clobbered too: the ABI promises nothing about them. */
static inline int exo_syscall(uint32_t nr, uint32_t b, uint32_t c, uint32_t d, uint32_t s, uint32_t di)
{
	__asm__ volatile("int $0x80"
			 : "+a"(nr), "+b"(b), "+c"(c), "+d"(d), "+S"(s), "+D"(di)
			 :
			 : "memory", "cc");
	return (int)nr;
}

/* ---- capabilities ---- */
int exo_cap_mint(uint32_t src, uint32_t dst, uint32_t rights, uint32_t badge);
/* Returns the slot chosen in the target's space. */
int exo_cap_grant(uint32_t src, uint32_t principal, uint32_t rights, uint32_t badge);
int exo_cap_delete(uint32_t slot);
/* Returns the number of capabilities removed. */
int exo_cap_revoke(uint32_t slot);
int exo_cap_retype(uint32_t untyped, uint32_t type, uint32_t offset, uint32_t bytes, uint32_t dst);
/* Returns the capability word (EXO_CAPW_*); fills *info unless it is 0. */
int exo_cap_inspect(uint32_t slot, struct exo_cap_info *info);

/* ---- memory ---- */
int exo_map_frame(uint32_t frame, uint32_t va, uint32_t perms);
int exo_unmap_frame(uint32_t va);
/* The page's EXO_PTE_ACCESSED|DIRTY bits before clearing those in `clear`. */
int exo_map_query(uint32_t va, uint32_t clear);

/* ---- upcalls ---- */
/* The kernel calls a handler on its exception stack with the frame as its one argument; the
   handler must not return: it ends with exo_resume(f) (or exo_exit). */
typedef void exo_upcall_fn(struct exo_upcall_frame *f);
int exo_upcall_entry(uint32_t kind, exo_upcall_fn *handler, void *stack_top);
/* Continue the interrupted context of `f`: its registers, flags, stack and EIP, all in ring 3
   (no exo-call). Uses 36 bytes below f->esp on the interrupted stack. */
__attribute__((noreturn)) void exo_resume(struct exo_upcall_frame *f);

/* ---- interrupts and devices ---- */
int exo_irq_bind(uint32_t vector, uint32_t mode, uint32_t core);
int exo_irq_unbind(uint32_t vector);
int exo_queue_bind(uint32_t queue, uint32_t domain, uint32_t vector, uint32_t va);
int exo_queue_unbind(uint32_t queue);
int exo_dma_map(uint32_t domain, uint32_t frame, uint32_t iova, uint32_t perms);
int exo_dma_unmap(uint32_t domain, uint32_t iova);
/* EXO_BLK_READ/WRITE of `count` sectors at `sector` of the range into or from the caller's
   own mapped pages at `va` (page aligned); EXO_BLK_FLUSH takes no sectors. */
int exo_block_io(uint32_t range, uint32_t op, uint32_t sector, uint32_t count, void *va);

/* ---- scheduling, revocation, console, exit ---- */
int exo_yield(void);
int exo_donate(uint32_t principal);
int exo_revoke_reply(uint32_t slot, uint32_t request);
/* Returns the number of notices copied into buf (at most capacity). */
int exo_repo_notice(struct exo_repo_notice *buf, uint32_t capacity);
/* Returns the bytes written. */
int exo_console_write(uint32_t uart, const void *buf, uint32_t len);
__attribute__((noreturn)) void exo_exit(int status);

/* ---- the boot-info page and the principal's resources ---- */
/* Who and where main() runs, as the platform's crt0 found them at entry (EAX and EDX). */
extern uint32_t exo_principal, exo_core;
/* One core (the one crt0 runs main() on) uses these: they are not safe on two at once. */
static inline const struct exo_boot_info *exo_boot_info(void)
{
	return (const struct exo_boot_info *)EXO_BOOT_INFO_VA;
}
/* The index-th boot capability of `type` in boot-info order, or 0. */
const struct exo_boot_cap *exo_boot_cap(uint32_t type, uint32_t index);
/* Its slot, or EXO_SLOT_NONE. */
uint32_t exo_boot_slot(uint32_t type, uint32_t index);
/* An empty slot above the boot capabilities, or EXO_SLOT_NONE when the space is full. */
uint32_t exo_slot_alloc(void);
/* A new Frame of `bytes` (rounded up to pages) carved from the boot Untyped into a fresh
   slot, stored in *slot; 0, or the EXO_E_* of the failure (EXO_E_NO_MEMORY: none left). */
int exo_frame_alloc(uint32_t bytes, uint32_t *slot);
/* `bytes` (rounded up to pages) of virtual space nothing is mapped at, from boot info free_va
   up; 0 when there is no more. Never reused. */
uint32_t exo_va_alloc(uint32_t bytes);
/* A Frame allocated and mapped with `perms` (EXO_R_READ|WRITE|EXECUTE); the address, or 0.
   The Frame's slot goes to *slot unless that is 0. The memory is not zeroed. */
void *exo_mem_map(uint32_t bytes, uint32_t perms, uint32_t *slot);

#endif
