/* The mono kernel's POSIX system calls (mono.h MONO_SYS_OPEN..): the app's open, read, write,
   lseek, close, fstat and UDP sockets, served by the same libos/posix the other placements
   link in. Decode, then act, as in ksys.c: every pointer is checked against the app's pages
   and every argument struct copied in before the LibOS is called; a bad one is -EFAULT (or
   the LibOS's own errno) and changes nothing. Data crosses by copy through `stage`, at the
   app's buffer's page offset, so that the LibOS's choice of path (zero-copy DMA or bounce)
   is the one the app's buffer would have had. Built only into a kernel with libos/posix
   (kernel/guest-build.ts); without it, ksys.c's stand-in answers MONO_ENOSYS. */

#include "libc.h"
#include "posix.h"
#include "../mono.h"
#include "../ksys.h"

#define PAGE	4096u

static uint8_t stage[MONO_IO_MAX + PAGE] __attribute__((aligned(PAGE)));

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* A POSIX result: itself, or -errno. */
static int32_t result(int32_t r)
{
	return r < 0 ? -errno : r;
}

/* Where the kernel's copy of the app's buffer `a` goes: the same offset in a page. */
static uint8_t *staged(uint32_t a)
{
	return stage + (a & (PAGE - 1));
}

static int32_t sysOpen(uint32_t path, uint32_t flags)
{
	char k[MONO_PATH_MAX];

	for (uint32_t n = 0;; n++) {
		if (n == MONO_PATH_MAX)
			return -ENAMETOOLONG;
		if (!mono_user_readable(path + n, 1))
			return MONO_EFAULT;
		if ((k[n] = ((const char *)path)[n]) == 0)
			break;
	}
	return result(open(k, (int)flags));
}

static int32_t sysRead(uint32_t fd, uint32_t buf, uint32_t n)
{
	uint32_t len = min32(n, MONO_IO_MAX);
	uint8_t *k = staged(buf);

	if (!mono_user_writable(buf, len))
		return MONO_EFAULT;
	ssize_t r = read((int)fd, k, len);
	if (r > 0)
		memcpy((void *)buf, k, (uint32_t)r);
	return result(r);
}

static int32_t sysWrite(uint32_t fd, uint32_t buf, uint32_t n)
{
	uint32_t len = min32(n, MONO_IO_MAX);
	uint8_t *k = staged(buf);

	if (!mono_user_readable(buf, len))
		return MONO_EFAULT;
	memcpy(k, (const void *)buf, len);
	return result(write((int)fd, k, len));
}

static int32_t sysFstat(uint32_t fd, uint32_t st)
{
	struct stat k;

	if (!mono_user_writable(st, sizeof k))
		return MONO_EFAULT;
	if (fstat((int)fd, &k) != 0)
		return -errno;
	memcpy((void *)st, &k, sizeof k);
	return 0;
}

static int32_t sysReadStats(uint32_t s, uint32_t reset)
{
	struct posix_read_stats k;

	posix_read_stats(&k);
	if (s != 0 && mono_copy_out(s, &k, sizeof k) != 0)
		return MONO_EFAULT;	/* and no reset */
	if (reset)
		posix_read_stats_reset();
	return 0;
}

static int32_t sysNetUp(uint32_t cfg)
{
	struct net_config c;

	if (!mono_user_readable(cfg, sizeof c))
		return MONO_EFAULT;
	memcpy(&c, (const void *)cfg, sizeof c);
	return result(posix_net_up(&c));
}

/* The app's socket address at `a` (0: none), `len` bytes of it as far as a sockaddr_in goes,
   into *k; the address to hand the LibOS, or (void *)-1 when it is not the app's. */
static struct sockaddr *addrIn(uint32_t a, uint32_t len, struct sockaddr_in *k)
{
	uint32_t n = min32(len, sizeof *k);

	if (a == 0)
		return 0;
	if (!mono_user_readable(a, n))
		return (struct sockaddr *)-1;
	memset(k, 0, sizeof *k);
	memcpy(k, (const void *)a, n);
	return (struct sockaddr *)k;
}

