/* A ring-0, multi-core CPU benchmark for `exolab boot`: core 0 builds identity page tables,
 * starts every other core with INIT + STARTUP, and each core, with paging on, runs a CRC-32
 * over its own 64 KiB buffer and a recursive fib. Core 0 checks every core got the same
 * answer, prints it on the UART and powers off with status 0 (1 on a mismatch).
 * Link it anywhere from 64 KiB up (README: -Wl,-Ttext-segment=0x100000): the cores start on a
 * trampoline page below 1 MiB, since a STARTUP vector is 8 bits (page V << 12), as on x86. */

#define UART    ((volatile unsigned char *)0xFE000000)
#define POWEROFF (*(volatile unsigned *)0xFE001000)
#define LAPIC(off) (*(volatile unsigned *)(0xFEE00000u + (off)))
#define MAX_CORES 64
#ifndef ROUNDS
#define ROUNDS 40
#endif
/* The AP trampoline's page: below 1 MiB and below any image linked from 64 KiB up. */
#define TRAMPOLINE 0x8000u
#define BUF 65536

static unsigned pd[1024] __attribute__((aligned(4096)));
static unsigned pt[16][1024] __attribute__((aligned(4096)));   /* identity-map 64 MiB */
static unsigned char bufs[MAX_CORES][BUF];
static unsigned table[256];
unsigned char stacks[MAX_CORES][8192] __attribute__((aligned(16)));
static volatile unsigned results[MAX_CORES];
static volatile unsigned done;

static void puts_(const char *s) { while (*s) *UART = (unsigned char)*s++; }
static void puthex(unsigned v) { for (int k = 28; k >= 0; k -= 4) *UART = "0123456789abcdef"[(v >> k) & 15]; }

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void paging_on(void) {
  __asm__ volatile("mov %0, %%cr3" :: "r"(pd) : "memory");
  unsigned cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | 0x80010001u) : "memory");
}

static unsigned work(unsigned id) {
  unsigned char *b = bufs[id];
  unsigned x = 12345;
  for (int k = 0; k < BUF; k++) { x = x * 1103515245u + 12345u; b[k] = (unsigned char)(x >> 16); }
  unsigned crc = 0;
  for (int r = 0; r < ROUNDS; r++) {
    crc = ~crc;
    for (int k = 0; k < BUF; k++) crc = table[(crc ^ b[k]) & 0xff] ^ (crc >> 8);
    crc = ~crc;
  }
  return crc ^ fib(22);
}

void ap_main(unsigned id) {
  paging_on();
  results[id] = work(id);
  __atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST);
  for (;;) __asm__ volatile("cli; hlt");
}

/* APs start on the trampoline (32-bit, ring 0, paging off, EDX = core number), a copy of
 * ap_tramp..ap_tramp_end at TRAMPOLINE: an absolute jump, so it runs from any address, to
 * ap_entry wherever the image was linked. */
__asm__(".text\n.globl ap_tramp, ap_tramp_end\nap_tramp:\n"
        "  mov $ap_entry, %eax\n  jmp *%eax\nap_tramp_end:\n"
        "ap_entry:\n"
        "  mov %edx, %eax\n  shl $13, %eax\n  lea stacks+8192(%eax), %esp\n"
        "  push %edx\n  call ap_main\n");
extern char ap_tramp[], ap_tramp_end[];

static void tramp_install(void) {
  volatile unsigned char *dst = (volatile unsigned char *)TRAMPOLINE; /* volatile: no memcpy call */
  for (const char *p = ap_tramp; p < ap_tramp_end; p++) *dst++ = (unsigned char)*p;
}

static void ipi(unsigned dest, unsigned lo) {
  LAPIC(0x310) = dest << 24;
  LAPIC(0x300) = lo;
}

void bsp_main(unsigned cores) {
  for (unsigned k = 0; k < 256; k++) {
    unsigned c = k;
    for (int j = 0; j < 8; j++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    table[k] = c;
  }
  for (int t = 0; t < 16; t++) {
    for (int k = 0; k < 1024; k++) pt[t][k] = ((t * 1024 + k) << 12) | 3;
    pd[t] = (unsigned)pt[t] | 3;
  }
  pd[0x3f8] = 0xFE000000u | 0x93;  /* 4 MiB uncached pages: UART and power-off, */
  pd[0x3fb] = 0xFEC00000u | 0x93;  /* and the local APIC */
  unsigned cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x10));
  paging_on();
  LAPIC(0xF0) = 0x1FF;
  tramp_install();
  for (unsigned id = 1; id < cores; id++) {
    ipi(id, 0x4500);                                  /* INIT */
    ipi(id, 0x4600 | (TRAMPOLINE >> 12));             /* STARTUP: vector 0x08, page 0x8000 */
  }
  results[0] = work(0);
  while (done != cores - 1) __asm__ volatile("pause");
  int bad = 0;
  for (unsigned id = 1; id < cores; id++) bad |= results[id] != results[0];
  puts_("smp-bench: cores "); puthex(cores); puts_(" result "); puthex(results[0]);
  puts_(bad ? " MISMATCH\n" : " ok\n");
  POWEROFF = bad;
  for (;;) __asm__ volatile("cli; hlt");
}

__asm__(".text\n.globl _start\n_start:\n  mov $stacks+8192, %esp\n  push %ebx\n  call bsp_main\n");
