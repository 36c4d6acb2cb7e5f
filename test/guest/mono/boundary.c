/* The mono placement's system-call boundary from the app's side (ring 3): pointers into the
   kernel's pages, handles it does not hold and unknown calls are refused with an error and
   change nothing; then the app touches the kernel's memory itself, which is a page fault the
   mono kernel reports before it ends the partition (exit status 0x80 | 14). Prints "ok NAME"
   or "FAIL NAME: ..." per check and "done N failed" before the last one. */

#include "libc.h"
#include "net.h"
#include "../../../libos/plat/mono/user/usys.h"

#define KERNEL_TEXT	0x100000u	/* libos/plat/mono/link.ld: the kernel starts there */

static int failed;

static void check(const char *name, int32_t got, int32_t want)
{
	if (got == want) {
		printf("ok %s\n", name);
	} else {
		printf("FAIL %s: %d, expected %d\n", name, got, want);
		failed++;
	}
}

static char mine[64];

int main(void)
{
	struct net_dgram d;
	struct net_stats s;

	check("write from kernel memory", mono_sys(MONO_SYS_WRITE, KERNEL_TEXT, 16, 0, 0, 0), MONO_EFAULT);
	check("write past the top of memory", mono_sys(MONO_SYS_WRITE, (uint32_t)mine, 0xfffffff0u, 0, 0, 0), MONO_EFAULT);
	check("write from my own memory", mono_sys(MONO_SYS_WRITE, (uint32_t)"boundary: hello\n", 16, 0, 0, 0), 16);
	check("stats into kernel memory", mono_sys(MONO_SYS_NET_STATS, KERNEL_TEXT, 0, 0, 0, 0), MONO_EFAULT);
	check("stats into my read-only data", mono_sys(MONO_SYS_NET_STATS, (uint32_t)"read-only", 0, 0, 0, 0), MONO_EFAULT);
	check("stats into my own memory", mono_sys(MONO_SYS_NET_STATS, (uint32_t)&s, 0, 0, 0, 0), 0);
	check("receive into kernel memory", mono_sys(MONO_SYS_NET_RECV, KERNEL_TEXT, (uint32_t)mine, 0, 0, 0), MONO_EFAULT);
	d.buf = 3;
	d.data = (uint8_t *)mine;
	check("reply with a handle not held", mono_sys(MONO_SYS_NET_REPLY, (uint32_t)&d, 0, 0, 0, 0), MONO_EBADF);
	check("free a handle not held", mono_sys(MONO_SYS_NET_FREE, 1, 0, 0, 0, 0), MONO_EBADF);
	check("release a handle not held", mono_sys(MONO_SYS_NET_RECV, (uint32_t)&d, (uint32_t)mine, 7, 0, 0), MONO_EBADF);
	check("an unknown call", mono_sys(99, 0, 0, 0, 0, 0), MONO_ENOSYS);
	printf("done %d failed\n", failed);
	printf("boundary: reading kernel text\n");
	return (int)*(volatile uint32_t *)KERNEL_TEXT;	/* #PF: a supervisor page */
}
