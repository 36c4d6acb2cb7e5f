/* Every condition code: setcc, cmovcc and jcc for all 16 conditions after cmp (32, 16 and
   8 bits) and test, plus C comparisons through volatile values, which gcc turns into
   setcc, and ternaries, which -O2 turns into cmovcc. */

#include "rt.h"

#define CONDS(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)

#define DEFINE(cc) \
	static uint32_t set_##cc(uint32_t a, uint32_t b) \
	{ \
		uint8_t r; \
		__asm__("cmpl %2, %1\n\tset" #cc " %0" : "=q"(r) : "r"(a), "r"(b) : "cc"); \
		return r; \
	} \
	static uint32_t cmov_##cc(uint32_t a, uint32_t b) \
	{ \
		uint32_t r = 0x11111111; \
		__asm__("cmpl %2, %1\n\tcmov" #cc " %3, %0" : "+r"(r) : "r"(a), "r"(b), "r"(0x22222222u) : "cc"); \
		return r; \
	} \
	static uint32_t jmp_##cc(uint32_t a, uint32_t b) \
	{ \
		uint32_t r; \
		__asm__("cmpl %2, %1\n\tmovl $1, %0\n\tj" #cc " 1f\n\tmovl $0, %0\n1:" : "=&r"(r) : "r"(a), "r"(b) : "cc"); \
		return r; \
	} \
	static uint32_t set16_##cc(uint32_t a, uint32_t b) \
	{ \
		uint8_t r; \
		__asm__("cmpw %w2, %w1\n\tset" #cc " %0" : "=q"(r) : "r"(a), "r"(b) : "cc"); \
		return r; \
	} \
	static uint32_t set8_##cc(uint32_t a, uint32_t b) \
	{ \
		uint8_t r; \
		__asm__("cmpb %b2, %b1\n\tset" #cc " %0" : "=q"(r) : "q"(a), "q"(b) : "cc"); \
		return r; \
	} \
	static uint32_t test_##cc(uint32_t a, uint32_t b) \
	{ \
		uint8_t r; \
		__asm__("testl %2, %1\n\tset" #cc " %0" : "=q"(r) : "r"(a), "r"(b) : "cc"); \
		return r; \
	}
CONDS(DEFINE)

typedef uint32_t (*condFn)(uint32_t, uint32_t);

#define ENTRY(cc) { #cc, set_##cc, cmov_##cc, jmp_##cc, set16_##cc, set8_##cc, test_##cc },
static const struct {
	const char *name;
	condFn set, cmov, jmp, set16, set8, test;
} conds[] = { CONDS(ENTRY) };

static volatile uint32_t vals[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff };

static void asmConds(void)
{
	for (unsigned i = 0; i < NELEM(vals); i++) {
		for (unsigned j = 0; j < NELEM(vals); j++) {
			uint32_t a = vals[i], b = vals[j];
			uint32_t set = 0, jmp = 0, s16 = 0, s8 = 0, tst = 0, cmovBad = 0;

			for (unsigned c = 0; c < NELEM(conds); c++) {
				uint32_t s = conds[c].set(a, b);
				set |= s << c;
				jmp |= conds[c].jmp(a, b) << c;
				s16 |= conds[c].set16(a, b) << c;
				s8 |= conds[c].set8(a, b) << c;
				tst |= conds[c].test(a, b) << c;
				if (conds[c].cmov(a, b) != (s ? 0x22222222u : 0x11111111u))
					cmovBad |= 1u << c;
			}
			rt_printf("%08x %08x: set %04x jcc %04x cmov-mismatch %04x cmp16 %04x cmp8 %04x test %04x\n",
				  a, b, set, jmp, cmovBad, s16, s8, tst);
		}
	}
}

/* From C: gcc picks setcc/cmovcc/jcc itself */
static void cConds(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(vals); i++) {
		for (unsigned j = 0; j < NELEM(vals); j++) {
			uint32_t a = vals[i], b = vals[j];
			int32_t sa = (int32_t)a, sb = (int32_t)b;
			int16_t ha = (int16_t)a, hb = (int16_t)b;
			int8_t ca = (int8_t)a, cb = (int8_t)b;
			uint32_t bits = (uint32_t)(sa < sb) | (sa <= sb) << 1 | (sa > sb) << 2 | (sa >= sb) << 3 |
					(a < b) << 4 | (a <= b) << 5 | (a > b) << 6 | (a >= b) << 7 |
					(a == b) << 8 | (a != b) << 9 | (sa < 0) << 10 | (ha < hb) << 11 |
					((uint16_t)a > (uint16_t)b) << 12 | (ca < cb) << 13 | ((uint8_t)a < (uint8_t)b) << 14 |
					!(a & b) << 15;
			uint32_t smin = (uint32_t)(sa < sb ? sa : sb), umax = a > b ? a : b;
			uint32_t sel = sa >= sb ? a ^ 0x5555 : b + 7;
			uint32_t sel2 = a != b ? a : 0x1234;

			rt_printf("c %08x %08x: %04x smin %08x umax %08x sel %08x %08x\n", a, b, bits, smin, umax, sel, sel2);
			h = (h ^ bits ^ smin ^ umax * 3 ^ sel * 5 ^ sel2 * 7) * 0x01000193u;
		}
	}
	rt_printf("c conds hash %08x\n", h);
}

/* Flags from arithmetic rather than cmp: overflow, sign, parity */
static void flagConds(void)
{
	volatile int32_t max = INT_MAX_, one = 1;
	volatile uint32_t pbyte = 0x103;	/* low byte 03: two bits set, even parity */
	uint8_t o, s, p, np;

	__asm__("addl %2, %1\n\tseto %0" : "=q"(o), "+r"(*(int32_t[]){ max }) : "r"(one) : "cc");
	rt_check32("seto after INT_MAX + 1", o, 1);
	__asm__("subl %2, %1\n\tsets %0" : "=q"(s), "+r"(*(int32_t[]){ 0 }) : "r"(one) : "cc");
	rt_check32("sets after 0 - 1", s, 1);
	__asm__("testl %1, %1\n\tsetp %0" : "=q"(p) : "r"(pbyte) : "cc");
	rt_check32("setp 0x103 (parity of the low byte only)", p, 1);
	__asm__("testl %1, %1\n\tsetnp %0" : "=q"(np) : "r"(pbyte + 4) : "cc");
	rt_check32("setnp 0x107", np, 1);
	rt_check32("parity builtin 0x103", (uint32_t)__builtin_parity(pbyte), 1);
	rt_check32("parity builtin 0x107", (uint32_t)__builtin_parity(pbyte + 4), 0);
	rt_check32("parity builtin 0x10007", (uint32_t)__builtin_parity(pbyte + 0xff04), 0);
}

int main(void)
{
	asmConds();
	cConds();
	flagConds();
	return rt_done();
}