static int32_t sysBind(uint32_t fd, uint32_t addr, uint32_t len)
{
	struct sockaddr_in k;
	struct sockaddr *a = addrIn(addr, len, &k);

	if (a == (struct sockaddr *)-1)
		return MONO_EFAULT;
	return result(bind((int)fd, a, len));
}

static int msgIn(uint32_t msg, struct mono_msg *m)
{
	if (!mono_user_readable(msg, sizeof *m))
		return -1;
	memcpy(m, (const void *)msg, sizeof *m);
	m->len = min32(m->len, MONO_IO_MAX);
	return 0;
}

static int32_t sysSendto(uint32_t msg)
{
	struct mono_msg m;
	struct sockaddr_in k;

	if (msgIn(msg, &m) != 0 || !mono_user_readable(m.buf, m.len))
		return MONO_EFAULT;
	struct sockaddr *to = addrIn(m.addr, m.addrlen, &k);
	if (to == (struct sockaddr *)-1)
		return MONO_EFAULT;
	memcpy(staged(m.buf), (const void *)m.buf, m.len);
	return result(sendto((int)m.fd, staged(m.buf), m.len, (int)m.flags, to, m.addrlen));
}

/* The sender's address goes out only where the LibOS writes one: both pointers given and room
   for a sockaddr_in (posix.h). */
static int32_t sysRecvfrom(uint32_t msg)
{
	struct mono_msg m;
	struct sockaddr_in k;
	socklen_t kl = 0;

	if (msgIn(msg, &m) != 0 || !mono_user_writable(m.buf, m.len))
		return MONO_EFAULT;
	if (m.addrlen != 0) {
		if (!mono_user_writable(m.addrlen, sizeof kl))
			return MONO_EFAULT;
		memcpy(&kl, (const void *)m.addrlen, sizeof kl);
	}
	int from = m.addr != 0 && m.addrlen != 0 && kl >= sizeof k;
	if (from && !mono_user_writable(m.addr, sizeof k))
		return MONO_EFAULT;
	ssize_t r = recvfrom((int)m.fd, staged(m.buf), m.len, (int)m.flags, m.addr ? (struct sockaddr *)&k : 0,
			     m.addrlen ? &kl : 0);
	if (r < 0)
		return -errno;
	memcpy((void *)m.buf, staged(m.buf), (uint32_t)r);
	if (from) {
		memcpy((void *)m.addr, &k, sizeof k);
		memcpy((void *)m.addrlen, &kl, sizeof kl);
	}
	return r;
}

static int32_t sysSockStats(uint32_t s)
{
	struct posix_sock_stats k;

	posix_sock_stats(&k);	/* changes nothing: taken first, copied out if it may be */
	return mono_copy_out(s, &k, sizeof k);
}

int32_t mono_posix_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
	switch (nr) {
	case MONO_SYS_OPEN:
		return sysOpen(a1, a2);
	case MONO_SYS_CLOSE:
		return result(close((int)a1));
	case MONO_SYS_READ:
		return sysRead(a1, a2, a3);
	case MONO_SYS_FD_WRITE:
		return sysWrite(a1, a2, a3);
	case MONO_SYS_LSEEK:
		return result(lseek((int)a1, (off_t)a2, (int)a3));
	case MONO_SYS_FSTAT:
		return sysFstat(a1, a2);
	case MONO_SYS_READ_STATS:
		return sysReadStats(a1, a2);
	case MONO_SYS_NET_UP:
		return sysNetUp(a1);
	case MONO_SYS_RECV_WAIT:
		posix_recv_wait((uint64_t)a2 << 32 | a1);
		return 0;
	case MONO_SYS_SOCKET:
		return result(socket((int)a1, (int)a2, (int)a3));
	case MONO_SYS_BIND:
		return sysBind(a1, a2, a3);
	case MONO_SYS_SENDTO:
		return sysSendto(a1);
	case MONO_SYS_RECVFROM:
		return sysRecvfrom(a1);
	case MONO_SYS_SOCK_STATS:
		return sysSockStats(a1);
	default:
		return MONO_ENOSYS;
	}
}
