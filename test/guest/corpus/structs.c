/* Structs by value: large structs passed and returned (hidden return pointer, ret $4), copy
   assignment (memcpy or rep movs), arrays of structs, bitfields, unions and packed layouts. */

#include "rt.h"

struct big {
	uint32_t id;
	char name[37];
	uint16_t vals[20];
	uint64_t total;
};

struct small {
	uint8_t a;
	uint16_t b;
};

struct bits {
	unsigned lo : 3;
	signed mid : 5;
	unsigned flag : 1;
	unsigned wide : 17;
	signed top : 6;
};

struct __attribute__((packed)) packed {
	uint8_t tag;
	uint32_t value;	/* at offset 1: unaligned */
	uint16_t half;	/* at offset 5 */
	uint64_t wide;	/* at offset 7 */
};

union pun {
	uint32_t word;
	uint16_t halves[2];
	uint8_t bytes[4];
	int8_t sbytes[4];
};

static uint32_t hashBytes(const void *p, uint32_t n)
{
	const uint8_t *b = p;
	uint32_t h = 0x811c9dc5u;

	while (n--)
		h = (h ^ *b++) * 0x01000193u;
	return h;
}

/* external and not inlined, so the i386 ABI applies: hidden pointer, ret $4 */
#define ABI __attribute__((noinline, noclone, used))

ABI struct big makeBig(uint32_t id)
{
	struct big b;

	memset(&b, 0, sizeof b);
	b.id = id;
	for (unsigned i = 0; i < sizeof b.name - 1; i++)
		b.name[i] = (char)('a' + (id + i) % 26);
	b.total = 0;
	for (unsigned i = 0; i < NELEM(b.vals); i++) {
		b.vals[i] = (uint16_t)(id * 1000 + i * 77);
		b.total += b.vals[i];
	}
	return b;
}

/* by value in, by value out: the callee works on its own copy */
ABI struct big twiddle(struct big b, uint32_t k)
{
	b.id ^= k;
	b.name[0] = 'Z';
	for (unsigned i = 0; i < NELEM(b.vals); i++)
		b.vals[i] = (uint16_t)(b.vals[i] + k);
	b.total += (uint64_t)k * NELEM(b.vals) + ((uint64_t)1 << 33);
	return b;
}

ABI struct small smallSwap(struct small s)
{
	struct small r = { (uint8_t)s.b, (uint16_t)(s.a << 8 | s.a) };
	return r;
}

ABI uint32_t sumBits(struct bits b)
{
	return b.lo + (uint32_t)b.mid * 3 + b.flag * 5 + b.wide * 7 + (uint32_t)b.top * 11;
}

int main(void)
{
	volatile uint32_t seed = 7;
	struct big a = makeBig(seed), b, arr[4];
	struct small s = { 0x12, 0x3456 }, t;
	struct bits bf = { 0 };
	struct packed pk;
	union pun u;

	rt_printf("big size %u hash %08x total %llu\n", (uint32_t)sizeof a, hashBytes(&a, sizeof a), a.total);
	b = twiddle(a, 0x55);
	rt_printf("twiddled id %u name %c%c total %llu hash %08x\n", b.id, b.name[0], b.name[1], b.total, hashBytes(&b, sizeof b));
	rt_check("caller copy untouched", a.name[0] == 'h' && a.id == 7 && a.vals[3] == 7231);
	rt_check64("twiddled total", b.total, a.total + 0x55 * 20 + ((uint64_t)1 << 33));
	for (unsigned i = 0; i < NELEM(arr); i++)
		arr[i] = makeBig(seed + i);
	arr[1] = arr[3];	/* struct assignment */
	rt_check("struct assignment", memcmp(&arr[1], &arr[3], sizeof arr[1]) == 0 && arr[1].id == 10);
	rt_printf("array hash %08x\n", hashBytes(arr, sizeof arr));

	t = smallSwap(s);
	rt_check32("small struct returned", (uint32_t)t.a << 16 | t.b, 0x561212);

	bf.lo = 5;
	bf.mid = -9;
	bf.flag = 1;
	bf.wide = 0x1abcd;
	bf.top = -32;
	rt_printf("bitfields lo %u mid %d flag %u wide %x top %d\n", bf.lo, bf.mid, bf.flag, bf.wide, bf.top);
	uint32_t word;
	memcpy(&word, &bf, sizeof word);
	rt_check32("bitfield word", word, 5u | (uint32_t)(-9 & 31) << 3 | 1u << 8 | 0x1abcdu << 9 | (uint32_t)(-32 & 63) << 26);
	rt_check32("bitfield sum", sumBits(bf), 5u - 27u + 5u + 0x1abcdu * 7u - 352u);
	bf.mid += 20;	/* -9 + 20 = 11, fits in 5 signed bits */
	bf.wide -= 0x1abce;	/* wraps to 0x1ffff */
	rt_check32("bitfield update", (uint32_t)bf.mid << 20 | bf.wide, 11u << 20 | 0x1ffff);

	memset(&pk, 0, sizeof pk);
	pk.tag = 0xaa;
	pk.value = 0x11223344 + seed;
	pk.half = 0x5566;
	pk.wide = 0x0102030405060708ull * seed;
	rt_check32("packed size", sizeof pk, 15);
	rt_printf("packed bytes hash %08x value %08x wide %llx\n", hashBytes(&pk, sizeof pk), pk.value, pk.wide);

	u.word = 0x80ff7f01 + seed - 7;
	rt_printf("union: halves %04x %04x bytes %02x %02x %02x %02x sbytes %d %d %d %d\n", u.halves[0], u.halves[1],
		  u.bytes[0], u.bytes[1], u.bytes[2], u.bytes[3], u.sbytes[0], u.sbytes[1], u.sbytes[2], u.sbytes[3]);
	rt_check32("union byte 3 sign-extended", (uint32_t)(int32_t)u.sbytes[3], 0xffffff80);
	return rt_done();
}
