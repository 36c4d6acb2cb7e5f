/* posix.h for an app of the mono placement: each call a system call into the mono kernel,
   where the real libos/posix runs (mono.h has the boundary). The kernel answers -errno for an
   error; here that becomes -1 and errno, as POSIX has it. */

#include "libc.h"
#include "posix.h"
#include "usys.h"

int errno;

static int32_t ret(int32_t r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

int open(const char *path, int flags) { return ret(mono_sys(MONO_SYS_OPEN, (uint32_t)path, (uint32_t)flags, 0, 0, 0)); }
int close(int fd) { return ret(mono_sys(MONO_SYS_CLOSE, (uint32_t)fd, 0, 0, 0, 0)); }

ssize_t read(int fd, void *buf, size_t n)
{
	return ret(mono_sys(MONO_SYS_READ, (uint32_t)fd, (uint32_t)buf, n, 0, 0));
}

ssize_t write(int fd, const void *buf, size_t n)
{
	return ret(mono_sys(MONO_SYS_FD_WRITE, (uint32_t)fd, (uint32_t)buf, n, 0, 0));
}

off_t lseek(int fd, off_t off, int whence)
{
	return ret(mono_sys(MONO_SYS_LSEEK, (uint32_t)fd, (uint32_t)off, (uint32_t)whence, 0, 0));
}

int fstat(int fd, struct stat *st) { return ret(mono_sys(MONO_SYS_FSTAT, (uint32_t)fd, (uint32_t)st, 0, 0, 0)); }

void posix_read_stats(struct posix_read_stats *s)
{
	if (mono_sys(MONO_SYS_READ_STATS, (uint32_t)s, 0, 0, 0, 0) != 0)
		memset(s, 0, sizeof *s);
}

void posix_read_stats_reset(void) { mono_sys(MONO_SYS_READ_STATS, 0, 1, 0, 0, 0); }

const char *posix_phase_name(int phase)
{
#define POSIX_PHASE_NAME(name, why) #name,
	static const char *const names[] = { POSIX_PHASES(POSIX_PHASE_NAME) };
#undef POSIX_PHASE_NAME
	return phase >= 0 && phase < POSIX_NPHASES ? names[phase] : "?";
}

/* ---- UDP sockets ---- */

int posix_net_up(const struct net_config *c) { return ret(mono_sys(MONO_SYS_NET_UP, (uint32_t)c, 0, 0, 0, 0)); }

void posix_recv_wait(uint64_t cycles)
{
	mono_sys(MONO_SYS_RECV_WAIT, (uint32_t)cycles, (uint32_t)(cycles >> 32), 0, 0, 0);
}

int socket(int domain, int type, int protocol)
{
	return ret(mono_sys(MONO_SYS_SOCKET, (uint32_t)domain, (uint32_t)type, (uint32_t)protocol, 0, 0));
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return ret(mono_sys(MONO_SYS_BIND, (uint32_t)fd, (uint32_t)addr, len, 0, 0));
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct mono_msg m = { (uint32_t)fd, (uint32_t)buf, len, (uint32_t)flags, (uint32_t)to, tolen };
	return ret(mono_sys(MONO_SYS_SENDTO, (uint32_t)&m, 0, 0, 0, 0));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct mono_msg m = { (uint32_t)fd, (uint32_t)buf, len, (uint32_t)flags, (uint32_t)from, (uint32_t)fromlen };
	return ret(mono_sys(MONO_SYS_RECVFROM, (uint32_t)&m, 0, 0, 0, 0));
}

void posix_sock_stats(struct posix_sock_stats *s)
{
	if (mono_sys(MONO_SYS_SOCK_STATS, (uint32_t)s, 0, 0, 0, 0) != 0)
		memset(s, 0, sizeof *s);
}
