/* Freestanding runtime for the guest test programs (test/guest/corpus, test/guest/fault).
   Uses only the Linux i386 syscalls that `exolab exec` emulates: exit (1), write (4) and
   exit_group (252), all by int $0x80. */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define INT_MIN_ ((int32_t)0x80000000)
#define INT_MAX_ ((int32_t)0x7fffffff)
#define UINT_MAX_ 0xffffffffu

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* syscalls */
int rt_write(int fd, const void *buf, uint32_t len);
void rt_exit(int code) __attribute__((noreturn));

/* output: every call ends in one write(1, ...) so nothing is lost when a program faults */
void rt_puts(const char *s);            /* no newline added */
int rt_printf(const char *fmt, ...);    /* %d %i %u %x %X %c %s %p %%, flags 0 -, width, l, ll, h, hh */
int rt_vsnprintf(char *buf, uint32_t size, const char *fmt, va_list ap);
int rt_snprintf(char *buf, uint32_t size, const char *fmt, ...);

/* self-checks: each prints its value, so an output diff shows the divergence too */
void rt_check32(const char *what, uint32_t got, uint32_t want);
void rt_check64(const char *what, uint64_t got, uint64_t want);
void rt_check(const char *what, int ok);
int rt_done(void);                      /* prints the tally; returns 0 when all passed, else 1 */

/* the C library functions gcc may call even with -ffreestanding */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* libgcc's 64-bit division (there is no 32-bit libgcc on the build host) */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);
int __ctzdi2(uint64_t v);
int __clzdi2(uint64_t v);

/* a deterministic pseudo-random sequence (xorshift32) for test data */
uint32_t rt_rand(uint32_t *state);

/* read EFLAGS; the masks name the status flags */
#define FL_CF 0x001u
#define FL_PF 0x004u
#define FL_AF 0x010u
#define FL_ZF 0x040u
#define FL_SF 0x080u
#define FL_OF 0x800u
#define FL_STATUS (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#endif
