/* Multiply and divide: mul/imul (one-, two- and three-operand forms) and div/idiv in 8, 16
   and 32 bits, the 64-bit product, 64-bit multiply and the runtime's 64-bit division. */

#include "rt.h"

static volatile uint32_t uv[] = { 0, 1, 2, 3, 7, 10, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678 };
static volatile int32_t sv[] = { 0, 1, -1, 2, -2, 3, -3, 7, -7, 100, -100, 0x7fffffff, (int32_t)0x80000000, (int32_t)0x80000001 };

static void mul32(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(uv); i++) {
		for (unsigned j = 0; j < NELEM(uv); j++) {
			uint32_t a = uv[i], b = uv[j];
			uint64_t wide = (uint64_t)a * b;	/* mull */
			int64_t swide = (int64_t)(int32_t)a * (int32_t)b;	/* imull one-operand */
			uint32_t lo = a * b;	/* imull two-operand */
			uint32_t hi, fl, hi2, fl2, lo2 = a, lo3 = a;

			__asm__("mull %3\n\tpushfl\n\tpopl %2" : "+a"(lo2), "=d"(hi), "=r"(fl) : "r"(b) : "cc");
			__asm__("imull %3\n\tpushfl\n\tpopl %2" : "+a"(lo3), "=d"(hi2), "=r"(fl2) : "r"(b) : "cc");
			rt_printf("mul %08x %08x: %016llx %016llx %08x mul %08x:%08x/%03x imul %08x:%08x/%03x\n",
				  a, b, wide, (uint64_t)swide, lo, hi, lo2, fl & (FL_CF | FL_OF), hi2, lo3, fl2 & (FL_CF | FL_OF));
			h = (h ^ lo ^ (uint32_t)(wide >> 32) ^ (uint32_t)(swide >> 32)) * 0x01000193u;
		}
	}
	rt_printf("mul32 hash %08x\n", h);
}

static void div32(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(sv); i++) {
		for (unsigned j = 0; j < NELEM(sv); j++) {
			int32_t a = sv[i], b = sv[j];
			uint32_t ua = (uint32_t)a, ub = (uint32_t)b;

			if (b == 0 || (a == INT_MIN_ && b == -1))
				continue;	/* these fault: test/guest/fault */
			rt_printf("div %d %d: q %d r %d uq %u ur %u\n", a, b, a / b, a % b, ua / ub, ua % ub);
			h = (h ^ (uint32_t)(a / b) ^ (uint32_t)(a % b) * 3 ^ ua / ub * 5 ^ ua % ub * 7) * 0x01000193u;
		}
	}
	rt_printf("div32 hash %08x\n", h);
}

/* 64/32 divide with a non-zero high half in edx */
static void divWide(void)
{
	static const struct { uint32_t hi, lo, d; } cases[] = {
		{ 0, 100, 7 }, { 1, 0, 2 }, { 0x7fffffff, 0xffffffff, 0x80000000 }, { 0x12345, 0x6789abcd, 0x123456 },
		{ 0xfffffffe, 0xffffffff, 0xffffffff },
	};
	for (unsigned i = 0; i < NELEM(cases); i++) {
		uint32_t q, r;
		volatile uint32_t d = cases[i].d;

		__asm__("divl %4" : "=a"(q), "=d"(r) : "a"(cases[i].lo), "d"(cases[i].hi), "r"(d));
		rt_printf("divl %08x:%08x / %08x = %08x r %08x\n", cases[i].hi, cases[i].lo, d, q, r);
	}
	{
		int32_t q, r;
		volatile int32_t d = -3;
		/* -6 000 000 000 / -3: a quotient that needs the high half */
		__asm__("idivl %4" : "=a"(q), "=d"(r) : "a"(0x9a5f4400u), "d"(0xfffffffeu), "r"(d));
		rt_printf("idivl -6000000000 / -3 = %d r %d\n", q, r);
	}
}

