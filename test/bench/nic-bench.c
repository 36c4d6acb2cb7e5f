/* A minimal ring-0 NIC driver for `npm run bench`: no runtime, no interrupts, paging off.
 * It finds the NIC at 00:02.0 through ECAM, turns on memory decoding and bus mastering, gives
 * the NIC an IOMMU domain that identity-maps its RX ring and buffers, turns translation on,
 * posts RING buffers on queue 0 and polls descriptor status: each frame is counted and its
 * buffer handed straight back. When the wire has delivered or dropped every one of N frames
 * it prints the counts on the UART and powers off with status 0 (1 if no frame arrived). */

#define UART     ((volatile unsigned char *)0xFE000000)
#define POWEROFF (*(volatile unsigned *)0xFE001000)
#define ECAM     0xE0000000u
#define IOMMU(off) (*(volatile unsigned *)(0xFED00000u + (off)))
#define NIC_RID  (2 << 3)              /* 00:02.0 */
#define N        200000                /* frames the wire sends: the bench's gen:count */
#define RING     256
#define BUF      2048
#define BATCH    16                    /* descriptors handed back per RXTAIL write */

struct desc { unsigned addr, addr_hi; unsigned short len; unsigned char cmd, status; unsigned hash; };

static unsigned ctx[1024] __attribute__((aligned(4096)));    /* 256 context entries of 8 bytes */
static unsigned iopd[1024] __attribute__((aligned(4096)));
static unsigned iopt[1024] __attribute__((aligned(4096)));
static volatile struct desc rxr[RING] __attribute__((aligned(4096)));
static unsigned char rxb[RING][BUF] __attribute__((aligned(4096)));
unsigned char stack[8192] __attribute__((aligned(16)));

static void puts_(const char *s) { while (*s) *UART = (unsigned char)*s++; }
static void puthex(unsigned v) { for (int k = 28; k >= 0; k -= 4) *UART = "0123456789abcdef"[(v >> k) & 15]; }

/* Identity-map [from, to) read/write in the NIC's I/O page table (all below 4 MiB). */
static void iomap(unsigned from, unsigned to) {
  for (unsigned pa = from & ~0xfffu; pa < to; pa += 4096) iopt[(pa >> 12) & 0x3ff] = pa | 3;
}

void bench_main(void) {
  volatile unsigned *cfg = (volatile unsigned *)(ECAM + (NIC_RID << 12));
  if ((cfg[0] & 0xffff) != 0xe1ab) { puts_("nic-bench: no NIC at 00:02.0\n"); POWEROFF = 2; }
  volatile unsigned *bar = (volatile unsigned *)(cfg[4] & ~0xfu);
  cfg[1] = (cfg[1] & 0xffff0000u) | 0x6;                     /* memory space + bus master */
#define Q(off) bar[(0x1000 + (off)) / 4]

  iomap((unsigned)rxr, (unsigned)rxr + sizeof rxr);
  iomap((unsigned)rxb, (unsigned)rxb + sizeof rxb);
  iopd[0] = (unsigned)iopt | 3;
  ctx[NIC_RID * 2] = (unsigned)iopd | (1 << 8) | 1;          /* present, domain 1 */
  IOMMU(0x020) = (unsigned)ctx;                               /* CTXPTR */
  IOMMU(0x018) = 0x80000000u;                                 /* GCMD.TE */

  for (int k = 0; k < RING; k++) { rxr[k].addr = (unsigned)rxb[k]; rxr[k].addr_hi = 0; rxr[k].len = BUF; rxr[k].cmd = 0; rxr[k].status = 0; }
  Q(0x10) = (unsigned)rxr;                                    /* RXBASE */
  Q(0x14) = RING;                                             /* RXSIZE */
  Q(0x20) = 0x2;                                              /* QCTRL.RXEN */
  Q(0x1c) = RING - 1;                                         /* RXTAIL: all but one posted */

  unsigned got = 0, bytes = 0, next = 0, owed = 0, drops = 0, idle = 0;
  for (;;) {
    volatile struct desc *d = &rxr[next];
    if (d->status & 1) {                                      /* DD */
      got++;
      bytes += d->len;
      d->len = BUF;
      d->status = 0;
      next = (next + 1) & (RING - 1);
      if (++owed == BATCH) { Q(0x1c) = (next - 1) & (RING - 1); owed = 0; }
      continue;
    }
    if (owed) { Q(0x1c) = (next - 1) & (RING - 1); owed = 0; }
    if (++idle & 63) continue;                                /* ask the device only now and then */
    drops = bar[0x038 / 4];                                   /* RXDROP */
    if (got + drops >= N && Q(0x38) == 0) break;             /* nothing in flight either */
  }
  puts_("nic-bench: frames "); puthex(got); puts_(" bytes "); puthex(bytes); puts_(" drops "); puthex(drops); puts_("\n");
  POWEROFF = got == 0;
  for (;;) __asm__ volatile("cli; hlt");
}

__asm__(".text\n.globl _start\n_start:\n  mov $stack+8192, %esp\n  call bench_main\n");
