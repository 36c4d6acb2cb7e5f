/* Shifts and rotates by 0, 1, 31, 32 and beyond (the count is masked to 5 bits), by cl with
   volatile counts so gcc emits shl/shr/sar/rol/ror %cl, the (x << n) | (x >> (32 - n))
   rotate idiom, 8- and 16-bit rotates, rcl/rcr, and the flags each leaves. */

#include "rt.h"

static volatile uint32_t values[] = { 0, 1, 0x80000000, 0x80000001, 0x7fffffff, 0xffffffff, 0x12345678, 0xdeadbeef };
static volatile uint32_t counts[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255 };

static uint32_t rol32(uint32_t x, uint32_t n)
{
	return (x << n) | (x >> ((32 - n) & 31));
}

static uint32_t ror32(uint32_t x, uint32_t n)
{
	return (x >> n) | (x << ((32 - n) & 31));
}

static uint16_t rol16(uint16_t x, unsigned n)
{
	n &= 15;
	return (uint16_t)((x << n) | (x >> ((16 - n) & 15)));
}

static uint8_t ror8(uint8_t x, unsigned n)
{
	n &= 7;
	return (uint8_t)((x >> n) | (x << ((8 - n) & 7)));
}

/* A shift in C by a count below 32: gcc emits the instruction by %cl. */
static void cShifts(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(values); i++) {
		for (unsigned j = 0; j < NELEM(counts); j++) {
			uint32_t x = values[i], n = counts[j] & 31;
			int32_t s = (int32_t)x;
			uint32_t shl = x << n, shr = x >> n, sar = (uint32_t)(s >> n);
			uint32_t rl = rol32(x, n), rr = ror32(x, n);
			uint16_t r16 = rol16((uint16_t)x, counts[j]);
			uint8_t r8 = ror8((uint8_t)x, counts[j]);

			rt_printf("c %08x %2u: shl %08x shr %08x sar %08x rol %08x ror %08x rol16 %04x ror8 %02x\n",
				  x, n, shl, shr, sar, rl, rr, r16, r8);
			h = (h ^ shl ^ shr * 3 ^ sar * 5 ^ rl * 7 ^ rr * 11 ^ r16 ^ (uint32_t)r8 << 16) * 0x01000193u;
		}
	}
	rt_printf("c shifts hash %08x\n", h);
}

/* The instruction itself with the full count and the flags it leaves. The flags are set to
   a known state first (ZF, PF, CF) so that a zero count, which must leave them alone, shows. */
#define SH(insn, w, x, n, fl) \
	__asm__("cmpl %%ecx, %%ecx\n\tstc\n\t" insn " %%cl, %0\n\tpushfl\n\tpopl %1" : "=" w(x), "=r"(fl) : "0"(x), "c"(n) : "cc")

static uint32_t shiftFlags(uint32_t fl, unsigned n)
{
	/* AF is undefined after any shift, OF unless the count is 1 */
	return fl & (n == 1 ? FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF : FL_CF | FL_PF | FL_ZF | FL_SF);
}

static uint32_t rotFlags(uint32_t fl, unsigned n)
{
	return fl & (n == 1 ? FL_CF | FL_OF : FL_CF);
}

static void asmShifts(void)
{
	for (unsigned i = 0; i < NELEM(values); i++) {
		for (unsigned j = 0; j < NELEM(counts); j++) {
			uint32_t x = values[i], n = counts[j], m = n & 31;
			uint32_t a = x, b = x, c = x, d = x, e = x, f = x, g = x;
			uint32_t fa, fb, fc, fd, fe, ff, fg;

			SH("shll", "r", a, n, fa);
			SH("shrl", "r", b, n, fb);
			SH("sarl", "r", c, n, fc);
			SH("roll", "r", d, n, fd);
			SH("rorl", "r", e, n, fe);
			SH("rcll", "r", f, n, ff);
			SH("rcrl", "r", g, n, fg);
			rt_printf("asm32 %08x %3u: shl %08x/%03x shr %08x/%03x sar %08x/%03x rol %08x/%03x ror %08x/%03x rcl %08x/%03x rcr %08x/%03x\n",
				  x, n, a, shiftFlags(fa, m), b, shiftFlags(fb, m), c, shiftFlags(fc, m),
				  d, rotFlags(fd, m), e, rotFlags(fe, m), f, rotFlags(ff, m), g, rotFlags(fg, m));
		}
	}
}

