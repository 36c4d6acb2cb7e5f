/* Checksums: CRC-32 (IEEE, reflected) bitwise and table-driven, Adler-32 and FNV-1a, over
   known strings and a generated buffer; the two CRC implementations must agree. */

#include "rt.h"

static uint32_t table[256];

static uint32_t crcBitwise(const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void crcInit(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
		table[i] = c;
	}
}

static uint32_t crcTable(const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t adler32(const uint8_t *p, uint32_t n)
{
	uint32_t a = 1, b = 0;

	while (n--) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n)
{
	uint32_t h = 0x811c9dc5u;

	while (n--)
		h = (h ^ *p++) * 0x01000193u;
	return h;
}

int main(void)
{
	static uint8_t buf[4096];
	static const char check[] = "123456789";
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint32_t state = 0x2545f491;

	crcInit();
	rt_check32("crc table[1]", table[1], 0x77073096);
	rt_check32("crc table[255]", table[255], 0x2d02ef8d);
	rt_check32("crc32 bitwise 123456789", crcBitwise((const uint8_t *)check, 9), 0xcbf43926);
	rt_check32("crc32 table 123456789", crcTable((const uint8_t *)check, 9), 0xcbf43926);
	rt_check32("crc32 fox", crcTable((const uint8_t *)fox, sizeof fox - 1), 0x414fa339);
	rt_check32("crc32 empty", crcTable((const uint8_t *)fox, 0), 0);
	rt_check32("adler32 wikipedia", adler32((const uint8_t *)"Wikipedia", 9), 0x11e60398);
	rt_check32("fnv1a a", fnv1a((const uint8_t *)"a", 1), 0xe40c292c);
	for (unsigned i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rt_rand(&state);
	{
		uint32_t bit = crcBitwise(buf, sizeof buf), tab = crcTable(buf, sizeof buf);
		rt_printf("buffer crc %08x adler %08x fnv %08x\n", tab, adler32(buf, sizeof buf), fnv1a(buf, sizeof buf));
		rt_check("bitwise and table agree", bit == tab);
		for (unsigned len = 1; len < 64; len += 9)
			rt_printf("crc of %u bytes at %u: %08x\n", len, len * 3, crcBitwise(buf + len * 3, len));
	}
	return rt_done();
}
