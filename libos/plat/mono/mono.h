/* The mono placement's system-call boundary, seen from both sides: the app in ring 3 (user/)
   and the mono kernel in ring 0 (ksys.c). `int 0x80`: number in EAX, arguments in EBX, ECX,
   EDX, ESI, EDI, result in EAX (negative: MONO_E*). The kernel copies every argument struct
   and buffer across the boundary and checks that each pointer lies in the app's own pages.

   A received datagram stays in the kernel's receive buffer (its headers are the kernel's,
   never the app's to write); the app gets a copy of its payload and a handle. The reply goes
   back into that buffer, so an echo costs one receive and one send: net_udp_recv + net_udp_reply,
   or net_udp_recv + net_udp_sendto + net_udp_free, where the free rides on the next receive
   (MONO_SYS_NET_RECV's `release`) instead of a call of its own.

   The POSIX calls (libos/posix, posix/kposix.c; the app's side in user/uposix.c) cross the same
   way: a result of -errno is an error, anything else the call's own result. Data crosses by
   copy through a staging buffer of the kernel's, at most MONO_IO_MAX bytes a call (a longer
   read or write is short, as POSIX allows), at the page offset of the app's buffer: the LibOS
   takes the path the app's buffer would have taken (DMA straight in, or the bounce buffer and
   a copy), and the boundary adds one copy out (or in). A path is copied in up to its NUL,
   socket addresses as struct sockaddr_in, sendto's and recvfrom's six arguments as one
   struct mono_msg. A socket echo costs two calls, as the net API's does: recvfrom, sendto. */

#ifndef MONO_H
#define MONO_H

#define MONO_SYSCALL_VECTOR	0x80

#define MONO_SYS_EXIT		1	/* (status): does not return */
#define MONO_SYS_WRITE		2	/* (buf, len) -> len: to the console */
#define MONO_SYS_NET_INIT	3	/* (const struct net_config *, uint8_t mac[6]) -> 0 | -1 */
#define MONO_SYS_NET_BIND	4	/* (port) -> 0 | -1 */
#define MONO_SYS_NET_RECV	5	/* (struct net_dgram *, payload buffer, release, cycles lo, hi) -> 1 | 0 */
#define MONO_SYS_NET_REPLY	6	/* (const struct net_dgram *) -> 0 | -1 */
#define MONO_SYS_NET_SENDTO	7	/* (const struct net_addr *, sport, data, len) -> 0 | -1 */
#define MONO_SYS_NET_FREE	8	/* (handle) -> 0 */
#define MONO_SYS_NET_STATS	9	/* (struct net_stats *) -> 0 */
#define MONO_SYS_NET_SHUTDOWN	10	/* (cycles lo, hi) -> 0 | -1 */
#define MONO_SYS_OPEN		11	/* (path, flags) -> fd */
#define MONO_SYS_CLOSE		12	/* (fd) -> 0 */
#define MONO_SYS_READ		13	/* (fd, buf, n) -> bytes */
#define MONO_SYS_FD_WRITE	14	/* (fd, buf, n) -> bytes */
#define MONO_SYS_LSEEK		15	/* (fd, off, whence) -> offset */
#define MONO_SYS_FSTAT		16	/* (fd, struct stat *) -> 0 */
#define MONO_SYS_READ_STATS	17	/* (struct posix_read_stats * or 0, reset) -> 0: copied out, then zeroed if reset */
#define MONO_SYS_NET_UP		18	/* (const struct net_config *) -> 0 */
#define MONO_SYS_RECV_WAIT	19	/* (cycles lo, hi) -> 0 */
#define MONO_SYS_SOCKET		20	/* (domain, type, protocol) -> fd */
#define MONO_SYS_BIND		21	/* (fd, const struct sockaddr *, len) -> 0 */
#define MONO_SYS_SENDTO		22	/* (const struct mono_msg *) -> bytes */
#define MONO_SYS_RECVFROM	23	/* (const struct mono_msg *) -> bytes */
#define MONO_SYS_SOCK_STATS	24	/* (struct posix_sock_stats *) -> 0 */

#define MONO_EFAULT	(-14)	/* a pointer outside the app's pages */
#define MONO_EBADF	(-9)	/* not a handle the app holds */
#define MONO_EAGAIN	(-11)	/* every handle is held */
#define MONO_ENOSYS	(-38)

/* A handle names one received datagram the app holds (struct net_dgram.buf): 1..MONO_HELD. */
#define MONO_HELD	16
/* The payload buffer an app passes to MONO_SYS_NET_RECV holds this many bytes. */
#define MONO_PAYLOAD_MAX	2048

/* The most a read or write moves in one call: readcost's largest read. */
#define MONO_IO_MAX	(1u << 20)
/* The longest path MONO_SYS_OPEN copies in, with its NUL (ENAMETOOLONG past it). */
#define MONO_PATH_MAX	256

#ifndef __ASSEMBLER__
#include <stdint.h>
/* sendto's and recvfrom's arguments: for sendto, addrlen is the address's length; for
   recvfrom, where the app's socklen_t is (in: its room, out: the length written). */
struct mono_msg {
	uint32_t fd, buf, len, flags, addr, addrlen;
};
#endif

/* Selectors (flat segments: only the privilege level in them counts). */
#define MONO_KERNEL_CS	0x08
#define MONO_KERNEL_SS	0x10
#define MONO_USER_CS	0x1b
#define MONO_USER_DS	0x23

#endif
