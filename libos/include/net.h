/* The LibOS network API: what apps call. Ethernet, ARP, IPv4, ICMP echo and UDP over one NIC
   queue; the stack answers ARP and echo requests itself and hands UDP datagrams to the app.
   Every frame taken from the ring ends in exactly one of: answered by the stack (ARP, ICMP),
   delivered to the app, or dropped with a named reason. Apps never call the platform. */

#ifndef NET_H
#define NET_H

#include <stdint.h>

/* ---- configuration ---- */
#define NET_RX_POLL	0	/* spin on the ring (plat_relax between looks) */
#define NET_RX_IRQ	1	/* sleep until the queue's interrupt */

#define NET_PROMISC	0x1	/* any destination MAC and IP is ours; ARP answered for any address */

struct net_config {
	uint8_t ip[4];
	uint32_t flags;		/* NET_PROMISC */
	uint32_t rx_mode;	/* NET_RX_POLL or NET_RX_IRQ */
	uint32_t ring;		/* descriptors per ring (power of two, 8..4096); 0: 256 */
	uint32_t itr;		/* interrupt moderation in cycles (NET_RX_IRQ); 0: none */
};

/* Bring the queue up; 0 on success, -1 (with a console line saying why) if it failed. */
int net_init(const struct net_config *c);
/* Our station address. */
void net_mac(uint8_t mac[6]);

/* ---- UDP ---- */
struct net_addr {
	uint8_t mac[6];
	uint8_t ip[4];
	uint16_t port;		/* host order */
};

struct net_dgram {
	struct net_addr from;	/* the sender */
	struct net_addr to;	/* where it was sent (us, or anyone when promiscuous) */
	uint8_t *data;		/* the payload, in the receive buffer (valid until freed or replied) */
	uint32_t len;
	uint32_t buf;		/* the buffer it lives in (the stack's) */
};

/* Take UDP datagrams for `port` (host order); 0 takes every port. Others are dropped as
   udp_no_port. 0 on success, -1 if the table is full. */
int net_udp_bind(uint16_t port);
/* The next datagram for a bound port, waiting at most `cycles` (0: do not wait); 1 with *d
   filled in, 0 on timeout. ARP and ICMP are answered meanwhile. */
int net_udp_recv(struct net_dgram *d, uint64_t cycles);
/* Zero-copy answer: the received buffer itself becomes the reply (MACs, IPs and ports
   swapped, checksums recomputed, payload as it is) and goes on the TX ring; d is consumed.
   0 on success, -1 if it could not be sent (counted in tx_failed; the buffer is freed). */
int net_udp_reply(struct net_dgram *d);
/* Give a received datagram's buffer back without answering. */
void net_udp_free(struct net_dgram *d);
/* Copy path: `len` bytes from `p` into a fresh buffer, sent from our address and `sport` to
   `to` (its MAC included: a reply goes back where the request came from). 0 or -1. */
int net_udp_sendto(const struct net_addr *to, uint16_t sport, const void *p, uint32_t len);

/* ---- counters ---- */
#define NET_DROP_REASONS(X) \
	X(rx_error,		"the NIC marked the descriptor with an error") \
	X(eth_runt,		"shorter than an Ethernet header") \
	X(eth_not_ours,		"destination MAC neither ours nor broadcast") \
	X(eth_type,		"EtherType not IPv4 or ARP (IPv6, VLAN, ...)") \
	X(arp_malformed,	"ARP not Ethernet/IPv4 or too short") \
	X(arp_not_request,	"ARP reply or other operation") \
	X(arp_not_ours,		"ARP request for another address") \
	X(arp_gratuitous,	"ARP announcement (sender = target)") \
	X(ip_short,		"shorter than an IPv4 header") \
	X(ip_version,		"IP version not 4") \
	X(ip_header_length,	"IHL under 5 or past the total length") \
	X(ip_total_length,	"total length past the end of the frame") \
	X(ip_checksum,		"bad IPv4 header checksum") \
	X(ip_fragment,		"a fragment (reassembly is not supported)") \
	X(ip_not_ours,		"destination IP not ours or broadcast") \
	X(ip_bad_source,	"source 0.0.0.0, multicast or broadcast: no reply possible") \
	X(ip_proto,		"protocol not UDP or ICMP") \
	X(icmp_short,		"shorter than an ICMP header") \
	X(icmp_checksum,	"bad ICMP checksum") \
	X(icmp_type,		"not an echo request") \
	X(udp_short,		"shorter than a UDP header") \
	X(udp_length,		"UDP length under 8 or past the IP payload") \
	X(udp_checksum,		"bad UDP checksum") \
	X(udp_no_port,		"no socket bound to the port") \
	X(tx_full,		"the stack's answer found no TX slot")

#define NET_DROP_ENUM(name, why) NET_DROP_##name,
enum net_drop { NET_DROP_REASONS(NET_DROP_ENUM) NET_DROPS };
#undef NET_DROP_ENUM

struct net_stats {
	uint32_t rx_frames, rx_bytes;		/* taken from the RX ring */
	uint32_t arp_replies, icmp_replies;	/* answered by the stack */
	uint32_t udp_delivered;			/* handed to the app */
	uint32_t dropped;			/* sum of drops[] for received frames */
	uint32_t drops[NET_DROPS];
	uint32_t tx_frames, tx_bytes, tx_errors;	/* posted to the TX ring; completions with an error */
	uint32_t tx_zero_copy, tx_copied;	/* which path each UDP send took */
	uint32_t tx_failed;			/* app sends that found no TX slot or buffer */
	uint32_t irqs, polls;			/* interrupts taken while waiting; empty looks at the ring */
};

void net_stats(struct net_stats *s);
/* A drop reason's name and its words (both sides of the mono placement use them). */
static inline const char *net_drop_name(int reason)
{
#define NET_DROP_NAME(name, why) #name,
	static const char *const names[NET_DROPS] = { NET_DROP_REASONS(NET_DROP_NAME) };
#undef NET_DROP_NAME
	return reason >= 0 && reason < NET_DROPS ? names[reason] : "?";
}
static inline const char *net_drop_why(int reason)
{
#define NET_DROP_WHY(name, why) why,
	static const char *const whys[NET_DROPS] = { NET_DROP_REASONS(NET_DROP_WHY) };
#undef NET_DROP_WHY
	return reason >= 0 && reason < NET_DROPS ? whys[reason] : "?";
}
/* Wait for the TX ring to empty (at most `cycles`), then print the counters, the NIC's own
   where the platform shows them, and the accounting line
     net: received R = answered A + delivered U + dropped D (ok|MISMATCH)
   Returns 0 if the accounting holds. */
int net_shutdown(uint64_t cycles);

#endif
