/* net.h for an app of the mono placement: each call a system call into the mono kernel, where
   the real libos/net runs (mono.h has the boundary). A received payload lands in one of this
   file's buffers, on the app's pages; net_udp_free only notes the handle, and the next receive
   gives it back, so an echo is two system calls: receive, send. */

#include "libc.h"
#include "net.h"
#include "usys.h"

static uint8_t rxbuf[MONO_HELD][MONO_PAYLOAD_MAX] __attribute__((aligned(16)));
static uint8_t rxUsed[MONO_HELD];
static uint32_t toRelease;	/* a handle freed by the app, given back with the next receive */
static uint8_t ourMac[6];

int net_init(const struct net_config *c)
{
	return mono_sys(MONO_SYS_NET_INIT, (uint32_t)c, (uint32_t)ourMac, 0, 0, 0) == 0 ? 0 : -1;
}

void net_mac(uint8_t mac[6])
{
	memcpy(mac, ourMac, 6);
}

int net_udp_bind(uint16_t port)
{
	return mono_sys(MONO_SYS_NET_BIND, port, 0, 0, 0, 0) == 0 ? 0 : -1;
}

/* The app's buffer a datagram's payload is in, or -1. */
static int slotOf(const struct net_dgram *d)
{
	uint32_t off = (uint32_t)(d->data - &rxbuf[0][0]);
	return d->data >= &rxbuf[0][0] && off < sizeof rxbuf ? (int)(off / MONO_PAYLOAD_MAX) : -1;
}

int net_udp_recv(struct net_dgram *d, uint64_t cycles)
{
	int j = 0;

	while (j < MONO_HELD && rxUsed[j])
		j++;
	if (j == MONO_HELD)
		return 0;	/* the app holds as many datagrams as it can */
	int32_t r = mono_sys(MONO_SYS_NET_RECV, (uint32_t)d, (uint32_t)rxbuf[j], toRelease, (uint32_t)cycles,
			     (uint32_t)(cycles >> 32));
	toRelease = 0;
	if (r != 1)
		return 0;
	rxUsed[j] = 1;
	return 1;
}

static void unhold(struct net_dgram *d)
{
	int j = slotOf(d);
	if (j >= 0)
		rxUsed[j] = 0;
}

int net_udp_reply(struct net_dgram *d)
{
	int32_t r = mono_sys(MONO_SYS_NET_REPLY, (uint32_t)d, 0, 0, 0, 0);
	unhold(d);
	return r == 0 ? 0 : -1;
}

void net_udp_free(struct net_dgram *d)
{
	unhold(d);
	if (toRelease)	/* a second one before a receive: give the first back now */
		mono_sys(MONO_SYS_NET_FREE, toRelease, 0, 0, 0, 0);
	toRelease = d->buf;
}

int net_udp_sendto(const struct net_addr *to, uint16_t sport, const void *p, uint32_t len)
{
	return mono_sys(MONO_SYS_NET_SENDTO, (uint32_t)to, sport, (uint32_t)p, len, 0) == 0 ? 0 : -1;
}

void net_stats(struct net_stats *s)
{
	if (mono_sys(MONO_SYS_NET_STATS, (uint32_t)s, 0, 0, 0, 0) != 0)
		memset(s, 0, sizeof *s);
}

int net_shutdown(uint64_t cycles)
{
	return mono_sys(MONO_SYS_NET_SHUTDOWN, (uint32_t)cycles, (uint32_t)(cycles >> 32), 0, 0, 0) == 0 ? 0 : -1;
}
