/* Stack frames and calling conventions: many stack arguments, stdcall (ret $n), regparm and
   fastcall, 64-bit returns in edx:eax, variable-length arrays and alloca (esp moved by a
   run-time amount), enter/leave, and tail calls. */

#include "rt.h"

#define NOINLINE __attribute__((noinline, noclone))

NOINLINE static uint32_t manyArgs(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f,
				  uint32_t g, uint32_t h, uint32_t i, uint32_t j, uint8_t k, int16_t l)
{
	return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8 + i * 9 + j * 10 + k * 11 + (uint32_t)l * 12;
}

NOINLINE __attribute__((stdcall)) uint32_t stdcallSub(uint32_t a, uint32_t b, uint32_t c)
{
	return a - b - c;
}

NOINLINE __attribute__((regparm(3))) uint32_t regparmMix(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return (a << 24) | (b << 16) | (c << 8) | d;
}

NOINLINE __attribute__((fastcall)) uint32_t fastcallMix(uint32_t a, uint32_t b, uint32_t c)
{
	return a * 100 + b * 10 + c;
}

NOINLINE static uint64_t pairOf(uint32_t hi, uint32_t lo)
{
	return (uint64_t)hi << 32 | lo;
}

NOINLINE static uint32_t vla(uint32_t n)
{
	uint32_t a[n];	/* sub %reg, %esp */
	uint32_t total = 0;

	for (uint32_t i = 0; i < n; i++)
		a[i] = i * i;
	for (uint32_t i = 0; i < n; i++)
		total += a[n - 1 - i] ^ i;
	return total;
}

NOINLINE static uint32_t withAlloca(uint32_t n)
{
	uint8_t *p = __builtin_alloca(n);
	uint32_t h = 0;

	memset(p, 0x5a, n);
	p[n / 2] = 1;
	for (uint32_t i = 0; i < n; i++)
		h = h * 31 + p[i];
	return h + (((uintptr_t)p & 15) == 0);	/* alloca keeps the stack aligned */
}

/* enter $16, $0 / leave, by hand */
NOINLINE static uint32_t enterLeave(uint32_t x)
{
	uint32_t r;

	__asm__("enter $16, $0\n\t"
		"movl %1, -4(%%ebp)\n\t"
		"addl $3, -4(%%ebp)\n\t"
		"movl -4(%%ebp), %0\n\t"
		"leave"
		: "=r"(r) : "r"(x) : "memory");
	return r;
}

NOINLINE static uint32_t countdown(uint32_t n, uint32_t acc)
{
	if (n == 0)
		return acc;
	return countdown(n - 1, acc + n);	/* a jmp at -O2 */
}

int main(void)
{
	volatile uint32_t one = 1;

	rt_check32("many args", manyArgs(one, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -12),
		   1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 81 + 100 + 121 - 144);
	rt_check32("stdcall", stdcallSub(100, one, 2), 97);
	rt_check32("stdcall twice (esp restored)", stdcallSub(stdcallSub(50, 1, one), 2, 3), 43);
	rt_check32("regparm(3)", regparmMix(one, 2, 3, 4), 0x01020304);
	rt_check32("fastcall", fastcallMix(one, 2, 3), 123);
	rt_check64("64-bit return", pairOf(one, 0xdeadbeef), 0x00000001deadbeefull);
	rt_check32("vla(37)", vla(36 + one), 16548);
	rt_check32("vla(1)", vla(one), 0);
	rt_printf("alloca(100) %08x\n", withAlloca(99 + one));
	rt_printf("alloca(7) %08x\n", withAlloca(6 + one));
	rt_check32("enter/leave", enterLeave(one), 4);
	rt_check32("tail calls", countdown(1000 * one, 0), 500500);
	return rt_done();
}
