/* The LibOS's small libc: memory and string helpers under their standard names (gcc may emit
   calls to memcpy and memset on its own), a formatter and a console printf. */

#ifndef LIBC_H
#define LIBC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* %d %i %u %x %X %p %s %c %%, the length modifiers l and ll (64-bit), and flags '-' '0' with
   a width: "%08x", "%-12s", "%5llu". Returns the length the whole output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* To the platform console. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int puts(const char *s);	/* with a newline, as in C */

#endif
