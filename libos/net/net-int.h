/* The stack's internals, shared by its files: the interface state, byte order, checksums, and
   the one way every received frame ends (answered, delivered, or dropped with a reason). */

#ifndef NET_INT_H
#define NET_INT_H

#include <stdint.h>
#include "libc.h"
#include "net.h"
#include "nicq.h"

#define ETH_HLEN	14
#define ETH_MIN		60	/* shortest frame without the FCS: shorter ones are padded */
#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define IP_HLEN		20
#define IPPROTO_ICMP	1
#define IPPROTO_UDP	17
#define UDP_HLEN	8
#define UDP_MAX_PAYLOAD	(1500 - IP_HLEN - UDP_HLEN)
#define NET_PORTS	8

struct netif {
	struct nicq q;
	struct net_config cfg;
	uint8_t mac[6];
	uint16_t ports[NET_PORTS];	/* bound UDP ports */
	uint32_t nports;
	int any_port;
	uint16_t ip_id;			/* identification of the datagrams we originate */
	struct net_stats st;
	int up;
};
extern struct netif net_if;

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void swapBytes(uint8_t *a, uint8_t *b, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		uint8_t t = a[k];
		a[k] = b[k];
		b[k] = t;
	}
}

/* RFC 1071: the one's-complement sum of big-endian 16-bit words (an odd byte padded). */
uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t csum_fold(uint32_t sum);	/* the complemented 16-bit checksum */
/* The UDP pseudo-header (RFC 768): source, destination, protocol, UDP length. */
uint32_t csum_pseudo(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t len);

/* Outcomes of one received frame. */
#define RX_DONE		0	/* answered by the stack, or dropped: the buffer is gone */
#define RX_DELIVER	1	/* a datagram for the app: *d filled in, the buffer is the app's */

/* Count a drop and free the buffer; returns RX_DONE. */
int net_drop(uint32_t buf, enum net_drop why);
/* Send buffer `buf` (`len` bytes, padded to ETH_MIN) as the stack's answer to a received frame;
   on failure count tx_full. Returns RX_DONE either way; *sent says which. */
int net_answer(uint32_t buf, uint32_t len, int *sent);
int net_send_buf(uint32_t buf, uint32_t len);	/* 0, or -1 (buffer still the caller's) */

int eth_input(uint32_t buf, uint32_t len, uint32_t status, struct net_dgram *d);
void ip_turn_around(uint8_t *f, uint32_t ihl);
int arp_input(uint32_t buf, uint8_t *f, uint32_t len);
int ip_input(uint32_t buf, uint8_t *f, uint32_t len, struct net_dgram *d);
int icmp_input(uint32_t buf, uint8_t *f, uint32_t ihl, uint32_t total);
int udp_input(uint32_t buf, uint8_t *f, uint32_t ihl, uint32_t total, struct net_dgram *d);

#endif
