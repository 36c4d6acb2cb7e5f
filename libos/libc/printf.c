/* A small formatter: snprintf into a buffer, printf to the platform console. */

#include "libc.h"
#include "plat.h"

struct out {
	char *buf;
	size_t size;	/* room in buf, the terminating NUL included */
	size_t len;	/* characters produced so far (also those that did not fit) */
	int console;
};

static void emit(struct out *o, char c)
{
	if (o->console)
		plat_putc(c);
	else if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct spec {
	int width;
	int left;	/* '-' */
	char pad;	/* ' ' or '0' */
};

static void emitPadded(struct out *o, const char *s, size_t n, const struct spec *sp)
{
	int fill = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left && sp->pad == '0' && n && (*s == '-')) {	/* zeros go after the sign */
		emit(o, *s++);
		n--;
	}
	if (!sp->left)
		while (fill-- > 0)
			emit(o, sp->pad);
	while (n--)
		emit(o, *s++);
	if (sp->left)
		while (fill-- > 0)
			emit(o, ' ');
}

static void emitNumber(struct out *o, uint64_t v, unsigned base, int neg, int upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = sizeof tmp;

	do {
		/* 32-bit values take the cheap divide */
		unsigned d;
		if ((v >> 32) == 0) {
			d = (uint32_t)v % base;
			v = (uint32_t)v / base;
		} else {
			d = (unsigned)(v % base);
			v /= base;
		}
		tmp[--n] = digits[d];
	} while (v);
	if (neg)
		tmp[--n] = '-';
	emitPadded(o, tmp + n, sizeof tmp - n, sp);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(o, *fmt);
			continue;
		}
		struct spec sp = { 0, 0, ' ' };
		int longs = 0;

		for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				sp.left = 1;
			else
				sp.pad = '0';
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
			emitNumber(o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, 0, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
			emitNumber(o, v, *fmt == 'u' ? 10 : 16, 0, *fmt == 'X', &sp);
			break;
		}
		case 'p': {
			emit(o, '0');
			emit(o, 'x');
			struct spec p = { 8, 0, '0' };
			emitNumber(o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, &p);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			emitPadded(o, s, strlen(s), &sp);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			emitPadded(o, &c, 1, &sp);
			break;
		}
		case '%':
			emit(o, '%');
			break;
		case '\0':
			return;
		default:	/* unknown: shown as it was written */
			emit(o, '%');
			emit(o, *fmt);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0, 0 };

	format(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0, 0, 0, 1 };

	format(&o, fmt, ap);
	return (int)o.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	while (*s)
		plat_putc(*s++);
	plat_putc('\n');
	return 0;
}
