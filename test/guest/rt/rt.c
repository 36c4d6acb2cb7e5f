/* Freestanding runtime for the guest test programs: syscalls by int $0x80, a small printf,
   self-check tallies, the string functions gcc may call, and libgcc's 64-bit division. */

#include "rt.h"

enum { SYS_EXIT = 1, SYS_WRITE = 4, SYS_EXIT_GROUP = 252 };

static int32_t rtSyscall3(int32_t nr, int32_t a, int32_t b, int32_t c)
{
	int32_t ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int rt_write(int fd, const void *buf, uint32_t len)
{
	return rtSyscall3(SYS_WRITE, fd, (int32_t)(uintptr_t)buf, (int32_t)len);
}

void rt_exit(int code)
{
	rtSyscall3(SYS_EXIT_GROUP, code, 0, 0);
	rtSyscall3(SYS_EXIT, code, 0, 0);
	for (;;)
		;
}

void rt_puts(const char *s)
{
	rt_write(1, s, strlen(s));
}

/* ---- formatted output ---- */

struct rtOut {
	char *buf;
	uint32_t size;
	uint32_t len;	/* characters produced, even past size */
};

static void outChar(struct rtOut *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void outPadded(struct rtOut *o, const char *s, uint32_t n, int width, int left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left && pad == '0' && n > 0 && *s == '-') {
		outChar(o, *s++);	/* the sign goes before zero padding */
		n--;
	}
	if (!left)
		while (fill-- > 0)
			outChar(o, pad);
	while (n--)
		outChar(o, *s++);
	if (left)
		while (fill-- > 0)
			outChar(o, ' ');
}

/* digits of v in base 10 or 16, written backwards from end; returns the first digit */
static char *fmtU64(char *end, uint64_t v, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	*end = 0;
	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

static char *fmtU32(char *end, uint32_t v, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	*end = 0;
	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

int rt_vsnprintf(char *buf, uint32_t size, const char *fmt, va_list ap)
{
	struct rtOut o = { buf, size, 0 };
	char tmp[24];

	for (; *fmt; fmt++) {
		int width = 0, left = 0, lng = 0;
		char pad = ' ', *s;
		uint64_t u;
		int neg = 0;

		if (*fmt != '%') {
			outChar(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'h') {
			if (*fmt == 'l')
				lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2) {
				int64_t v = va_arg(ap, int64_t);
				neg = v < 0;
				u = neg ? -(uint64_t)v : (uint64_t)v;
				s = fmtU64(tmp + sizeof tmp - 1, u, 10, 0);
			} else {
				int32_t v = va_arg(ap, int32_t);
				neg = v < 0;
				s = fmtU32(tmp + sizeof tmp - 1, neg ? -(uint32_t)v : (uint32_t)v, 10, 0);
			}
			if (neg)
				*--s = '-';
			outPadded(&o, s, strlen(s), width, left, pad);
			break;
		case 'u':
		case 'x':
		case 'X': {
			unsigned base = *fmt == 'u' ? 10 : 16;
			if (lng >= 2)
				s = fmtU64(tmp + sizeof tmp - 1, va_arg(ap, uint64_t), base, *fmt == 'X');
			else
				s = fmtU32(tmp + sizeof tmp - 1, va_arg(ap, uint32_t), base, *fmt == 'X');
			outPadded(&o, s, strlen(s), width, left, pad);
			break;
		}
		case 'p':
			s = fmtU32(tmp + sizeof tmp - 1, (uint32_t)(uintptr_t)va_arg(ap, void *), 16, 0);
			outChar(&o, '0');
			outChar(&o, 'x');
			outPadded(&o, s, strlen(s), width, left, pad);
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			outPadded(&o, tmp, 1, width, left, ' ');
			break;
		case 's':
			s = va_arg(ap, char *);
			if (!s)
				s = "(null)";
			outPadded(&o, s, strlen(s), width, left, ' ');
			break;
		case '%':
			outChar(&o, '%');
			break;
		case 0:
			fmt--;	/* a lone % at the end */
			break;
		default:
			outChar(&o, '%');
			outChar(&o, *fmt);
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int rt_snprintf(char *buf, uint32_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int rt_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	rt_write(1, buf, strlen(buf));
	return n;
}

/* ---- self-checks ---- */

static uint32_t rtChecks, rtFailures;

void rt_check32(const char *what, uint32_t got, uint32_t want)
{
	rtChecks++;
	if (got == want) {
		rt_printf("%s = %08x\n", what, got);
	} else {
		rtFailures++;
		rt_printf("%s = %08x FAIL, want %08x\n", what, got, want);
	}
}

void rt_check64(const char *what, uint64_t got, uint64_t want)
{
	rtChecks++;
	if (got == want) {
		rt_printf("%s = %016llx\n", what, got);
	} else {
		rtFailures++;
		rt_printf("%s = %016llx FAIL, want %016llx\n", what, got, want);
	}
}

void rt_check(const char *what, int ok)
{
	rtChecks++;
	if (ok) {
		rt_printf("%s: ok\n", what);
	} else {
		rtFailures++;
		rt_printf("%s: FAIL\n", what);
	}
}

int rt_done(void)
{
	rt_printf("checks: %u, failed: %u\n", rtChecks, rtFailures);
	return rtFailures ? 1 : 0;
}

uint32_t rt_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* ---- string functions ----
   Built with -fno-tree-loop-distribute-patterns, so gcc does not turn these loops back
   into calls to themselves. */

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

/* ---- 64-bit division, as libgcc provides it ---- */

/* (hi:lo) / d with one divl; the caller guarantees hi < d so the quotient fits */
static uint32_t divl(uint32_t hi, uint32_t lo, uint32_t d, uint32_t *rem)
{
	uint32_t q, r;

	__asm__("divl %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
	*rem = r;
	return q;
}

static int clz64(uint64_t v)
{
	uint32_t hi = (uint32_t)(v >> 32);

	return hi ? __builtin_clz(hi) : 32 + __builtin_clz((uint32_t)v);
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint32_t nhi = (uint32_t)(n >> 32), dlo = (uint32_t)d;
	uint64_t q = 0;
	int shift;

	if (d == 0) {	/* divide by zero traps, as libgcc's does */
		volatile uint32_t zero = 0;
		return (uint32_t)n / zero;
	}
	if ((d >> 32) == 0) {	/* schoolbook with two 64/32 divides */
		uint32_t r, qhi = 0, qlo;
		if (nhi >= dlo) {
			qhi = divl(0, nhi, dlo, &r);
			nhi = r;
		}
		qlo = divl(nhi, (uint32_t)n, dlo, &r);
		if (rem)
			*rem = r;
		return (uint64_t)qhi << 32 | qlo;
	}
	if (d > n) {
		if (rem)
			*rem = n;
		return 0;
	}
	shift = clz64(d) - clz64(n);	/* restoring division, one quotient bit a step */
	d <<= shift;
	for (; shift >= 0; shift--) {
		q <<= 1;
		if (n >= d) {
			n -= d;
			q |= 1;
		}
		d >>= 1;
	}
	if (rem)
		*rem = n;
	return q;
}

int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem)
{
	int nneg = n < 0, dneg = d < 0;
	uint64_t r, q = __udivmoddi4(nneg ? -(uint64_t)n : (uint64_t)n,
				     dneg ? -(uint64_t)d : (uint64_t)d, &r);

	if (rem)
		*rem = nneg ? -(int64_t)r : (int64_t)r;	/* the remainder takes the dividend's sign */
	return nneg != dneg ? -(int64_t)q : (int64_t)q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return __udivmoddi4(n, d, 0);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	__udivmoddi4(n, d, &r);
	return r;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	return __divmoddi4(n, d, 0);
}

int64_t __moddi3(int64_t n, int64_t d)
{
	int64_t r;

	__divmoddi4(n, d, &r);
	return r;
}

/* ---- bit counts libgcc provides for 64-bit operands (gcc calls them at -O0) ---- */

int __ctzdi2(uint64_t v)
{
	uint32_t lo = (uint32_t)v;

	return lo ? __builtin_ctz(lo) : 32 + __builtin_ctz((uint32_t)(v >> 32));
}

int __clzdi2(uint64_t v)
{
	return clz64(v);
}
