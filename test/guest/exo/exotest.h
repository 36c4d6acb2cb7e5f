/* What the exo guest tests share: one console line per check (`ok NAME`, or `FAIL NAME: got X
   want Y`), `done N failed` at the end, the failure count as the exit status; and exception
   stacks for upcall handlers. */

#ifndef EXOTEST_H
#define EXOTEST_H

#include <stdarg.h>
#include "libc.h"
#include "libexo.h"
#include "plat.h"

#define UPCALL_STACK	0x4000u	/* 16 KiB: the kernel's limit for an exception stack */

static int failures;

/* ok NAME, or FAIL NAME: <fmt...> */
static __attribute__((unused, format(printf, 3, 4))) int check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok %s\n", name);
		return 1;
	}
	failures++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

/* A return value against the one expected (error codes print as the negative numbers). */
static __attribute__((unused)) int expect(const char *name, int got, int want)
{
	return check(got == want, name, "got %d want %d", got, want);
}

static __attribute__((unused)) int finish(void)
{
	printf("done %d failed\n", failures);
	return failures;
}

/* The top of a fresh 16 KiB exception stack with an unmapped guard page below it; 0 if the
   quota or the address space ran out. */
static __attribute__((unused)) void *upcall_stack(void)
{
	if (!exo_va_alloc(EXO_PAGE_SIZE))
		return 0;
	uint8_t *s = exo_mem_map(UPCALL_STACK, EXO_R_READ | EXO_R_WRITE, 0);
	return s ? s + UPCALL_STACK : 0;
}

#endif