static void asmNarrow(void)
{
	for (unsigned i = 0; i < NELEM(values); i++) {
		for (unsigned j = 0; j < NELEM(counts); j++) {
			uint32_t n = counts[j], m = n & 31;
			uint8_t a = (uint8_t)values[i], b = a, c = a, d = a, e = a, f = a;
			uint16_t p = (uint16_t)(values[i] >> 8), q = p, r = p, s = p, t = p, u = p;
			uint32_t fa, fb, fc, fd, fe, ff, fp, fq, fr, fs, ft, fu;

			SH("shlb", "q", a, n, fa);
			SH("sarb", "q", b, n, fb);
			SH("rolb", "q", c, n, fc);
			SH("rorb", "q", d, n, fd);
			SH("rclb", "q", e, n, fe);
			SH("rcrb", "q", f, n, ff);
			SH("shlw", "r", p, n, fp);
			SH("shrw", "r", q, n, fq);
			SH("rolw", "r", r, n, fr);
			SH("rorw", "r", s, n, fs);
			SH("rclw", "r", t, n, ft);
			SH("rcrw", "r", u, n, fu);
			rt_printf("asm8 %02x %3u: shl %02x/%03x sar %02x/%03x rol %02x/%03x ror %02x/%03x rcl %02x/%03x rcr %02x/%03x\n",
				  (uint8_t)values[i], n, a, shiftFlags(fa, m), b, shiftFlags(fb, m),
				  c, rotFlags(fc, m), d, rotFlags(fd, m), e, rotFlags(fe, m), f, rotFlags(ff, m));
			rt_printf("asm16 %04x %3u: shl %04x/%03x shr %04x/%03x rol %04x/%03x ror %04x/%03x rcl %04x/%03x rcr %04x/%03x\n",
				  (uint16_t)(values[i] >> 8), n, p, shiftFlags(fp, m), q, shiftFlags(fq, m),
				  r, rotFlags(fr, m), s, rotFlags(fs, m), t, rotFlags(ft, m), u, rotFlags(fu, m));
		}
	}
}

/* Immediate-count forms, including the short d1 (count 1) encodings. */
static void immediates(void)
{
	volatile uint32_t v = 0x81234567;
	uint32_t x = v;
	int32_t s = (int32_t)v;
	uint8_t b = (uint8_t)v;
	uint16_t w = (uint16_t)v;

	rt_check32("shl 1", x << 1, 0x02468ace);
	rt_check32("shr 1", x >> 1, 0x4091a2b3);
	rt_check32("sar 1", (uint32_t)(s >> 1), 0xc091a2b3);
	rt_check32("shl 31", x << 31, 0x80000000);
	rt_check32("shr 31", x >> 31, 1);
	rt_check32("sar 31", (uint32_t)(s >> 31), 0xffffffff);
	rt_check32("shl 4", x << 4, 0x12345670);
	rt_check32("sar 4", (uint32_t)(s >> 4), 0xf8123456);
	rt_check32("rol 8", rol32(x, 8), 0x23456781);
	rt_check32("ror 4", ror32(x, 4), 0x78123456);
	rt_check32("rol 1", rol32(x, 1), 0x02468acf);
	rt_check32("ror 1", ror32(x, 1), 0xc091a2b3);
	rt_check32("rol16 4", rol16(w, 4), 0x5674);
	rt_check32("ror8 3", ror8(b, 3), 0xec);
	rt_check32("byte shr 3", (uint8_t)(b >> 3), 0x0c);
	rt_check32("sbyte sar 3", (uint32_t)((int8_t)b >> 3), 0x0000000c);
	volatile int16_t sw = (int16_t)0x8123;
	rt_check32("sword sar 15", (uint32_t)(sw >> 15), 0xffffffff);
	rt_check32("sword sar 4", (uint32_t)(sw >> 4), 0xfffff812);
}

int main(void)
{
	cShifts();
	asmShifts();
	asmNarrow();
	immediates();
	return rt_done();
}
