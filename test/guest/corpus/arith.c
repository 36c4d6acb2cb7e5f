/* 32-bit integer arithmetic on the edge values (INT_MIN, INT_MAX, 0, -1, UINT_MAX): add, sub,
   neg, not, logic, signed and unsigned compares, overflow checks, and the status flags that
   add/sub/adc/sbb/inc/dec/neg/logic ops leave behind. */

#include "rt.h"

static volatile uint32_t edges[] = {
	0x00000000, 0x00000001, 0x00000002, 0x7ffffffe, 0x7fffffff,
	0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x12345678,
};

/* one instruction and the EFLAGS it leaves, in the same asm statement */
#define OP2(insn, a, b, fl) \
	__asm__("clc\n\t" insn " %3, %0\n\tpushfl\n\tpopl %1" : "=r"(a), "=r"(fl) : "0"(a), "r"(b) : "cc")
#define OP2C(insn, a, b, fl) \
	__asm__("stc\n\t" insn " %3, %0\n\tpushfl\n\tpopl %1" : "=r"(a), "=r"(fl) : "0"(a), "r"(b) : "cc")
#define OP1(cf, insn, a, fl) \
	__asm__(cf "\n\t" insn " %0\n\tpushfl\n\tpopl %1" : "=r"(a), "=r"(fl) : "0"(a) : "cc")

static uint32_t mix(uint32_t h, uint32_t v)
{
	return (h ^ v) * 0x01000193u;
}

static void pairs(void)
{
	uint32_t h = 0x811c9dc5u;

	for (unsigned i = 0; i < NELEM(edges); i++) {
		for (unsigned j = 0; j < NELEM(edges); j++) {
			uint32_t a = edges[i], b = edges[j];
			int32_t sa = (int32_t)a, sb = (int32_t)b;
			int s_ovf, d_ovf, m_ovf;
			int32_t sr, dr, mr;
			unsigned cmp;

			s_ovf = __builtin_add_overflow(sa, sb, &sr);
			d_ovf = __builtin_sub_overflow(sa, sb, &dr);
			m_ovf = __builtin_mul_overflow(sa, sb, &mr);
			cmp = (sa < sb) | (sa <= sb) << 1 | (sa > sb) << 2 | (sa >= sb) << 3 |
			      (a < b) << 4 | (a <= b) << 5 | (a > b) << 6 | (a >= b) << 7 |
			      (a == b) << 8 | (a != b) << 9;
			rt_printf("%08x %08x: + %08x - %08x & %08x | %08x ^ %08x ovf %d%d%d cmp %03x\n",
				  a, b, a + b, a - b, a & b, a | b, a ^ b, s_ovf, d_ovf, m_ovf, cmp);
			h = mix(h, a + b);
			h = mix(h, a - b);
			h = mix(h, (uint32_t)mr);
			h = mix(h, (uint32_t)(sr ^ dr));
			h = mix(h, cmp);
		}
	}
	rt_printf("pairs hash %08x\n", h);
}

static void flags(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(edges); i++) {
		for (unsigned j = 0; j < NELEM(edges); j++) {
			uint32_t a, b = edges[j], fa, fs, fc, fb, fn, fx, ft;
			uint32_t ra, rs, rc, rb, rn, rx;

			ra = edges[i]; OP2("addl", ra, b, fa);
			rs = edges[i]; OP2("subl", rs, b, fs);
			rc = edges[i]; OP2C("adcl", rc, b, fc);
			rb = edges[i]; OP2C("sbbl", rb, b, fb);
			rn = edges[i]; OP2("andl", rn, b, fn);
			rx = edges[i]; OP2("xorl", rx, b, fx);
			a = edges[i];
			__asm__("cmpl %2, %1\n\tpushfl\n\tpopl %0" : "=r"(ft) : "r"(a), "r"(b) : "cc");
			fa &= FL_STATUS; fs &= FL_STATUS; fc &= FL_STATUS; fb &= FL_STATUS;
			fn &= FL_STATUS & ~FL_AF; fx &= FL_STATUS & ~FL_AF; ft &= FL_STATUS;
			rt_printf("flags %08x %08x: add %03x adc %08x/%03x sbb %08x/%03x sub %03x cmp %03x and %03x xor %03x\n",
				  a, b, fa, rc, fc, rb, fb, fs, ft, fn, fx);
			h = mix(h, ra ^ rs ^ rn ^ rx);
		}
	}
	rt_printf("flag-op hash %08x\n", h);
}

