/* A bare ring-0 demo for the built-in scenarios, until the exokernel boots principals: core 0
 * starts the other cores (INIT + STARTUP); every core installs an IDT, runs its local APIC
 * timer periodically, and on each tick sends an IPI to the next core. Between interrupts a
 * core computes for a while, then halts, so utilisation is below one. Core 0 reports on the
 * UART every 16 ticks. Built by `exolab run` with gcc -m32, linked at 64 KiB. */

#define UART  ((volatile unsigned char *)0xFE000000)
#define LAPIC(off) (*(volatile unsigned *)(0xFEE00000u + (off)))
#define MAX_CORES 64
#define VEC_TIMER 0x40
#define VEC_IPI   0x41
#define TICK_CYCLES 100000  /* 50 us at 2 GHz */

struct gate { unsigned short lo, sel; unsigned char zero, type; unsigned short hi; };
static struct gate idt[256] __attribute__((aligned(8)));
static struct { unsigned short limit; unsigned base; } __attribute__((packed)) idtr;
unsigned char stacks[MAX_CORES][4096] __attribute__((aligned(16)));
static volatile unsigned ticks[MAX_CORES], ipis[MAX_CORES], ncores;
static volatile unsigned work_sink;

static void put(const char *s) { while (*s) *UART = (unsigned char)*s++; }
static void putdec(unsigned v) {
  char b[12]; int k = 11; b[k] = 0;
  do { b[--k] = (char)('0' + v % 10); v /= 10; } while (v);
  put(b + k);
}

static unsigned me(void) { return LAPIC(0x20) >> 24; }

static void ipi(unsigned dest, unsigned lo) { LAPIC(0x310) = dest << 24; LAPIC(0x300) = lo; }

void on_timer(void) {
  unsigned id = me(), n = ++ticks[id];
  if (ncores > 1) ipi((id + 1) % ncores, VEC_IPI);
  if (id == 0 && (n & 15) == 0) {
    put("tick "); putdec(n); put(": IPIs received");
    for (unsigned c = 0; c < ncores; c++) { put(" "); putdec(ipis[c]); }
    put("\n");
  }
  LAPIC(0xB0) = 0;
}

void on_ipi(void) { ipis[me()]++; LAPIC(0xB0) = 0; }

__asm__(".text\n"
        "isr_timer: pusha\n call on_timer\n popa\n iret\n"
        "isr_ipi:   pusha\n call on_ipi\n popa\n iret\n");
extern char isr_timer[], isr_ipi[];

static void set_gate(int v, void *fn) {
  unsigned a = (unsigned)fn;
  idt[v].lo = (unsigned short)a; idt[v].hi = (unsigned short)(a >> 16);
  idt[v].sel = 0x08; idt[v].zero = 0; idt[v].type = 0x8E;
}

static void core_loop(unsigned id) {
  idtr.limit = sizeof idt - 1; idtr.base = (unsigned)idt;
  __asm__ volatile("lidt %0" :: "m"(idtr));
  LAPIC(0xF0) = 0x1FF;                      /* enable, spurious vector 0xFF */
  LAPIC(0x3E0) = 0xB;                       /* divide by 1 */
  LAPIC(0x320) = (1u << 17) | VEC_TIMER;    /* periodic */
  LAPIC(0x380) = TICK_CYCLES + id * 5000;   /* a little skew between cores */
  unsigned x = id + 1;
  for (;;) {
    for (unsigned k = 0; k < 3000 + 1000 * (id & 3); k++) x = x * 1103515245u + 12345u;
    work_sink = x;
    __asm__ volatile("sti; hlt; cli");
  }
}

void ap_main(unsigned id) { core_loop(id); }

/* APs start here (ring 0, paging off, EDX = core number): page-aligned below 1 MiB. */
__asm__(".text\n.balign 4096\n.globl ap_entry\nap_entry:\n"
        "  mov %edx, %eax\n  shl $12, %eax\n  lea stacks+4096(%eax), %esp\n"
        "  push %edx\n  call ap_main\n");
extern char ap_entry[];

void bsp_main(unsigned cores) {
  ncores = cores > MAX_CORES ? MAX_CORES : cores;
  set_gate(VEC_TIMER, isr_timer);
  set_gate(VEC_IPI, isr_ipi);
  put("bare-demo: "); putdec(ncores); put(" cores, a timer tick and an IPI ring\n");
  LAPIC(0xF0) = 0x1FF;
  for (unsigned id = 1; id < ncores; id++) {
    ipi(id, 0x4500);                                  /* INIT */
    ipi(id, 0x4600 | ((unsigned)ap_entry >> 12));     /* STARTUP */
  }
  core_loop(0);
}

__asm__(".text\n.globl _start\n_start:\n  mov $stacks+4096, %esp\n  push %ebx\n  call bsp_main\n");
