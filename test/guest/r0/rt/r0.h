/* The ring-0 runtime for exolab's bare-machine test programs: console and power-off, the IDT
   and a C dispatcher, page tables, control registers, the local APIC, spinlocks, starting the
   application processors and a round trip through ring 3. No libc; one image at 1 MiB. */

#ifndef R0_H
#define R0_H

#include <stdarg.h>
#include <stdint.h>

/* ---- the machine (exolab DESIGN section 2) ---- */
#define R0_UART		0xfe000000u	/* 16550 THR: byte writes */
#define R0_SYSCTL	0xfe001000u	/* 32-bit write: power off with that status */
#define R0_LAPIC	0xfee00000u
#define R0_BOOT_MAGIC	0x4c4f5845u	/* EAX at entry: 'EXOL' */
#define R0_MAX_CORES	64
#define R0_TRAMPOLINE	0x8000u		/* where the AP start code is copied: below 1 MiB */

/* selectors the flat model hands out: ring-0 code/data, ring-3 code/data */
#define R0_KCODE	0x08
#define R0_KDATA	0x10
#define R0_UCODE	0x1b
#define R0_UDATA	0x23

/* ---- control registers and page-table bits (SDM vol. 3A, 2.5 and 4.3) ---- */
#define CR0_PE	0x00000001u
#define CR0_WP	0x00010000u
#define CR0_PG	0x80000000u
#define CR4_PSE	0x00000010u
#define CR4_PGE	0x00000080u

#define PTE_P	0x001u
#define PTE_W	0x002u
#define PTE_U	0x004u
#define PTE_PWT	0x008u
#define PTE_PCD	0x010u
#define PTE_A	0x020u
#define PTE_D	0x040u
#define PTE_PS	0x080u
#define PTE_G	0x100u
#define PAGE	4096u
#define BIGPAGE	0x400000u

/* #PF error code bits */
#define PF_P	1u	/* protection violation (else: not present) */
#define PF_W	2u	/* write */
#define PF_U	4u	/* user mode */

/* ---- local APIC registers (SDM vol. 3A, table 11-1) ---- */
#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_PPR	0x0a0
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ISR	0x100
#define LAPIC_IRR	0x200
#define LAPIC_ESR	0x280
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_CCR	0x390
#define LAPIC_TIMER_DCR	0x3e0

#define SVR_ENABLE	0x100u
#define LVT_MASKED	0x10000u
#define LVT_PERIODIC	0x20000u
#define ICR_FIXED	0x000u
#define ICR_INIT	0x500u
#define ICR_STARTUP	0x600u
#define ICR_BUSY	0x1000u		/* delivery status */
#define ICR_ASSERT	0x4000u
#define ICR_SELF	0x40000u
#define ICR_ALL		0x80000u
#define ICR_OTHERS	0xc0000u
#define DCR_DIV1	0xbu
#define DCR_DIV16	0x3u

/* ---- console, power, checks ---- */
void r0_putc(char c);
void r0_puts(const char *s);
/* %d %u %x %08x %s %c %%: enough for test reports; serialised across cores */
void r0_printf(const char *fmt, ...);
void r0_vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void r0_poweroff(uint32_t status);

/* "ok NAME" or "FAIL NAME: details"; the tally decides main's status */
int r0_check(int cond, const char *name, const char *fmt, ...);
int r0_failures(void);
/* what main returns: 0 if every check passed */
int r0_finish(void);

/* ---- interrupts ---- */
/* The frame every stub builds: pusha's registers, then the vector, the error code (0 where
   the CPU pushes none), then what the CPU pushed; esp3/ss3 only on a ring-3 entry. */
struct r0_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
	uint32_t esp3, ss3;
};
typedef void (*r0_handler)(struct r0_frame *f);

void r0_idt_init(void);		/* BSP: build the IDT (every vector has a stub) */
void r0_idt_load(void);		/* each core: lidt */
void r0_set_handler(int vector, r0_handler h);
/* gate DPL 3: reachable by int n from ring 3 */
void r0_set_user_gate(int vector);
/* an IDT pseudo-descriptor for the garbage tests */
void r0_lidt(uint32_t base, uint16_t limit);

