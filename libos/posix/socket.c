/* UDP sockets over libos/net: socket, bind, sendto, recvfrom, and close through the fd table.
   The stack hands over datagrams for every bound port in arrival order; each goes to the queue
   of the socket bound to its port (taken by recvfrom in order), or is dropped and counted when
   that queue is full or no open socket holds the port. The stack has no ARP client, so each
   datagram's sender is remembered (IP -> MAC) for the sendto that answers it. */

#include "libc.h"
#include "net.h"
#include "posix-int.h"

#define QUEUE		8	/* datagrams a socket holds until recvfrom takes them */
#define NEIGHBOURS	16
#define EPHEMERAL	49152	/* first port bind(0) hands out (RFC 6335) */
#define NET_PORTS_MAX	8	/* ports libos/net can be asked to deliver (net-int.h NET_PORTS) */
#define EADDRNOTAVAIL	99
#define EADDRINUSE	98

struct queue {
	struct net_dgram d[QUEUE];
	uint32_t head, n;
};

static struct queue queues[POSIX_FDS];
static struct { uint8_t ip[4], mac[6]; } neigh[NEIGHBOURS];
static uint32_t nneigh, neighNext;
static uint16_t netPorts[NET_PORTS_MAX];	/* ports the stack delivers: it cannot forget one */
static uint32_t nnetPorts;
static uint16_t nextEphemeral = EPHEMERAL;
static uint8_t ourIp[4];
static uint64_t recvWait;
static int netUp;
static struct posix_sock_stats sockStats;

static int fail(int e)
{
	errno = e;
	return -1;
}

int posix_net_up(const struct net_config *c)
{
	if (netUp)
		return 0;
	if (net_init(c) != 0)
		return fail(ENETDOWN);
	memcpy(ourIp, c->ip, 4);
	netUp = 1;
	return 0;
}

void posix_recv_wait(uint64_t cycles)
{
	recvWait = cycles;
}

void posix_sock_stats(struct posix_sock_stats *s)
{
	*s = sockStats;
}

/* The socket of fd, or 0 with errno set. */
static struct posix_file *sock(int fd)
{
	struct posix_file *f = posix_fd(fd);

	if (!f || f->kind != POSIX_KIND_SOCKET) {
		errno = f ? ENOTSOCK : EBADF;
		return 0;
	}
	return f;
}

int socket(int domain, int type, int protocol)
{
	if (domain != AF_INET)
		return fail(EAFNOSUPPORT);
	if (type != SOCK_DGRAM || (protocol != 0 && protocol != IPPROTO_UDP))
		return fail(EPROTONOSUPPORT);
	if (!netUp)
		return fail(ENETDOWN);
	int fd = posix_fd_alloc();
	if (fd < 0)
		return fail(EMFILE);
	posix_files[fd] = (struct posix_file){ .used = 1, .kind = POSIX_KIND_SOCKET, .mode = O_RDWR };
	queues[fd].head = queues[fd].n = 0;
	return fd;
}

/* The fd of the open socket bound to port, or -1. */
static int owner(uint16_t port)
{
	for (int fd = POSIX_FIRST_FD; fd < POSIX_FDS; fd++)
		if (posix_files[fd].used && posix_files[fd].kind == POSIX_KIND_SOCKET && posix_files[fd].port == port)
			return fd;
	return -1;
}

/* The stack delivers `port` from now on; 0, or -1 when its port table is full. */
static int netDeliver(uint16_t port)
{
	for (uint32_t k = 0; k < nnetPorts; k++)
		if (netPorts[k] == port)
			return 0;
	if (nnetPorts == NET_PORTS_MAX || net_udp_bind(port) != 0)
		return -1;
	netPorts[nnetPorts++] = port;
	return 0;
}

static int bindPort(struct posix_file *f, uint16_t port)
{
	if (port == 0) {
		for (uint32_t tries = 0; tries < 65536 - EPHEMERAL && owner(nextEphemeral) >= 0; tries++)
			nextEphemeral = nextEphemeral == 65535 ? EPHEMERAL : nextEphemeral + 1;
		port = nextEphemeral;
		nextEphemeral = nextEphemeral == 65535 ? EPHEMERAL : nextEphemeral + 1;
	}
	if (owner(port) >= 0)
		return fail(EADDRINUSE);
	if (netDeliver(port) != 0)
		return fail(ENOBUFS);
	f->port = port;
	return 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct posix_file *f = sock(fd);
	const struct sockaddr_in *a = (const struct sockaddr_in *)addr;

	if (!f)
		return -1;
	if (f->port || !a || len < sizeof *a)
		return fail(EINVAL);
	if (a->sin_family != AF_INET)
		return fail(EAFNOSUPPORT);
	if (a->sin_addr.s_addr != INADDR_ANY && memcmp(&a->sin_addr.s_addr, ourIp, 4) != 0)
		return fail(EADDRNOTAVAIL);
	return bindPort(f, ntohs(a->sin_port));
}

