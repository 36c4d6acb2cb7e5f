/* The mono kernel's system calls (mono.h): the LibOS's net API and the console, served to the
   app in ring 3. Every pointer is checked against the app's pages before it is touched
   (readable: all of them; writable: from __mono_user_data), and everything crosses by copy:
   argument structs in, results out, the payload of a received datagram out into the app's
   buffer and, on a reply or a send, from the app's memory into a frame. Decode, then act: a
   bad argument is an error code and changes nothing. The POSIX calls are posix/kposix.c's. */

#include "libc.h"
#include "net.h"
#include "plat.h"
#include "mono.h"
#include "ksys.h"

extern char __mono_user_start[], __mono_user_data[], __mono_user_end[];

/* The datagrams the app holds, by handle - 1: the kernel's own view of each. */
static struct {
	int used;
	struct net_dgram d;
} held[MONO_HELD];

static int inRange(uint32_t a, uint32_t n, const char *lo)
{
	uint32_t end = (uint32_t)__mono_user_end;
	return a >= (uint32_t)lo && a <= end && n <= end - a;
}
int mono_user_readable(uint32_t a, uint32_t n) { return inRange(a, n, __mono_user_start); }
int mono_user_writable(uint32_t a, uint32_t n) { return inRange(a, n, __mono_user_data); }

/* The held datagram a handle names, or 0. */
static struct net_dgram *heldOf(uint32_t h)
{
	return h >= 1 && h <= MONO_HELD && held[h - 1].used ? &held[h - 1].d : 0;
}

static void release(uint32_t h)
{
	net_udp_free(&held[h - 1].d);
	held[h - 1].used = 0;
}

static int32_t sysWrite(uint32_t buf, uint32_t len)
{
	if (!mono_user_readable(buf, len))
		return MONO_EFAULT;
	for (uint32_t k = 0; k < len; k++)
		plat_putc(((const char *)buf)[k]);
	return (int32_t)len;
}

static int32_t sysNetInit(uint32_t cfg, uint32_t mac)
{
	struct net_config c;
	uint8_t m[6];

	if (!mono_user_readable(cfg, sizeof c) || !mono_user_writable(mac, sizeof m))
		return MONO_EFAULT;
	memcpy(&c, (const void *)cfg, sizeof c);
	if (net_init(&c) != 0)
		return -1;
	net_mac(m);
	memcpy((void *)mac, m, sizeof m);
	return 0;
}

/* Release `rel` (0: none), wait for the next datagram and copy it out: its payload into `buf`
   (MONO_PAYLOAD_MAX bytes of the app's), the rest into *d, with d->data = buf and d->buf the
   handle. */
static int32_t sysNetRecv(uint32_t d, uint32_t buf, uint32_t rel, uint64_t cycles)
{
	if (!mono_user_writable(d, sizeof(struct net_dgram)) || !mono_user_writable(buf, MONO_PAYLOAD_MAX))
		return MONO_EFAULT;
	if (rel != 0 && !heldOf(rel))
		return MONO_EBADF;
	if (rel != 0)
		release(rel);
	uint32_t h = 1;
	while (h <= MONO_HELD && held[h - 1].used)
		h++;
	if (h > MONO_HELD)
		return MONO_EAGAIN;
	struct net_dgram *k = &held[h - 1].d;
	for (;;) {
		if (!net_udp_recv(k, cycles))
			return 0;
		if (k->len <= MONO_PAYLOAD_MAX)
			break;
		net_udp_free(k);	/* cannot happen with 1514-byte frames; never past the app's buffer */
	}
	held[h - 1].used = 1;
	struct net_dgram u = *k;
	memcpy((void *)buf, k->data, k->len);
	u.data = (uint8_t *)buf;
	u.buf = h;
	memcpy((void *)d, &u, sizeof u);
	return 1;
}

/* The held datagram goes back as the reply, with as many payload bytes as it came with, taken
   from the app's copy (d->data). */
static int32_t sysNetReply(uint32_t d)
{
	struct net_dgram u, *k;

	if (!mono_user_readable(d, sizeof u))
		return MONO_EFAULT;
	memcpy(&u, (const void *)d, sizeof u);
	if (!(k = heldOf(u.buf)))
		return MONO_EBADF;
	if (!mono_user_readable((uint32_t)u.data, k->len))
		return MONO_EFAULT;
	memcpy(k->data, u.data, k->len);
	held[u.buf - 1].used = 0;
	return net_udp_reply(k);	/* consumes the buffer either way */
}

static int32_t sysNetSendto(uint32_t to, uint32_t sport, uint32_t p, uint32_t len)
{
	struct net_addr a;

	if (!mono_user_readable(to, sizeof a) || !mono_user_readable(p, len))
		return MONO_EFAULT;
	memcpy(&a, (const void *)to, sizeof a);
	return net_udp_sendto(&a, (uint16_t)sport, (const void *)p, len);	/* copies the payload into a frame */
}

/* A result struct out to the app: 0, or MONO_EFAULT (and nothing written). */
int32_t mono_copy_out(uint32_t to, const void *from, uint32_t n)
{
	if (!mono_user_writable(to, n))
		return MONO_EFAULT;
	memcpy((void *)to, from, n);
	return 0;
}

/* Reading the counters changes nothing: they are taken first, then copied out if they may be. */
static int32_t sysNetStats(uint32_t s)
{
	struct net_stats k;

	net_stats(&k);
	return mono_copy_out(s, &k, sizeof k);
}

/* A kernel without libos/posix (an app built with none of it) serves none of its calls;
   posix/kposix.c's definition takes this one's place when it is linked in. */
__attribute__((weak)) int32_t mono_posix_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
	return MONO_ENOSYS;
}

int32_t mono_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
	switch (nr) {
	case MONO_SYS_EXIT:
		plat_exit((int)a1);
	case MONO_SYS_WRITE:
		return sysWrite(a1, a2);
	case MONO_SYS_NET_INIT:
		return sysNetInit(a1, a2);
	case MONO_SYS_NET_BIND:
		return a1 > 0xffff ? -1 : net_udp_bind((uint16_t)a1);
	case MONO_SYS_NET_RECV:
		return sysNetRecv(a1, a2, a3, (uint64_t)a5 << 32 | a4);
	case MONO_SYS_NET_REPLY:
		return sysNetReply(a1);
	case MONO_SYS_NET_SENDTO:
		return sysNetSendto(a1, a2, a3, a4);
	case MONO_SYS_NET_FREE:
		if (!heldOf(a1))
			return MONO_EBADF;
		release(a1);
		return 0;
	case MONO_SYS_NET_STATS:
		return sysNetStats(a1);
	case MONO_SYS_NET_SHUTDOWN:
		return net_shutdown((uint64_t)a2 << 32 | a1);
	default:
		return mono_posix_syscall(nr, a1, a2, a3, a4, a5);
	}
}
