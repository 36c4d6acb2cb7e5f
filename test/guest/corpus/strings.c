/* String operations: C loops (memcpy, memset, memcmp, strlen) and the string instructions
   themselves by inline asm: rep movs/stos in byte, word and dword sizes, lods, repe cmps,
   repne scas, forwards and backwards (std), with a zero count, checking esi/edi/ecx after. */

#include "rt.h"

static uint8_t src[300], dst[300], ref[300];

static uint32_t sum(const uint8_t *p, uint32_t n)
{
	uint32_t h = 0x811c9dc5u;

	while (n--)
		h = (h ^ *p++) * 0x01000193u;
	return h;
}

static void fill(void)
{
	for (unsigned i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0xee, sizeof dst);
	memset(ref, 0xee, sizeof ref);
}

/* The model the string instructions are checked against: n elements of size bytes, each
   step moving the pointers by +size or -size. */
static void refMove(uint8_t *d, const uint8_t *s, uint32_t n, uint32_t size, int back)
{
	for (; n; n--) {
		for (uint32_t k = 0; k < size; k++)
			d[k] = s[k];
		d += back ? -(int)size : (int)size;
		s += back ? -(int)size : (int)size;
	}
}

static void refStore(uint8_t *d, uint32_t value, uint32_t n, uint32_t size, int back)
{
	for (; n; n--) {
		for (uint32_t k = 0; k < size; k++)
			d[k] = (uint8_t)(value >> (8 * k));
		d += back ? -(int)size : (int)size;
	}
}

/* dst against ref, byte for byte, and a hash of dst for the output comparison */
static void same(const char *what)
{
	unsigned i;

	for (i = 0; i < sizeof dst && dst[i] == ref[i]; i++)
		;
	rt_printf("%s: hash %08x, ", what, sum(dst, sizeof dst));
	rt_check("matches the model", i == sizeof dst);
}

static void cLoops(void)
{
	static char text[] = "the quick brown fox jumps over the lazy dog";
	volatile uint32_t n = 37;

	fill();
	memcpy(dst + 1, src + 3, n);
	refMove(ref + 1, src + 3, n, 1, 0);
	same("memcpy");
	memset(dst + 5, 0, n);
	refStore(ref + 5, 0, n, 1, 0);
	same("memset");
	memmove(dst + 10, dst + 2, n);	/* overlapping, the destination above */
	refMove(ref + 10 + n - 1, ref + 2 + n - 1, n, 1, 1);
	same("memmove up");
	memmove(dst + 2, dst + 10, n);
	refMove(ref + 2, ref + 10, n, 1, 0);
	same("memmove down");
	rt_check32("memcmp equal", (uint32_t)memcmp(src, src, n), 0);
	dst[0] = 1;
	rt_check32("memcmp less", memcmp(dst, src, 1) < 0, 1);
	rt_check32("strlen", strlen(text), 43);
	rt_check32("strcmp", strcmp(text, "the quick") > 0, 1);
}

struct regs {
	uint32_t esi, edi, ecx, flags;
};

static void show(const char *what, const struct regs *r, const void *s, const void *d)
{
	rt_printf("%s: esi %d edi %d ecx %u zf %u cf %u\n", what,
		  (int)(r->esi - (uint32_t)(uintptr_t)s), (int)(r->edi - (uint32_t)(uintptr_t)d), r->ecx,
		  (r->flags & FL_ZF) != 0, (r->flags & FL_CF) != 0);
}

/* rep movs<size> of n elements; backwards (std) when back */
#define REP_MOVS(size, s, d, n, back, r) \
	__asm__ volatile(back ? "std\n\trep movs" size "\n\tcld" : "rep movs" size \
		: "=S"((r).esi), "=D"((r).edi), "=c"((r).ecx) : "0"(s), "1"(d), "2"(n) : "memory")

static void repMovs(void)
{
	struct regs r = { 0, 0, 0, 0 };
	uint8_t *s, *d;

	fill();
	s = src + 1; d = dst + 3;
	__asm__ volatile("rep movsb" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(77) : "memory");
	show("rep movsb", &r, s, d);
	refMove(ref + 3, src + 1, 77, 1, 0);
	same("rep movsb data");

	fill();
	s = src + 2; d = dst + 1;	/* misaligned dwords */
	__asm__ volatile("rep movsl" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(19) : "memory");
	show("rep movsd", &r, s, d);
	refMove(ref + 1, src + 2, 19, 4, 0);
	same("rep movsd data");

	fill();
	s = src + 4; d = dst + 4;
	__asm__ volatile("rep movsw" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(33) : "memory");
	show("rep movsw", &r, s, d);
	refMove(ref + 4, src + 4, 33, 2, 0);
	same("rep movsw data");

	fill();	/* backwards: esi and edi point at the last element */
	s = src + 99; d = dst + 120;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(50) : "memory");
	show("std rep movsb", &r, s, d);
	refMove(ref + 120, src + 99, 50, 1, 1);
	same("std rep movsb data");

	fill();
	s = src + 96; d = dst + 100;
	__asm__ volatile("std\n\trep movsl\n\tcld" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(12) : "memory");
	show("std rep movsd", &r, s, d);
	refMove(ref + 100, src + 96, 12, 4, 1);
	same("std rep movsd data");

	fill();	/* overlapping backwards copy, the memmove way */
	for (unsigned i = 0; i < 64; i++)
		dst[i] = ref[i] = (uint8_t)i;
	s = dst + 39; d = dst + 47;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(40) : "memory");
	refMove(ref + 47, ref + 39, 40, 1, 1);
	same("std overlapping movsb");

	fill();
	s = src; d = dst;
	__asm__ volatile("rep movsb" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx) : "0"(s), "1"(d), "2"(0) : "memory");
	show("rep movsb ecx=0", &r, s, d);
	rt_check32("ecx=0 copies nothing", dst[0], 0xee);

	fill();	/* a single movs without rep */
	s = src + 5; d = dst + 5;
	__asm__ volatile("movsl\n\tmovsw\n\tmovsb" : "=S"(r.esi), "=D"(r.edi) : "0"(s), "1"(d) : "memory");
	refMove(ref + 5, src + 5, 7, 1, 0);
	same("movsl movsw movsb");
}

