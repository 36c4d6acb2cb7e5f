/* Variadic functions: a mini printf of its own on __builtin_va_list (separate from the
   runtime's), va_copy, 64-bit and promoted narrow arguments, and structs passed through "...". */

#include "rt.h"

struct pair {
	int32_t a;
	uint8_t tag;
	uint64_t b;
};

static char out[1024];
static unsigned outLen;

static void emit(char c)
{
	if (outLen + 1 < sizeof out)
		out[outLen++] = c;
	out[outLen] = 0;
}

static void emitNum(uint64_t v, unsigned base, int neg)
{
	char tmp[24];
	int n = 0;

	if (neg)
		emit('-');
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		emit(tmp[--n]);
}

/* %d %u %x %c %s %L (int64) %P (struct pair by value) */
static void miniVprintf(const char *fmt, __builtin_va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 'd': {
			int v = __builtin_va_arg(ap, int);
			emitNum(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, v < 0);
			break;
		}
		case 'u': emitNum(__builtin_va_arg(ap, unsigned), 10, 0); break;
		case 'x': emitNum(__builtin_va_arg(ap, unsigned), 16, 0); break;
		case 'c': emit((char)__builtin_va_arg(ap, int)); break;
		case 's':
			for (const char *s = __builtin_va_arg(ap, const char *); *s; s++)
				emit(*s);
			break;
		case 'L': {
			int64_t v = __builtin_va_arg(ap, int64_t);
			emitNum(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case 'P': {
			struct pair p = __builtin_va_arg(ap, struct pair);
			emit('{');
			emitNum((uint32_t)p.a, 16, 0);
			emit(',');
			emit((char)p.tag);
			emit(',');
			emitNum(p.b, 16, 0);
			emit('}');
			break;
		}
		default: emit('?');
		}
	}
}

static void miniPrintf(const char *fmt, ...)
{
	__builtin_va_list ap, copy;

	__builtin_va_start(ap, fmt);
	__builtin_va_copy(copy, ap);
	miniVprintf(fmt, ap);
	emit('|');
	miniVprintf(fmt, copy);	/* the copy walks the same arguments again */
	__builtin_va_end(copy);
	__builtin_va_end(ap);
}

static int64_t sumAll(int n, ...)
{
	__builtin_va_list ap;
	int64_t total = 0;

	__builtin_va_start(ap, n);
	for (int i = 0; i < n; i++) {
		if (i % 3 == 2)
			total += __builtin_va_arg(ap, int64_t);
		else
			total += __builtin_va_arg(ap, int);	/* char and short arrive promoted */
	}
	__builtin_va_end(ap);
	return total;
}

static const char *expect(const char *want)
{
	int ok = strcmp(out, want) == 0;

	rt_printf("mini printf: [%s]\n", out);
	rt_check("mini printf matches", ok);
	outLen = 0;
	out[0] = 0;
	return want;
}

int main(void)
{
	volatile int8_t c = -5;
	volatile int16_t s = -30000;
	volatile uint8_t uc = 200;
	struct pair p = { -2, 'T', 0x123456789abcdefull };

	miniPrintf("%d %u %x %c %s", -42, 42u, 0xbeefu, 'z', "str");
	expect("-42 42 beef z str|-42 42 beef z str");
	miniPrintf("%L %L %d", (int64_t)-1234567890123ll, (int64_t)INT64_MIN, INT_MIN_);
	expect("-1234567890123 -9223372036854775808 -2147483648|-1234567890123 -9223372036854775808 -2147483648");
	miniPrintf("<%P> %d", p, 7);
	expect("<{fffffffe,T,123456789abcdef}> 7|<{fffffffe,T,123456789abcdef}> 7");
	miniPrintf("%d %d %u", c, s, uc);
	expect("-5 -30000 200|-5 -30000 200");
	rt_check64("sumAll", (uint64_t)sumAll(7, 1, c, (int64_t)1 << 40, s, uc, (int64_t)-3, 1000),
		    (uint64_t)(1 - 5 + ((int64_t)1 << 40) - 30000 + 200 - 3 + 1000));
	rt_check64("sumAll none", (uint64_t)sumAll(0), 0);
	{
		char buf[64];
		int n = rt_snprintf(buf, sizeof buf, "%05d|%-6s|%x|%lld", -12, "ab", 0xfeedu, -5ll);
		rt_printf("rt_snprintf: %s (%d)\n", buf, n);
		rt_check("rt_snprintf", strcmp(buf, "-0012|ab    |feed|-5") == 0 && n == 20);
		n = rt_snprintf(buf, 8, "truncated %d", 123456);
		rt_check("rt_snprintf truncates", strcmp(buf, "truncat") == 0 && n == 16);
	}
	return rt_done();
}
