/* 64-bit integers on a 32-bit CPU: add/sub through adc/sbb, negation, compares of both
   halves, shifts by variable counts (shld/shrd and the count >= 32 case), multiply, and the
   runtime's division, on edge values. */

#include "rt.h"

static volatile uint64_t vals[] = {
	0, 1, 0xffffffffull, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
	0xffffffffffffffffull, 0x123456789abcdef0ull, 0xfedcba9876543210ull, 0x00000001ffffffffull,
};
static volatile uint32_t counts[] = { 0, 1, 4, 31, 32, 33, 40, 63 };

static void arith(void)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < NELEM(vals); i++) {
		for (unsigned j = 0; j < NELEM(vals); j++) {
			uint64_t a = vals[i], b = vals[j];
			int64_t sa = (int64_t)a, sb = (int64_t)b;
			unsigned cmp = (a < b) | (a <= b) << 1 | (a == b) << 2 | (sa < sb) << 3 | (sa >= sb) << 4 | (sa > sb) << 5;

			rt_printf("%016llx %016llx: + %016llx - %016llx cmp %02x\n", a, b, a + b, a - b, cmp);
			h = (h ^ (uint32_t)(a * b) ^ (uint32_t)((a * b) >> 32) ^ (uint32_t)((a - b) >> 32)) * 0x01000193u;
		}
	}
	rt_printf("int64 hash %08x\n", h);
}

static void shifts(void)
{
	for (unsigned i = 0; i < NELEM(vals); i++) {
		for (unsigned j = 0; j < NELEM(counts); j++) {
			uint64_t a = vals[i];
			unsigned n = counts[j];

			rt_printf("%016llx %2u: << %016llx >> %016llx s>> %016llx rol %016llx\n", a, n, a << n, a >> n,
				  (uint64_t)((int64_t)a >> n), n ? (a << n) | (a >> (64 - n)) : a);
		}
	}
}

static void unary(void)
{
	for (unsigned i = 0; i < NELEM(vals); i++) {
		uint64_t a = vals[i];
		int64_t s = (int64_t)a;

		rt_printf("unary %016llx: neg %016llx not %016llx abs %016llx sx32 %016llx zx32 %016llx trunc %08x\n", a,
			  -a, ~a, (uint64_t)(s < 0 ? -s : s), (uint64_t)(int64_t)(int32_t)a, (uint64_t)(uint32_t)a, (uint32_t)a);
	}
}

int main(void)
{
	volatile uint64_t big = 0xffffffffffffffffull;
	volatile int64_t neg = -1000000000000ll;

	arith();
	shifts();
	unary();
	rt_check64("carry into the high half", (uint64_t)0xffffffff + vals[1], 0x100000000ull);
	rt_check64("borrow from the high half", vals[3] - 1, 0xffffffffull);
	rt_check64("UINT64_MAX + 1", big + 1, 0);
	rt_check64("neg", (uint64_t)-neg, 1000000000000ull);
	rt_check64("mul", (uint64_t)neg * 3, (uint64_t)-3000000000000ll);
	rt_check64("mul 32x32", (uint64_t)(uint32_t)big * (uint32_t)big, 0xfffffffe00000001ull);
	rt_check64("div", (uint64_t)(neg / 7), (uint64_t)-142857142857ll);
	rt_check64("mod", (uint64_t)(neg % 7), (uint64_t)-1ll);
	rt_check64("udiv", big / 0x100000001ull, 0xffffffffull);
	rt_check64("umod", big % 0x100000001ull, 0);
	rt_check64("sar 63", (uint64_t)(neg >> 63), 0xffffffffffffffffull);
	rt_check64("shr 63", big >> 63, 1);
	rt_check32("compare signed", neg < 0, 1);
	rt_check32("compare high halves equal", vals[2] < vals[9], 1);
	return rt_done();
}