static void narrow(void)
{
	static volatile uint8_t b8[] = { 0, 1, 2, 7, 0x7f, 0x80, 0x81, 0xfe, 0xff };
	static volatile uint16_t w16[] = { 0, 1, 3, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x1234 };

	for (unsigned i = 0; i < NELEM(b8); i++) {
		for (unsigned j = 0; j < NELEM(b8); j++) {
			uint8_t a = b8[i], b = b8[j];
			uint16_t ax = a, sx = a;
			uint32_t fl, sfl;

			__asm__("mulb %2\n\tpushfl\n\tpopl %1" : "+a"(ax), "=r"(fl) : "q"(b) : "cc");
			__asm__("imulb %2\n\tpushfl\n\tpopl %1" : "+a"(sx), "=r"(sfl) : "q"(b) : "cc");
			rt_printf("mulb %02x %02x: %04x/%03x imulb %04x/%03x", a, b, ax, fl & (FL_CF | FL_OF), sx, sfl & (FL_CF | FL_OF));
			if (b != 0) {
				uint16_t dv = (uint16_t)(a * 3 + 0x100 * (a & 0x7f) / 0x80);	/* ah < b keeps the quotient in al */
				uint16_t q = dv;
				if ((q >> 8) < b) {
					__asm__("divb %1" : "+a"(q) : "q"(b) : "cc");
					rt_printf(" divb %04x/%02x = %02x r %02x", dv, b, q & 0xff, q >> 8);
				}
				q = (uint16_t)(int16_t)(int8_t)a;
				if (!((int8_t)a == -128 && (int8_t)b == -1)) {
					__asm__("idivb %1" : "+a"(q) : "q"(b) : "cc");
					rt_printf(" idivb %d/%d = %d r %d", (int8_t)a, (int8_t)b, (int8_t)(q & 0xff), (int8_t)(q >> 8));
				}
			}
			rt_puts("\n");
		}
	}
	for (unsigned i = 0; i < NELEM(w16); i++) {
		for (unsigned j = 0; j < NELEM(w16); j++) {
			uint16_t a = w16[i], b = w16[j], lo = a, hi, slo = a, shi;
			int16_t sa = (int16_t)a, sb = (int16_t)b;

			__asm__("mulw %2" : "+a"(lo), "=d"(hi) : "r"(b) : "cc");
			__asm__("imulw %2" : "+a"(slo), "=d"(shi) : "r"(b) : "cc");
			rt_printf("mulw %04x %04x: %04x:%04x imulw %04x:%04x imul3 %04x", a, b, hi, lo, shi, slo,
				  (uint16_t)(sa * sb));
			if (b != 0) {
				uint16_t q = a, r = 0;
				__asm__("divw %3" : "=a"(q), "=d"(r) : "a"(q), "r"(b), "d"(r) : "cc");
				rt_printf(" divw %04x %04x", q, r);
				if (!(sa == -32768 && sb == -1)) {
					uint16_t sq = a, sr = sa < 0 ? 0xffff : 0;	/* cwd */
					__asm__("idivw %3" : "=a"(sq), "=d"(sr) : "a"(sq), "r"(b), "d"(sr) : "cc");
					rt_printf(" idivw %d %d c %d %d", (int16_t)sq, (int16_t)sr, sa / sb, sa % sb);
				}
			}
			rt_puts("\n");
		}
	}
}

static void imulForms(void)
{
	volatile int32_t x = -123456;
	int32_t a = x;

	rt_check32("imul3 by 7", (uint32_t)(a * 7), (uint32_t)-864192);
	rt_check32("imul3 by -1000", (uint32_t)(a * -1000), 123456000u);
	rt_check32("imul3 by 100000", (uint32_t)a * 100000u, (uint32_t)-123456 * 100000u);
	rt_check32("mul by 9 (lea)", (uint32_t)(a * 9), (uint32_t)-1111104);
	rt_check32("mul by 0x10001", (uint32_t)a * 0x10001u, (uint32_t)-123456 * 0x10001u);
	rt_check32("udiv by 10", (uint32_t)a / 10u, (uint32_t)-123456 / 10u);
	rt_check32("sdiv by 10", (uint32_t)(a / 10), (uint32_t)-12345);
	rt_check32("smod by 10", (uint32_t)(a % 10), (uint32_t)-6);
	rt_check32("sdiv by 8", (uint32_t)(a / 8), (uint32_t)-15432);
	rt_check32("sdiv by -16", (uint32_t)(a / -16), 7716);
	rt_check32("umod by 7", (uint32_t)a % 7u, 4294843840u % 7u);
}

static void wide64(void)
{
	static volatile uint64_t v[] = { 0, 1, 3, 10, 0xffffffffull, 0x100000000ull, 0x123456789abcdefull,
		0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
		1000000007ull, 0xdeadbeefull << 20 };
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(v); i++) {
		for (unsigned j = 0; j < NELEM(v); j++) {
			uint64_t a = v[i], b = v[j];
			int64_t sa = (int64_t)a, sb = (int64_t)b;

			rt_printf("64 %llx %llx: * %llx", a, b, a * b);
			if (b) {
				rt_printf(" / %llx %% %llx", a / b, a % b);
				if (!(sa == INT64_MIN && sb == -1))
					rt_printf(" s/ %lld s%% %lld", sa / sb, sa % sb);
			}
			rt_puts("\n");
			h = (h ^ (uint32_t)(a * b) ^ (uint32_t)((a * b) >> 32)) * 0x01000193u;
		}
	}
	rt_printf("wide64 hash %08x\n", h);
	rt_check64("2^64-1 / 10", v[10] / 10, 1844674407370955161ull);
	rt_check64("2^64-1 % 10", v[10] % 10, 5);
	rt_check64("-2^63 / 3", (uint64_t)((int64_t)v[8] / 3), (uint64_t)(INT64_MIN / 3));
	rt_check64("-2^63 % 3", (uint64_t)((int64_t)v[8] % 3), (uint64_t)(INT64_MIN % 3));
	rt_check64("big / big", v[6] / (v[12] + 1), 0x123456789abcdefull / ((0xdeadbeefull << 20) + 1));
}

int main(void)
{
	mul32();
	div32();
	divWide();
	narrow();
	imulForms();
	wide64();
	return rt_done();
}
