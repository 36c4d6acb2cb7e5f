/* The mono kernel's system calls, inside the kernel: the checks every pointer from the app
   goes through (ksys.c) and the POSIX calls (posix/kposix.c). */

#ifndef KSYS_H
#define KSYS_H

#include <stdint.h>

/* 1 when [a, a + n) lies in the app's pages (readable: all of them; writable: its data). */
int mono_user_readable(uint32_t a, uint32_t n);
int mono_user_writable(uint32_t a, uint32_t n);
/* A result struct out to the app: 0, or MONO_EFAULT (and nothing written). */
int32_t mono_copy_out(uint32_t to, const void *from, uint32_t n);

/* A POSIX call (mono.h MONO_SYS_OPEN..): its result, -errno, or MONO_ENOSYS. */
int32_t mono_posix_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);

#endif
