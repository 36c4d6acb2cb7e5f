/* The ring-0 runtime's C half: console, checks, the IDT and its dispatcher, page tables, the
   local APIC, spinlocks, AP start-up. Intel SDM vol. 3A chapters 4, 6 and 11 in miniature. */

#include "r0.h"

/* ---- console and power ---- */

static r0_lock printLock;

void r0_putc(char c)
{
	*(volatile uint8_t *)R0_UART = (uint8_t)c;
}

void r0_puts(const char *s)
{
	while (*s)
		r0_putc(*s++);
}

__attribute__((noreturn)) void r0_poweroff(uint32_t status)
{
	for (;;)
		r0_mmio_write(R0_SYSCTL, status);
}

static void putNum(uint32_t v, unsigned base, int width, char pad, int neg)
{
	char buf[12];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width-- > n)
		r0_putc(pad);
	while (n)
		r0_putc(buf[--n]);
}

static void vprintfLocked(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0;
		char pad = ' ';

		if (*fmt != '%') {
			r0_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 'd': {
			int32_t v = va_arg(ap, int32_t);
			putNum(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u': putNum(va_arg(ap, uint32_t), 10, width, pad, 0); break;
		case 'x': putNum(va_arg(ap, uint32_t), 16, width, pad, 0); break;
		case 'c': r0_putc((char)va_arg(ap, int)); break;
		case 's': r0_puts(va_arg(ap, const char *)); break;
		case '%': r0_putc('%'); break;
		default: r0_putc('?'); break;
		}
	}
}

void r0_vprintf(const char *fmt, va_list ap)
{
	r0_lock_acquire(&printLock);
	vprintfLocked(fmt, ap);
	r0_lock_release(&printLock);
}

void r0_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r0_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- checks ---- */

static volatile uint32_t failures, passes;

int r0_check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	r0_lock_acquire(&printLock);
	if (cond) {
		passes++;
		r0_puts("ok ");
		r0_puts(name);
	} else {
		failures++;
		r0_puts("FAIL ");
		r0_puts(name);
		r0_puts(": ");
		va_start(ap, fmt);
		vprintfLocked(fmt, ap);
		va_end(ap);
	}
	r0_putc('\n');
	r0_lock_release(&printLock);
	return cond;
}

int r0_failures(void)
{
	return (int)failures;
}

int r0_finish(void)
{
	r0_printf("%u passed, %u failed\n", passes, failures);
	return failures ? 1 : 0;
}

int r0_wait(uint64_t cycles, volatile uint32_t *done, uint32_t want)
{
	uint64_t start = r0_rdtsc();

	while (r0_rdtsc() - start < cycles) {
		if (done && *done >= want)
			return 1;
		r0_pause();
	}
	return done ? *done >= want : 0;
}

/* ---- the IDT (SDM 6.11: 8-byte gates) ---- */

#define GATE_INTR	0x8e00u	/* present, DPL 0, 32-bit interrupt gate */
#define GATE_DPL3	0x6000u

extern uint32_t r0_isr_table[256];
static uint32_t idt[256][2] __attribute__((aligned(8)));
static r0_handler handlers[256];

static void setGate(int v, uint32_t target, uint32_t attrs)
{
	idt[v][0] = (R0_KCODE << 16) | (target & 0xffff);
	idt[v][1] = (target & 0xffff0000u) | attrs;
}

void r0_lidt(uint32_t base, uint16_t limit)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { limit, base };

	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void r0_idt_load(void)
{
	r0_lidt((uint32_t)idt, sizeof idt - 1);
}

void r0_set_handler(int vector, r0_handler h)
{
	handlers[vector & 0xff] = h;
}

void r0_set_user_gate(int vector)
{
	setGate(vector, r0_isr_table[vector], GATE_INTR | GATE_DPL3);
}

static void sysReturn(struct r0_frame *f)
{
	r0_user_abort(f->eax);
}

void r0_idt_init(void)
{
	for (int v = 0; v < 256; v++)
		setGate(v, r0_isr_table[v], GATE_INTR);
	r0_set_user_gate(R0_SYSCALL);
	r0_set_handler(R0_SYSCALL, sysReturn);
}

static const char *const excNames[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9", "#TS", "#NP", "#SS", "#GP", "#PF",
};

void r0_dispatch(struct r0_frame *f)
{
	r0_handler h = handlers[f->vector & 0xff];

	if (h) {
		h(f);
		return;
	}
	if (f->vector == 0xff)	/* the spurious vector: no EOI (SDM 11.9) */
		return;
	r0_printf("FAIL unexpected %s vector %u error %x at eip %x cs %x cr2 %x core %u\n",
		  f->vector < 32 && excNames[f->vector] ? excNames[f->vector] : "interrupt",
		  f->vector, f->error, f->eip, f->cs, r0_cr2(), lapic_id());
	r0_poweroff(0x80 | (f->vector & 0x7f));
}

/* ---- paging ---- */