/* ---- control registers, TSC, MSRs ---- */
static inline uint32_t r0_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0,%0" : "=r"(v)); return v; }
static inline uint32_t r0_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2,%0" : "=r"(v)); return v; }
static inline uint32_t r0_cr3(void) { uint32_t v; __asm__ volatile("mov %%cr3,%0" : "=r"(v)); return v; }
static inline uint32_t r0_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4,%0" : "=r"(v)); return v; }
static inline void r0_set_cr0(uint32_t v) { __asm__ volatile("mov %0,%%cr0" : : "r"(v) : "memory"); }
static inline void r0_set_cr3(uint32_t v) { __asm__ volatile("mov %0,%%cr3" : : "r"(v) : "memory"); }
static inline void r0_set_cr4(uint32_t v) { __asm__ volatile("mov %0,%%cr4" : : "r"(v) : "memory"); }
static inline void r0_invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t r0_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void r0_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t r0_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void r0_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void r0_sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* sti;hlt: the shadow of sti covers hlt, so a pending interrupt wakes the hlt, never slips by */
static inline void r0_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void r0_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint32_t r0_eflags(void) { uint32_t v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }

static inline uint32_t r0_mmio_read(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void r0_mmio_write(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* spin until `cycles` of TSC have passed, or `done` (if given) becomes nonzero; 1 if done */
int r0_wait(uint64_t cycles, volatile uint32_t *done, uint32_t want);

/* ---- paging (two-level, 4 KiB pages, optional 4 MiB pages) ---- */
/* A fresh, zeroed page directory or table from a static pool. */
uint32_t *r0_page_alloc(void);
/* Map one 4 KiB page; a missing page table is allocated with P|W|U (leaves decide). */
void r0_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
/* Map one 4 MiB page (needs CR4.PSE). */
void r0_map_big(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
/* The PTE of va (allocating its table), or the PDE itself for a 4 MiB page. */
volatile uint32_t *r0_pte(uint32_t *pd, uint32_t va);
volatile uint32_t *r0_pde(uint32_t *pd, uint32_t va);
/* Identity-map [0, bytes) with `flags`, plus the UART, power-off and LAPIC pages. */
void r0_identity(uint32_t *pd, uint32_t bytes, uint32_t flags);
/* CR3 = pd, CR4 |= cr4, CR0 |= PG|WP; published for the APs, which copy it. */
void r0_paging_on(uint32_t *pd, uint32_t cr4);

/* Probes with a known encoding (2 bytes each), for handlers that skip the faulting access:
   r0_fault_skip() in a #PF handler moves EIP past it. */
uint32_t r0_probe_read(uint32_t va);		/* 8b 01: mov (%ecx),%eax */
void r0_probe_write(uint32_t va, uint32_t v);	/* 89 11: mov %edx,(%ecx) */
#define R0_PROBE_LEN 2

/* ---- local APIC ---- */
static inline uint32_t lapic_read(uint32_t reg) { return r0_mmio_read(R0_LAPIC + reg); }
static inline void lapic_write(uint32_t reg, uint32_t v) { r0_mmio_write(R0_LAPIC + reg, v); }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
uint32_t lapic_id(void);
void lapic_enable(void);	/* SVR: software enable, spurious vector 0xff */
/* Write ICR (high then low) and wait while it is busy. */
void lapic_send(uint32_t dest, uint32_t low);
/* Whether `vector` is set in the IRR (or ISR) bank. */
int lapic_irr(int vector);
int lapic_isr(int vector);

/* ---- spinlocks and atomics ---- */
typedef struct { volatile uint32_t locked; } r0_lock;
void r0_lock_acquire(r0_lock *l);	/* lock xchg */
void r0_lock_release(r0_lock *l);
static inline uint32_t r0_xadd(volatile uint32_t *p, uint32_t v)
{
	__asm__ volatile("lock xaddl %0,%1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

/* ---- application processors ---- */
typedef void (*r0_ap_fn)(uint32_t core);
/* Copy the trampoline to R0_TRAMPOLINE, INIT + STARTUP each core 1..cores-1. Every AP gets
   its own stack, loads the IDT, takes the BSP's paging (if on) and runs fn(core). */
void r0_start_aps(uint32_t cores, r0_ap_fn fn);
extern volatile uint32_t r0_cores;	/* EBX at boot */
extern volatile uint32_t r0_ram;	/* ECX at boot */

/* ---- ring 3 ---- */
/* iret to `eip` in ring 3 (CS 0x1b, SS 0x23, stack `esp`, EBX = a, ECX = b, IF off). Returns
   EAX of the user's int $0x80, or what a handler passes to r0_user_abort(). */
uint32_t r0_user_call(uint32_t eip, uint32_t esp, uint32_t a, uint32_t b);
/* From a handler of an exception taken in ring 3: abandon the user, r0_user_call returns v. */
__attribute__((noreturn)) void r0_user_abort(uint32_t v);
/* User-mode code, in the page-aligned .user section: each ends with int $0x80. */
extern char r0_user_start[], r0_user_end[];
void r0_user_load(void);	/* EAX = *(uint32_t *)EBX */
void r0_user_store(void);	/* *(uint32_t *)EBX = ECX; EAX = 0 */
#define R0_SYSCALL 0x80

/* the program */
int main(void);

#endif
