/* 8- and 16-bit arithmetic: uint8_t/int8_t/uint16_t/int16_t wraparound, sign and zero
   extension (movsx/movzx), the high-byte registers (ah, bh, ...), cbw/cwde/cwd/cdq, and
   operand-size-prefixed arithmetic with its flags. */

#include "rt.h"

static volatile uint8_t b8[] = { 0, 1, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x5a };
static volatile uint16_t w16[] = { 0, 1, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x1234 };

static void wrap(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(b8); i++) {
		for (unsigned j = 0; j < NELEM(b8); j++) {
			uint8_t a = b8[i], b = b8[j];
			int8_t sa = (int8_t)a, sb = (int8_t)b;
			uint8_t sum = (uint8_t)(a + b), diff = (uint8_t)(a - b), prod = (uint8_t)(a * b);
			int8_t ssum = (int8_t)(sa + sb);
			int32_t widened = sa * sb;	/* movsx, then a 32-bit multiply */

			rt_printf("b %02x %02x: + %02x - %02x * %02x s+ %d s* %d lt %d slt %d\n", a, b, sum, diff, prod,
				  ssum, widened, a < b, sa < sb);
			h = (h ^ sum ^ diff << 8 ^ prod << 16 ^ (uint32_t)widened) * 0x01000193u;
		}
	}
	for (unsigned i = 0; i < NELEM(w16); i++) {
		for (unsigned j = 0; j < NELEM(w16); j++) {
			uint16_t a = w16[i], b = w16[j];
			int16_t sa = (int16_t)a, sb = (int16_t)b;
			uint16_t sum = (uint16_t)(a + b), diff = (uint16_t)(a - b), prod = (uint16_t)(a * b);
			int32_t widened = sa * sb;

			rt_printf("w %04x %04x: + %04x - %04x * %04x s* %d lt %d slt %d\n", a, b, sum, diff, prod, widened,
				  a < b, sa < sb);
			h = (h ^ sum ^ (uint32_t)diff << 8 ^ (uint32_t)prod << 16 ^ (uint32_t)widened) * 0x01000193u;
		}
	}
	rt_printf("narrow hash %08x\n", h);
}

static void extend(void)
{
	for (unsigned i = 0; i < NELEM(b8); i++) {
		uint8_t b = b8[i];
		uint16_t w = w16[i];
		uint32_t cbw, cwde, cdq_lo, cdq_hi, cwd_lo, cwd_hi;

		__asm__("movb %b1, %%al\n\tcbtw" : "=a"(cbw) : "q"(b), "0"(0xaaaa0000u));
		__asm__("movw %w1, %%ax\n\tcwtl" : "=a"(cwde) : "r"(w), "0"(0xaaaaaaaau));
		__asm__("cltd" : "=a"(cdq_lo), "=d"(cdq_hi) : "0"((uint32_t)w << 16));
		__asm__("cwtd" : "=a"(cwd_lo), "=d"(cwd_hi) : "0"((uint32_t)w), "1"(0xbbbbbbbbu));
		rt_printf("ext %02x %04x: zx8 %08x sx8 %08x zx16 %08x sx16 %08x cbw %08x cwde %08x cdq %08x:%08x cwd %08x:%08x\n",
			  b, w, (uint32_t)b, (uint32_t)(int32_t)(int8_t)b, (uint32_t)w, (uint32_t)(int32_t)(int16_t)w,
			  cbw, cwde, cdq_hi, cdq_lo, cwd_hi, cwd_lo);
	}
}

static void highBytes(void)
{
	volatile uint32_t v = 0x11223344;
	uint32_t x = v, y;

	__asm__("addb %h0, %b0\n\txchgb %h0, %b0" : "+Q"(x) : : "cc");	/* al += ah; swap them */
	rt_check32("ah/al", x, 0x11227733);
	y = v;
	__asm__("movb $0x99, %h0\n\tsubb $1, %h0\n\tincb %b0" : "+Q"(y) : : "cc");
	rt_check32("bh writes", y, 0x11229845);
	y = v;
	__asm__("movzbl %h1, %0" : "=r"(x) : "Q"(y));
	rt_check32("movzx from ah", x, 0x33);
	__asm__("movsbl %h1, %0" : "=r"(x) : "Q"(0x8000u));
	rt_check32("movsx from ah", x, 0xffffff80);
	__asm__("movw $0x9876, %w0" : "+r"(y));
	rt_check32("16-bit mov keeps the high half", y, 0x11229876);
	__asm__("movb $0x55, %b0" : "+q"(y));
	rt_check32("8-bit mov keeps the rest", y, 0x11229855);
}

/* operand-size-prefixed arithmetic and its flags */
static void prefixed(void)
{
	for (unsigned i = 0; i < NELEM(w16); i++) {
		for (unsigned j = 0; j < NELEM(w16); j += 3) {
			uint32_t a = 0xcccc0000u | w16[i], b = w16[j], s = a, d = a, n = a, fs, fd, fn;
			uint32_t c8 = 0xdddddd00u | b8[i], fc8;

			__asm__("addw %w3, %w0\n\tpushfl\n\tpopl %1" : "=r"(s), "=r"(fs) : "0"(s), "r"(b) : "cc");
			__asm__("sbbw %w3, %w0\n\tpushfl\n\tpopl %1" : "=r"(d), "=r"(fd) : "0"(d), "r"(b) : "cc");
			__asm__("negw %w0\n\tpushfl\n\tpopl %1" : "=r"(n), "=r"(fn) : "0"(n) : "cc");
			__asm__("addb %b3, %b0\n\tpushfl\n\tpopl %1" : "=q"(c8), "=r"(fc8) : "0"(c8), "q"(b8[j]) : "cc");
			rt_printf("w16 %08x %04x: add %08x/%03x sbb %08x/%03x neg %08x/%03x addb %08x/%03x\n", a, b,
				  s, fs & FL_STATUS, d, fd & FL_STATUS, n, fn & FL_STATUS, c8, fc8 & FL_STATUS);
		}
	}
}

int main(void)
{
	volatile uint8_t u8 = 250;
	volatile int8_t s8 = 120;
	volatile uint16_t u16 = 65530;
	volatile int16_t s16 = 32760;

	wrap();
	extend();
	highBytes();
	prefixed();
	rt_check32("uint8 250 + 10", (uint8_t)(u8 + 10), 4);
	rt_check32("int8 120 + 10", (uint32_t)(int8_t)(s8 + 10), (uint32_t)-126);
	rt_check32("uint16 65530 + 10", (uint16_t)(u16 + 10), 4);
	rt_check32("int16 32760 + 10", (uint32_t)(int16_t)(s16 + 10), (uint32_t)-32766);
	rt_check32("uint8 promoted compare", (uint8_t)(u8 + 10) < u8, 1);
	rt_check32("int8 / int8", (uint32_t)(int8_t)((int8_t)-128 / (int8_t)(s8 - 121)), (uint32_t)-128);
	rt_check32("uint16 * uint16", (uint32_t)u16 * u16, 65530u * 65530u);
	return rt_done();
}