#define POOL_PAGES 48
static uint32_t pool[POOL_PAGES][1024] __attribute__((aligned(4096)));
static uint32_t poolUsed;
static volatile uint32_t pagingCr3, pagingCr4, pagingCr0;

uint32_t *r0_page_alloc(void)
{
	if (poolUsed == POOL_PAGES) {
		r0_printf("FAIL page-table pool exhausted\n");
		r0_poweroff(0x7e);
	}
	uint32_t *p = pool[poolUsed++];
	for (int k = 0; k < 1024; k++)
		p[k] = 0;
	return p;
}

volatile uint32_t *r0_pde(uint32_t *pd, uint32_t va)
{
	return &pd[va >> 22];
}

volatile uint32_t *r0_pte(uint32_t *pd, uint32_t va)
{
	volatile uint32_t *pde = r0_pde(pd, va);

	if (*pde & PTE_PS)
		return pde;
	if (!(*pde & PTE_P))
		*pde = (uint32_t)r0_page_alloc() | PTE_P | PTE_W | PTE_U;
	return (volatile uint32_t *)(*pde & ~0xfffu) + ((va >> 12) & 1023);
}

void r0_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
	*r0_pte(pd, va) = (pa & ~0xfffu) | flags;
}

void r0_map_big(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
	*r0_pde(pd, va) = (pa & 0xffc00000u) | flags | PTE_PS;
}

void r0_identity(uint32_t *pd, uint32_t bytes, uint32_t flags)
{
	for (uint32_t a = 0; a < bytes; a += PAGE)
		r0_map(pd, a, a, flags);
	r0_map(pd, R0_UART, R0_UART, PTE_P | PTE_W | PTE_PCD);
	r0_map(pd, R0_SYSCTL, R0_SYSCTL, PTE_P | PTE_W | PTE_PCD);
	r0_map(pd, R0_LAPIC, R0_LAPIC, PTE_P | PTE_W | PTE_PCD);
}

static void pagingLoad(uint32_t cr3, uint32_t cr4, uint32_t cr0)
{
	r0_set_cr4(r0_cr4() | cr4);
	r0_set_cr3(cr3);
	r0_set_cr0(r0_cr0() | cr0);
}

void r0_paging_on(uint32_t *pd, uint32_t cr4)
{
	pagingCr4 = cr4;
	pagingCr0 = CR0_PG | CR0_WP;
	pagingCr3 = (uint32_t)pd;
	pagingLoad(pagingCr3, pagingCr4, pagingCr0);
}

/* ---- local APIC ---- */

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
}

void lapic_send(uint32_t dest, uint32_t low)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, low);
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		r0_pause();
}

int lapic_irr(int vector)
{
	return (lapic_read(LAPIC_IRR + 0x10 * (vector >> 5)) >> (vector & 31)) & 1;
}

int lapic_isr(int vector)
{
	return (lapic_read(LAPIC_ISR + 0x10 * (vector >> 5)) >> (vector & 31)) & 1;
}

/* ---- spinlocks ---- */

void r0_lock_acquire(r0_lock *l)
{
	uint32_t v = 1;

	for (;;) {
		__asm__ volatile("xchgl %0,%1" : "+r"(v), "+m"(l->locked) : : "memory");	/* implicitly locked */
		if (v == 0)
			return;
		while (l->locked)
			r0_pause();
		v = 1;
	}
}

void r0_lock_release(r0_lock *l)
{
	__asm__ volatile("" ::: "memory");
	l->locked = 0;
}

/* ---- application processors ---- */

extern char r0_tramp_start[], r0_tramp_end[];
static volatile r0_ap_fn apFn;

void r0_ap_main(uint32_t core)
{
	r0_idt_load();
	if (pagingCr3)
		pagingLoad(pagingCr3, pagingCr4, pagingCr0);
	if (apFn)
		apFn(core);
	for (;;)
		r0_sti_hlt();
}

void r0_start_aps(uint32_t cores, r0_ap_fn fn)
{
	volatile uint8_t *dst = (volatile uint8_t *)R0_TRAMPOLINE;

	for (char *p = r0_tramp_start; p < r0_tramp_end; p++)
		*dst++ = (uint8_t)*p;
	apFn = fn;
	for (uint32_t c = 1; c < cores; c++) {
		lapic_send(c, ICR_INIT | ICR_ASSERT);
		lapic_send(c, ICR_STARTUP | ICR_ASSERT | (R0_TRAMPOLINE >> 12));
	}
}

/* ---- entry from start.S ---- */

extern volatile uint32_t r0_magic;	/* EAX at boot, from start.S */

int r0_boot(void)
{
	r0_idt_init();
	r0_idt_load();
	r0_check(r0_magic == R0_BOOT_MAGIC && r0_cores >= 1 && r0_ram >= (1u << 20), "boot-registers",
		 "eax %x ebx %u ecx %x", r0_magic, r0_cores, r0_ram);
	return main();
}
