/* Bit instructions: bt/bts/btr/btc on registers and on memory bit strings (where a register
   offset may reach beyond the addressed dword, even below it), bsf/bsr and ctz/clz, shld/shrd,
   bswap, and 32-bit popcount and parity by hand. */

#include "rt.h"

static volatile uint32_t vals[] = { 0, 1, 2, 0x80000000, 0x80000001, 0xffffffff, 0x00f00000, 0x12345678, 0x0000ff00 };
static volatile int32_t offsets[] = { 0, 1, 5, 31, 32, 33, 63, 64, 100, -1, -8, -33 };

#define BT_REG(insn, v, n, cf) \
	__asm__(insn " %3, %0\n\tsetc %1" : "=r"(v), "=q"(cf) : "0"(v), "r"(n) : "cc")

static void btRegister(void)
{
	for (unsigned i = 0; i < NELEM(vals); i++) {
		for (unsigned j = 0; j < 6; j++) {
			uint32_t n = (uint32_t)offsets[j];	/* a register operand uses the offset mod 32 */
			uint32_t a = vals[i], b = a, c = a, d = a;
			uint8_t fa, fb, fc, fd;

			BT_REG("btl", a, n, fa);
			BT_REG("btsl", b, n, fb);
			BT_REG("btrl", c, n, fc);
			BT_REG("btcl", d, n, fd);
			rt_printf("bt %08x %2u: bt %u bts %08x/%u btr %08x/%u btc %08x/%u\n", a, n, fa, b, fb, c, fc, d, fd);
		}
	}
	{
		uint32_t v = 0x10, imm;
		uint8_t cf;
		__asm__("btsl $35, %0\n\tsetc %1" : "=r"(imm), "=q"(cf) : "0"(v) : "cc");	/* immediate: mod 32 */
		rt_check32("bts $35 on a register", imm, 0x18);
		rt_check32("bts $35 old bit", cf, 0);
	}
}

static void btMemory(void)
{
	static uint32_t bits[8];

	for (unsigned j = 0; j < NELEM(offsets); j++) {
		int32_t n = offsets[j];
		uint8_t f1, f2, f3, f4;

		for (unsigned k = 0; k < NELEM(bits); k++)
			bits[k] = 0x01010101u * (k + 1);
		/* the operand is bits[4]; the offset is signed and addresses the whole string */
		__asm__("btsl %2, %0\n\tsetc %1" : "+m"(bits[4]), "=q"(f1) : "r"(n) : "cc", "memory");
		__asm__("btl %2, %0\n\tsetc %1" : "+m"(bits[4]), "=q"(f2) : "r"(n) : "cc", "memory");
		__asm__("btcl %2, %0\n\tsetc %1" : "+m"(bits[4]), "=q"(f3) : "r"(n + 1) : "cc", "memory");
		__asm__("btrl %2, %0\n\tsetc %1" : "+m"(bits[4]), "=q"(f4) : "r"(n + 2) : "cc", "memory");
		rt_printf("bt mem %4d: %u%u%u%u", n, f1, f2, f3, f4);
		for (unsigned k = 0; k < NELEM(bits); k++)
			rt_printf(" %08x", bits[k]);
		rt_puts("\n");
	}
	{
		uint8_t cf;
		bits[0] = 0;
		__asm__("btsl $9, %0\n\tsetc %1" : "+m"(bits[0]), "=q"(cf) : : "cc", "memory");
		__asm__("btsw $3, %0\n\tsetc %1" : "+m"(bits[0]), "=q"(cf) : : "cc", "memory");
		__asm__("btcw $9, %0\n\tsetc %1" : "+m"(bits[0]), "=q"(cf) : : "cc", "memory");
		rt_check32("bt immediates on memory", bits[0] | (uint32_t)cf << 31, 0x80000008u);
	}
}

