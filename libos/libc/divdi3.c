/* 64-bit division for gcc -m32 (which calls these for uint64_t / and %): shift-subtract
   long division, 64 steps at most, no libgcc. */

#include <stdint.h>

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (d == 0) {
		/* what the hardware does for a 32-bit divide: #DE */
		__asm__ volatile("xorl %%ecx,%%ecx; divl %%ecx" ::: "eax", "ecx", "edx");
		return 0;
	}
	if ((d >> 32) == 0 && (n >> 32) == 0) {
		/* both fit in 32 bits: one divl */
		uint32_t q32 = (uint32_t)n / (uint32_t)d;
		if (rem)
			*rem = (uint32_t)n - q32 * (uint32_t)d;
		return q32;
	}
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
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

/* Signed: truncation toward zero, the remainder takes the dividend's sign (C99 6.5.5). */
static uint64_t mag(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

int64_t __divdi3(int64_t n, int64_t d)
{
	uint64_t q = __udivmoddi4(mag(n), mag(d), 0);

	return (n < 0) != (d < 0) ? -(int64_t)q : (int64_t)q;
}

int64_t __moddi3(int64_t n, int64_t d)
{
	uint64_t r;

	__udivmoddi4(mag(n), mag(d), &r);
	return n < 0 ? -(int64_t)r : (int64_t)r;
}
