/* The mono kernel's POSIX system calls (libos/plat/mono/kposix.c) refuse the app's bad
   pointers: each call below is -EFAULT (errno EFAULT through posix.h) and changes nothing,
   and the app goes on to the next. Run as a partition with no disk and no network, so that the
   calls with good pointers fail as the LibOS says (ENODEV, ENETDOWN). Prints "ok NAME" or
   "FAIL NAME: ..." per check and "done N failed"; exits with N. */

#include "libc.h"
#include "posix.h"
#include "../../libos/plat/mono/user/usys.h"

#define KERNEL_TEXT	0x100000u	/* libos/plat/mono/link.ld: the kernel starts there */
#define EF		MONO_EFAULT

static char mine[64];
static struct sockaddr_in from;
static socklen_t fromlen = sizeof from;

/* A recvfrom or sendto of 64 bytes of mine on fd 3, with these pointers. */
static int32_t msg(uint32_t nr, uint32_t buf, uint32_t addr, uint32_t addrlen)
{
	struct mono_msg m = { 3, buf, sizeof mine, 0, addr, addrlen };
	return mono_sys(nr, (uint32_t)&m, 0, 0, 0, 0);
}

int main(void)
{
	const uint32_t k = KERNEL_TEXT, ro = (uint32_t)"read-only", me = (uint32_t)mine;
	/* each entry a call of its own; those through posix.h give errno */
	const struct { const char *what; int32_t got, want; } c[] = {
		{ "open a path in kernel memory", mono_sys(MONO_SYS_OPEN, k, O_RDONLY, 0, 0, 0), EF },
		{ "open a path running off my pages", mono_sys(MONO_SYS_OPEN, 0xfffffff0u, O_RDONLY, 0, 0, 0), EF },
		{ "read into kernel memory", mono_sys(MONO_SYS_READ, 3, k, 16, 0, 0), EF },
		{ "read into my read-only data", mono_sys(MONO_SYS_READ, 3, ro, 4, 0, 0), EF },
		{ "write to a file from kernel memory", mono_sys(MONO_SYS_FD_WRITE, 1, k, 16, 0, 0), EF },
		{ "fstat into kernel memory", mono_sys(MONO_SYS_FSTAT, 3, k, 0, 0, 0), EF },
		{ "read stats into kernel memory", mono_sys(MONO_SYS_READ_STATS, k, 1, 0, 0, 0), EF },
		{ "bind to an address in kernel memory", mono_sys(MONO_SYS_BIND, 3, k, 16, 0, 0), EF },
		{ "recvfrom with its arguments in kernel memory", mono_sys(MONO_SYS_RECVFROM, k, 0, 0, 0, 0), EF },
		{ "recvfrom's address length in kernel memory", msg(MONO_SYS_RECVFROM, me, (uint32_t)&from, k), EF },
		{ "recvfrom's address into kernel memory", msg(MONO_SYS_RECVFROM, me, k, (uint32_t)&fromlen), EF },
		{ "sendto from kernel memory", msg(MONO_SYS_SENDTO, k, 0, 0), EF },
		{ "read() into kernel memory: errno", read(3, (void *)k, 16) < 0 ? errno : 0, EFAULT },
		{ "read() on an fd not open: errno", read(3, mine, 1) < 0 ? errno : 0, EBADF },
		{ "open() with no disk: errno", open("data.bin", O_RDONLY) < 0 ? errno : 0, ENODEV },
		{ "socket() without the network: errno", socket(AF_INET, SOCK_DGRAM, 0) < 0 ? errno : 0, ENETDOWN },
	};
	int failed = 0;

	for (uint32_t j = 0; j < sizeof c / sizeof c[0]; j++) {
		if (c[j].got == c[j].want)
			printf("ok %s\n", c[j].what);
		else
			printf("FAIL %s: %d, expected %d\n", c[j].what, c[j].got, c[j].want);
		failed += c[j].got != c[j].want;
	}
	printf("done %d failed\n", failed);
	return failed;
}