static void scans(void)
{
	for (unsigned i = 0; i < NELEM(vals); i++) {
		uint32_t v = vals[i], f, r;
		uint8_t zf;

		if (v) {
			rt_printf("scan %08x: ctz %d clz %d ffs %d", v, __builtin_ctz(v), __builtin_clz(v), __builtin_ffs((int)v));
		} else {
			rt_printf("scan %08x: ffs %d", v, __builtin_ffs((int)v));
		}
		/* bsf/bsr with a zero source set ZF; the destination is then left unchanged on
		   real CPUs but documented as undefined, so only ZF is compared */
		__asm__("bsfl %2, %0\n\tsetz %1" : "=r"(f), "=q"(zf) : "r"(v), "0"(0x77u) : "cc");
		rt_printf(" bsf zf %u", zf);
		if (!zf)
			rt_printf(" %u", f);
		__asm__("bsrl %2, %0\n\tsetz %1" : "=r"(r), "=q"(zf) : "r"(v), "0"(0x77u) : "cc");
		rt_printf(" bsr zf %u", zf);
		if (!zf)
			rt_printf(" %u", r);
		{
			uint16_t w = (uint16_t)(v >> 4), wf;
			__asm__("bsfw %2, %0\n\tsetz %1" : "=r"(wf), "=q"(zf) : "r"(w), "0"((uint16_t)0x77) : "cc");
			rt_printf(" bsfw zf %u", zf);
			if (!zf)
				rt_printf(" %u", wf);
		}
		rt_puts("\n");
	}
	{
		volatile uint64_t big = 0x0000010000000000ull;
		rt_check32("ctzll", (uint32_t)__builtin_ctzll(big), 40);
		rt_check32("clzll", (uint32_t)__builtin_clzll(big), 23);
		rt_check32("clzll low", (uint32_t)__builtin_clzll(big >> 20), 43);
	}
}

static void doubleShifts(void)
{
	static volatile uint32_t counts[] = { 0, 1, 4, 16, 31, 32, 33 };

	for (unsigned i = 0; i < NELEM(counts); i++) {
		uint32_t n = counts[i], hi = 0x12345678, lo = 0x9abcdef0, l = hi, r = lo;
		uint32_t fl, fr;

		__asm__("cmpl %%ecx, %%ecx\n\tstc\n\tshldl %%cl, %3, %0\n\tpushfl\n\tpopl %1" : "=r"(l), "=r"(fl) : "0"(l), "r"(lo), "c"(n) : "cc");
		__asm__("cmpl %%ecx, %%ecx\n\tstc\n\tshrdl %%cl, %3, %0\n\tpushfl\n\tpopl %1" : "=r"(r), "=r"(fr) : "0"(r), "r"(hi), "c"(n) : "cc");
		/* OF is defined for a count of 1 only, AF never */
		fl &= (n & 31) == 1 ? FL_CF | FL_ZF | FL_SF | FL_PF | FL_OF : FL_CF | FL_ZF | FL_SF | FL_PF;
		fr &= (n & 31) == 1 ? FL_CF | FL_ZF | FL_SF | FL_PF | FL_OF : FL_CF | FL_ZF | FL_SF | FL_PF;
		rt_printf("shld %2u: %08x/%03x shrd %08x/%03x\n", n, l, fl, r, fr);
	}
	{
		uint32_t a = 0x80000001, b = 0xc0000000;
		__asm__("shldl $4, %1, %0" : "+r"(a) : "r"(b) : "cc");
		rt_check32("shld $4", a, 0x0000001c);
		__asm__("shrdl $8, %1, %0" : "+r"(a) : "r"(b) : "cc");
		rt_check32("shrd $8", a, 0x00000000);
	}
	{
		uint16_t w = 0x1234, x = 0xabcd;
		__asm__("shldw $4, %1, %0" : "+r"(w) : "r"(x) : "cc");
		rt_check32("shldw $4", w, 0x234a);
	}
}

static uint32_t popcount(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555);
	x = (x & 0x33333333) + ((x >> 2) & 0x33333333);
	x = (x + (x >> 4)) & 0x0f0f0f0f;
	return (x * 0x01010101) >> 24;
}

int main(void)
{
	volatile uint32_t v = 0x12345678;
	uint32_t b;

	btRegister();
	btMemory();
	scans();
	doubleShifts();
	rt_check32("bswap builtin", __builtin_bswap32(v), 0x78563412);
	b = v;
	__asm__("bswap %0" : "+r"(b));
	rt_check32("bswap", b, 0x78563412);
	rt_check32("bswap16", __builtin_bswap16((uint16_t)v), 0x7856);
	rt_check64("bswap64", __builtin_bswap64((uint64_t)v << 32 | 0xaabbccdd), 0xddccbbaa78563412ull);
	rt_check32("popcount", popcount(v), 13);
	rt_check32("popcount -1", popcount(v | 0xffffffff), 32);
	return rt_done();
}
