/* CPU-bound guest for `npm run bench`: CRC-32 (IEEE, reflected, table-driven) over a 64 KiB
 * buffer 200 times, then recursive fib(30). Self-contained: its own _start and the two Linux
 * i386 system calls it needs, so the same binary runs natively, under qemu-i386 and in exolab. */

#define BUF_SIZE   (64 * 1024)
#define CRC_ROUNDS 200
#define FIB_N      30

static unsigned int crc_table[256];
static unsigned char buf[BUF_SIZE];

static int sys_write(int fd, const void *p, int n)
{
    int r;
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(4), "b"(fd), "c"(p), "d"(n) : "memory");
    return r;
}

static void __attribute__((noreturn)) sys_exit(int code)
{
    __asm__ volatile ("int $0x80" :: "a"(1), "b"(code));
    for (;;)
        ;
}

static void crc_init(void)
{
    for (unsigned int i = 0; i < 256; i++) {
        unsigned int c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static unsigned int crc32(unsigned int crc, const unsigned char *p, unsigned int n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Not inlined and fed a volatile, so gcc cannot fold it into a constant. */
static unsigned int __attribute__((noinline)) fib(unsigned int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static char *put_str(char *o, const char *s)
{
    while (*s)
        *o++ = *s++;
    return o;
}

static char *put_hex(char *o, unsigned int v)
{
    for (int shift = 28; shift >= 0; shift -= 4)
        *o++ = "0123456789abcdef"[(v >> shift) & 0xf];
    return o;
}

static char *put_dec(char *o, unsigned int v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *o++ = tmp[--n];
    return o;
}

static volatile unsigned int fib_n = FIB_N;

void _start(void)
{
    unsigned int x = 12345;             /* a fixed LCG fills the buffer */
    for (int i = 0; i < BUF_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    crc_init();
    unsigned int crc = 0;
    for (int r = 0; r < CRC_ROUNDS; r++)
        crc = crc32(crc, buf, BUF_SIZE);
    unsigned int f = fib(fib_n);

    char line[80];
    char *o = put_str(line, "crc32 0x");
    o = put_hex(o, crc);
    o = put_str(o, " fib(30) ");
    o = put_dec(o, f);
    *o++ = '\n';
    sys_write(1, line, (int)(o - line));
    sys_exit(0);
}
