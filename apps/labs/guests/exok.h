/* The few things the raw kernel tests share: the exo-call instruction, the boot capabilities
   by type, a console line. No LibOS: these programs test the kernel alone. */

#ifndef EXOK_H
#define EXOK_H

#include <stdint.h>
#include "exo.h"

static inline int32_t exo5(uint32_t n, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
	int32_t r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
	return r;
}
#define exo(n, a, b, c, d) exo5((n), (a), (b), (c), (d), 0)

static inline const struct exo_boot_info *bootInfo(void)
{
	return (const struct exo_boot_info *)EXO_BOOT_INFO_VA;
}

/* The k-th boot capability of `type` (0: the first), or EXO_SLOT_NONE. */
static inline uint32_t bootCap(uint32_t type, uint32_t k)
{
	const struct exo_boot_info *bi = bootInfo();
	const struct exo_boot_cap *c = (const struct exo_boot_cap *)(bi + 1);
	for (uint32_t i = 0; i < bi->ncaps; i++)
		if (c[i].type == type && k-- == 0)
			return c[i].slot;
	return EXO_SLOT_NONE;
}

/* "<what><v>\n" to the console. */
static inline void say(const char *what, int32_t v)
{
	static char b[96];
	char *p = b, t[12];
	int k = 0;
	while (*what && p < b + 70)
		*p++ = *what++;
	uint32_t u = v < 0 ? -(uint32_t)v : (uint32_t)v;
	if (v < 0)
		*p++ = '-';
	do { t[k++] = '0' + u % 10; u /= 10; } while (u);
	while (k)
		*p++ = t[--k];
	*p++ = '\n';
	exo(EXO_CONSOLE_WRITE, bootCap(EXO_CAP_UART, 0), (uint32_t)b, (uint32_t)(p - b), 0);
}

static inline __attribute__((noreturn)) void leave(int status)
{
	for (;;)
		exo(EXO_EXIT, (uint32_t)status, 0, 0, 0);
}

#endif
