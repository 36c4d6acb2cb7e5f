/* Indirect control flow: dense switches (jump tables, jmp *table(,%eax,4)), a sparse switch
   (compare trees), a function-pointer table, callbacks and computed goto. */

#include "rt.h"

static uint32_t dense(uint32_t op, uint32_t x)
{
	switch (op) {
	case 0: return x + 1;
	case 1: return x - 1;
	case 2: return x * 3;
	case 3: return x / 3;
	case 4: return x << 2;
	case 5: return x >> 2;
	case 6: return ~x;
	case 7: return -x;
	case 8: return x ^ 0xa5a5a5a5;
	case 9: return x | 0x100;
	case 10: return x & 0xff00ff;
	case 11: return x * x;
	case 12: return x % 1000;
	case 13: return (x << 16) | (x >> 16);
	case 14: return x + 0x12345;
	case 15: return 0;
	default: return 0xdeadbeef;
	}
}

/* a dense switch on a signed range that starts below zero */
static const char *sign(int v)
{
	switch (v) {
	case -3: return "minus three";
	case -2: return "minus two";
	case -1: return "minus one";
	case 0: return "zero";
	case 1: return "one";
	case 2: return "two";
	case 3: return "three";
	case 4: return "four";
	case 5: return "five";
	case 6: return "six";
	default: return "other";
	}
}

static int sparse(uint32_t v)
{
	switch (v) {
	case 1: return 10;
	case 100: return 20;
	case 1000: return 30;
	case 4096: return 40;
	case 65535: return 50;
	case 0x80000000: return 60;
	case 0xffffffff: return 70;
	default: return -1;
	}
}

/* switch on a char with fallthrough */
static int classify(char c)
{
	int n = 0;

	switch (c) {
	case 'a': case 'e': case 'i': case 'o': case 'u':
		n += 100;
		/* fall through */
	case 'b': case 'c': case 'd': case 'f': case 'g':
		n += 10;
		/* fall through */
	case 'x':
		n += 1;
		break;
	case ' ':
		n = -1;
		break;
	default:
		n = 0;
	}
	return n;
}

static uint32_t opAdd(uint32_t a, uint32_t b) { return a + b; }
static uint32_t opSub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t opMul(uint32_t a, uint32_t b) { return a * b; }
static uint32_t opXor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t opMax(uint32_t a, uint32_t b) { return a > b ? a : b; }

static uint32_t (*const ops[])(uint32_t, uint32_t) = { opAdd, opSub, opMul, opXor, opMax };

struct shape {
	const char *name;
	uint32_t (*area)(const struct shape *);
	uint32_t w, h;
};

static uint32_t rectArea(const struct shape *s) { return s->w * s->h; }
static uint32_t triArea(const struct shape *s) { return s->w * s->h / 2; }

static uint32_t fold(const uint32_t *v, unsigned n, uint32_t (*f)(uint32_t, uint32_t), uint32_t init)
{
	for (unsigned i = 0; i < n; i++)
		init = f(init, v[i]);
	return init;
}

/* a threaded loop with computed goto (jmp *%reg) */
static uint32_t threaded(const uint8_t *code)
{
	static void *const labels[] = { &&halt, &&inc, &&dbl, &&neg };
	uint32_t acc = 1;

	goto *labels[*code++];
inc:
	acc++;
	goto *labels[*code++];
dbl:
	acc *= 2;
	goto *labels[*code++];
neg:
	acc = -acc;
	goto *labels[*code++];
halt:
	return acc;
}

int main(void)
{
	volatile uint32_t seed = 0x1234567;
	uint32_t h = 0, x = seed;
	static const uint32_t nums[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5 };
	static const uint8_t prog[] = { 1, 2, 2, 1, 3, 2, 1, 0 };
	static const struct shape shapes[] = { { "rect", rectArea, 6, 7 }, { "tri", triArea, 5, 9 } };
	volatile uint32_t sv[] = { 1, 100, 1000, 4096, 65535, 0x80000000, 0xffffffff, 7, 0 };

	for (uint32_t i = 0; i < 200; i++) {
		uint32_t op = (x >> 7) % 18;	/* 16 and 17 take the default */
		x = dense(op, x) + i;
		h = (h ^ x) * 0x01000193u;
	}
	rt_printf("dense switch x %08x h %08x\n", x, h);
	rt_check32("dense 2", dense(2, seed), 0x369d035);
	rt_check32("dense 13", dense(13, seed), 0x45670123);
	rt_check32("dense default", dense(99, seed), 0xdeadbeef);
	for (int v = -5; v <= 8; v++)
		rt_printf("sign %d %s\n", v, sign(v));
	for (unsigned i = 0; i < NELEM(sv); i++)
		rt_printf("sparse %08x -> %d\n", sv[i], sparse(sv[i]));
	{
		const char *t = "a quick fox jumped over big dogs";
		int total = 0;
		for (const char *p = t; *p; p++)
			total = total * 3 + classify(*p);
		rt_check32("classify", (uint32_t)total, 0x4d23e986);
	}
	for (unsigned i = 0; i < NELEM(ops); i++)
		rt_printf("fold op %u = %08x\n", i, fold(nums, NELEM(nums), ops[i], 1));
	for (unsigned i = 0; i < NELEM(shapes); i++)
		rt_printf("%s area %u\n", shapes[i].name, shapes[i].area(&shapes[i]));
	rt_check32("threaded", threaded(prog), (uint32_t)-(((1 + 1) * 2 * 2 + 1) * 2) + 1);
	return rt_done();
}
