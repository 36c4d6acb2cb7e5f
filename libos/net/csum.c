/* The Internet checksum (RFC 1071). */

#include "net-int.h"

uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t k = 0;

	for (; k + 1 < len; k += 2)
		sum += (uint32_t)p[k] << 8 | p[k + 1];
	if (k < len)
		sum += (uint32_t)p[k] << 8;
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_pseudo(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t len)
{
	return csum_add(csum_add(0, src, 4), dst, 4) + proto + len;
}