static void learn(const struct net_addr *a)
{
	for (uint32_t k = 0; k < nneigh; k++) {
		if (memcmp(neigh[k].ip, a->ip, 4) == 0) {
			memcpy(neigh[k].mac, a->mac, 6);
			return;
		}
	}
	uint32_t k = nneigh < NEIGHBOURS ? nneigh++ : neighNext++ % NEIGHBOURS;	/* full: replace in turn */
	memcpy(neigh[k].ip, a->ip, 4);
	memcpy(neigh[k].mac, a->mac, 6);
}

static int neighbour(const uint8_t ip[4], uint8_t mac[6])
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	if (memcmp(ip, bcast, 4) == 0) {
		memset(mac, 0xff, 6);
		return 0;
	}
	for (uint32_t k = 0; k < nneigh; k++) {
		if (memcmp(neigh[k].ip, ip, 4) == 0) {
			memcpy(mac, neigh[k].mac, 6);
			return 0;
		}
	}
	return -1;
}

/* One datagram from the stack to its socket's queue (or dropped and counted). */
static void route(struct net_dgram *d)
{
	int to = owner(d->to.port);

	learn(&d->from);
	if (to < 0 || queues[to].n == QUEUE) {
		if (to < 0)
			sockStats.no_socket++;
		else
			sockStats.queue_full++;
		net_udp_free(d);
		return;
	}
	struct queue *q = &queues[to];
	q->d[(q->head + q->n++) % QUEUE] = *d;
	sockStats.queued++;
}

/* Take datagrams from the stack until fd's queue has one: without waiting, or for at most
   `cycles` (0: for ever). 1 when it has one. */
static int pump(int fd, int wait, uint64_t cycles)
{
	uint64_t t0 = plat_cycles();
	struct net_dgram d;

	while (queues[fd].n == 0) {
		uint64_t spent = plat_cycles() - t0;
		if (wait && cycles && spent >= cycles)
			return 0;
		uint64_t slice = !wait ? 0 : cycles ? cycles - spent : 1000000000ull;
		if (net_udp_recv(&d, slice))
			route(&d);
		else if (!wait)
			return 0;
	}
	return 1;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct posix_file *f = sock(fd);

	if (!f)
		return -1;
	if (!f->port)
		return fail(EINVAL);	/* nothing can arrive for a socket without a port */
	if (!pump(fd, !(flags & MSG_DONTWAIT), recvWait))
		return fail(EAGAIN);
	struct queue *q = &queues[fd];
	struct net_dgram d = q->d[q->head];
	q->head = (q->head + 1) % QUEUE;
	q->n--;
	uint32_t n = d.len < len ? d.len : (uint32_t)len;
	memcpy(buf, d.data, n);
	if (from && fromlen && *fromlen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *a = (struct sockaddr_in *)from;
		memset(a, 0, sizeof *a);
		a->sin_family = AF_INET;
		a->sin_port = htons(d.from.port);
		memcpy(&a->sin_addr.s_addr, d.from.ip, 4);
		*fromlen = sizeof *a;
	}
	net_udp_free(&d);
	return (ssize_t)n;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct posix_file *f = sock(fd);
	const struct sockaddr_in *a = (const struct sockaddr_in *)to;
	struct net_addr dst;

	if (!f)
		return -1;
	if (!a)
		return fail(EDESTADDRREQ);
	if (tolen < sizeof *a)
		return fail(EINVAL);
	if (a->sin_family != AF_INET)
		return fail(EAFNOSUPPORT);
	if (len > 1500 - 20 - 8)
		return fail(EMSGSIZE);
	if (!f->port && bindPort(f, 0) != 0)
		return -1;
	memcpy(dst.ip, &a->sin_addr.s_addr, 4);
	dst.port = ntohs(a->sin_port);
	if (neighbour(dst.ip, dst.mac) != 0)
		return fail(EHOSTUNREACH);
	if (net_udp_sendto(&dst, f->port, buf, (uint32_t)len) != 0)
		return fail(ENOBUFS);
	return (ssize_t)len;
}

void posix_socket_close(int fd)
{
	struct queue *q = &queues[fd];

	while (q->n) {
		net_udp_free(&q->d[q->head]);
		q->head = (q->head + 1) % QUEUE;
		q->n--;
	}
	posix_files[fd].port = 0;	/* the stack still delivers it: route() drops and counts those */
}
