/* Memory and string helpers. memcpy and memset use the string instructions (rep movs, rep
   stos), as an x86 libc does; the rest are byte loops, which must not be turned back into
   calls to themselves (the build passes -fno-tree-loop-distribute-patterns). */

#include "libc.h"

/* String instructions, as a libc for x86 would use: rep movsl for the words, rep movsb for
   the tail. Their cost per iteration comes from the machine's instruction-cost profile. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n >> 2, tail = n & 3;

	__asm__ volatile("cld; rep movsl" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(tail) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint32_t v = (uint8_t)c * 0x01010101u;
	size_t words = n >> 2, tail = n & 3;

	__asm__ volatile("cld; rep stosl" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(v) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