static void repStos(void)
{
	struct regs r = { 0, 0, 0, 0 };
	uint8_t *d;

	fill();
	d = dst + 1;
	__asm__ volatile("rep stosb" : "=D"(r.edi), "=c"(r.ecx) : "0"(d), "1"(45), "a"(0x5a) : "memory");
	show("rep stosb", &r, 0, d);
	refStore(ref + 1, 0x5a, 45, 1, 0);
	same("rep stosb data");

	fill();
	d = dst + 2;
	__asm__ volatile("rep stosl" : "=D"(r.edi), "=c"(r.ecx) : "0"(d), "1"(11), "a"(0x11223344) : "memory");
	show("rep stosd", &r, 0, d);
	refStore(ref + 2, 0x11223344, 11, 4, 0);
	same("rep stosd data");

	fill();
	d = dst + 3;
	__asm__ volatile("rep stosw" : "=D"(r.edi), "=c"(r.ecx) : "0"(d), "1"(9), "a"(0xbeef) : "memory");
	refStore(ref + 3, 0xbeef, 9, 2, 0);
	same("rep stosw data");

	fill();
	d = dst + 60;
	__asm__ volatile("std\n\trep stosl\n\tcld" : "=D"(r.edi), "=c"(r.ecx) : "0"(d), "1"(5), "a"(0xcafebabe) : "memory");
	show("std rep stosd", &r, 0, d);
	refStore(ref + 60, 0xcafebabe, 5, 4, 1);
	same("std rep stosd data");
}

static void scanCompare(void)
{
	static char text[] = "exolab: string instructions, scanned";
	static char other[] = "exolab: string instructionz, scanned";
	struct regs r = { 0, 0, 0, 0 };
	uint32_t al = 0;
	char *p = text;

	/* strlen the rep way: repne scasb for the terminating zero */
	__asm__ volatile("repne scasb\n\tpushfl\n\tpopl %2" : "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(p), "1"(-1), "a"(0) : "memory", "cc");
	show("repne scasb 0", &r, 0, p);
	rt_check32("strlen by scasb", ~r.ecx - 1, 36);

	__asm__ volatile("repne scasb\n\tpushfl\n\tpopl %2" : "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(p), "1"(36), "a"(':') : "memory", "cc");
	show("repne scasb ':'", &r, 0, p);

	__asm__ volatile("repne scasb\n\tpushfl\n\tpopl %2" : "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(p), "1"(36), "a"('Q') : "memory", "cc");
	show("repne scasb not found", &r, 0, p);

	__asm__ volatile("repe cmpsb\n\tpushfl\n\tpopl %3" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(text), "1"(other), "2"(37) : "memory", "cc");
	show("repe cmpsb differ", &r, text, other);

	__asm__ volatile("repe cmpsb\n\tpushfl\n\tpopl %3" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(text), "1"(other), "2"(20) : "memory", "cc");
	show("repe cmpsb equal prefix", &r, text, other);

	__asm__ volatile("std\n\trepe cmpsb\n\tpushfl\n\tpopl %3\n\tcld" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(text + 35), "1"(other + 35), "2"(36) : "memory", "cc");
	show("std repe cmpsb", &r, text + 35, other + 35);

	__asm__ volatile("repe cmpsl\n\tpushfl\n\tpopl %3" : "=S"(r.esi), "=D"(r.edi), "=c"(r.ecx), "=r"(r.flags) : "0"(text), "1"(other), "2"(9) : "memory", "cc");
	show("repe cmpsd", &r, text, other);

	/* lodsb: sum the bytes */
	{
		uint32_t total = 0, n = 36;
		char *s = text;
		while (n--) {
			__asm__ volatile("lodsb" : "=a"(al), "+S"(s) : "0"(al) : "memory");
			total += al & 0xff;
		}
		rt_check32("lodsb sum", total, 3561);
	}
	/* scasl and the flags of a single compare */
	{
		uint32_t words[4] = { 1, 2, 3, 4 }, fl;
		uint32_t *w = words;
		__asm__ volatile("scasl\n\tpushfl\n\tpopl %1" : "+D"(w), "=r"(fl) : "a"(3) : "memory", "cc");
		rt_check32("scasl 3 vs 1 flags", fl & FL_STATUS, 0x000);
		__asm__ volatile("scasl\n\tpushfl\n\tpopl %1" : "+D"(w), "=r"(fl) : "a"(1) : "memory", "cc");
		rt_check32("scasl 1 vs 2 flags", fl & FL_STATUS, 0x095);
	}
}

int main(void)
{
	cLoops();
	repMovs();
	repStos();
	scanCompare();
	return rt_done();
}