static void unary(void)
{
	for (unsigned i = 0; i < NELEM(edges); i++) {
		uint32_t x, fi0, fi1, fd, fg, fo;
		uint32_t ri0, ri1, rd, rg, ro;

		ri0 = edges[i]; OP1("clc", "incl", ri0, fi0);
		ri1 = edges[i]; OP1("stc", "incl", ri1, fi1);	/* inc leaves CF alone */
		rd = edges[i]; OP1("stc", "decl", rd, fd);
		rg = edges[i]; OP1("clc", "negl", rg, fg);
		ro = edges[i]; OP1("stc", "notl", ro, fo);	/* not changes no flags */
		x = edges[i];
		rt_printf("unary %08x: inc %08x %03x %03x dec %08x %03x neg %08x %03x not %08x %03x\n", x,
			  ri0, fi0 & FL_STATUS, (fi1 & FL_STATUS) | (ri1 != ri0) << 12, rd, fd & FL_STATUS, rg, fg & FL_STATUS,
			  ro, fo & FL_STATUS);
	}
}

static void checks(void)
{
	volatile int32_t imin = INT_MIN_, imax = INT_MAX_, m1 = -1, zero = 0;
	volatile uint32_t umax = UINT_MAX_;

	rt_check32("INT_MAX + 1", (uint32_t)imax + 1, 0x80000000u);
	rt_check32("INT_MIN - 1", (uint32_t)imin - 1, 0x7fffffffu);
	rt_check32("-INT_MIN", -(uint32_t)imin, 0x80000000u);
	rt_check32("UINT_MAX + 1", umax + 1, 0);
	rt_check32("0 - 1", (uint32_t)zero - 1, 0xffffffffu);
	rt_check32("-1 >> 1 (signed)", (uint32_t)(m1 >> 1), 0xffffffffu);
	rt_check32("UINT_MAX >> 1", umax >> 1, 0x7fffffffu);
	rt_check32("INT_MIN < 0", imin < zero, 1);
	rt_check32("INT_MIN < INT_MAX", imin < imax, 1);
	rt_check32("(unsigned)INT_MIN > INT_MAX", (uint32_t)imin > (uint32_t)imax, 1);
	rt_check32("-1 < 0 signed", m1 < zero, 1);
	rt_check32("UINT_MAX > 0", umax > (uint32_t)zero, 1);
	rt_check32("abs(-1)", (uint32_t)(m1 < 0 ? -m1 : m1), 1);
	rt_check32("~0", ~(uint32_t)zero, 0xffffffffu);
	rt_check32("INT_MAX * 2", (uint32_t)imax * 2, 0xfffffffeu);
	rt_check32("INT_MIN * -1", (uint32_t)imin * (uint32_t)m1, 0x80000000u);
	rt_check32("lea a+b*4+7", (uint32_t)imax + (uint32_t)m1 * 4 + 7, 0x80000002u);
	rt_check32("add ovf max+1", __builtin_add_overflow(imax, 1, &(int32_t){0}), 1);
	rt_check32("sub ovf min-1", __builtin_sub_overflow(imin, 1, &(int32_t){0}), 1);
	rt_check32("mul ovf min*-1", __builtin_mul_overflow(imin, m1, &(int32_t){0}), 1);
	rt_check32("uadd ovf", __builtin_add_overflow(umax, 1u, &(uint32_t){0}), 1);
	rt_check32("umul ovf", __builtin_mul_overflow(umax, 2u, &(uint32_t){0}), 1);
	rt_check32("umul no ovf", __builtin_mul_overflow(0x10000u, 0xffffu + (uint32_t)zero, &(uint32_t){0}), 0);
}

int main(void)
{
	pairs();
	flags();
	unary();
	checks();
	return rt_done();
}
