/* UDP (RFC 768): length and checksum checks, ports, the zero-copy reply and the copy send. */

#include "net-int.h"

static int bound(uint16_t port)
{
	if (net_if.any_port)
		return 1;
	for (uint32_t k = 0; k < net_if.nports; k++)
		if (net_if.ports[k] == port)
			return 1;
	return 0;
}

int net_udp_bind(uint16_t port)
{
	if (port == 0) {
		net_if.any_port = 1;
		return 0;
	}
	if (net_if.nports == NET_PORTS)
		return -1;
	net_if.ports[net_if.nports++] = port;
	return 0;
}

/* The checksum of a UDP datagram `u` of `n` bytes between src and dst; the field counts. */
static uint16_t udpSum(const uint8_t *ip, const uint8_t *u, uint32_t n)
{
	return csum_fold(csum_add(csum_pseudo(ip + 12, ip + 16, IPPROTO_UDP, (uint16_t)n), u, n));
}

int udp_input(uint32_t buf, uint8_t *f, uint32_t ihl, uint32_t total, struct net_dgram *d)
{
	uint8_t *ip = f + ETH_HLEN, *u = ip + ihl;
	uint32_t room = total - ihl;

	if (room < UDP_HLEN)
		return net_drop(buf, NET_DROP_udp_short);
	uint32_t n = get16(u + 4);
	if (n < UDP_HLEN || n > room)
		return net_drop(buf, NET_DROP_udp_length);
	if (get16(u + 6) != 0 && udpSum(ip, u, n) != 0)	/* 0: the sender computed none */
		return net_drop(buf, NET_DROP_udp_checksum);
	if (!bound(get16(u + 2)))
		return net_drop(buf, NET_DROP_udp_no_port);
	memcpy(d->from.mac, f + 6, 6);
	memcpy(d->from.ip, ip + 12, 4);
	d->from.port = get16(u);
	memcpy(d->to.mac, f, 6);
	memcpy(d->to.ip, ip + 16, 4);
	d->to.port = get16(u + 2);
	d->data = u + UDP_HLEN;
	d->len = n - UDP_HLEN;
	d->buf = buf;
	net_if.st.udp_delivered++;
	return RX_DELIVER;
}

static void udpChecksum(uint8_t *ip, uint8_t *u, uint32_t n)
{
	put16(u + 6, 0);
	uint16_t c = udpSum(ip, u, n);
	put16(u + 6, c ? c : 0xffff);	/* 0 would say "no checksum" */
}

/* The frame length of an IPv4 datagram of `total` bytes, padded for Ethernet. */
static uint32_t framePad(uint8_t *f, uint32_t total)
{
	uint32_t len = ETH_HLEN + total;

	if (len < ETH_MIN) {
		memset(f + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	return len;
}

int net_udp_reply(struct net_dgram *d)
{
	uint8_t *f = nicq_buf(&net_if.q, d->buf), *ip = f + ETH_HLEN;
	uint32_t ihl = (ip[0] & 0xf) * 4, total = get16(ip + 2);
	uint8_t *u = ip + ihl;

	swapBytes(u, u + 2, 2);
	ip_turn_around(f, ihl);
	udpChecksum(ip, u, get16(u + 4));
	if (net_send_buf(d->buf, framePad(f, total)) != 0) {
		nicq_buf_free(&net_if.q, d->buf);
		net_if.st.tx_failed++;
		return -1;
	}
	net_if.st.tx_zero_copy++;
	return 0;
}

void net_udp_free(struct net_dgram *d)
{
	nicq_buf_free(&net_if.q, d->buf);
}

int net_udp_sendto(const struct net_addr *to, uint16_t sport, const void *p, uint32_t len)
{
	uint32_t b = len <= UDP_MAX_PAYLOAD ? nicq_buf_alloc(&net_if.q) : NICQ_NOBUF;

	if (b == NICQ_NOBUF) {
		net_if.st.tx_failed++;
		return -1;
	}
	uint8_t *f = nicq_buf(&net_if.q, b), *ip = f + ETH_HLEN, *u = ip + IP_HLEN;
	uint32_t total = IP_HLEN + UDP_HLEN + len;

	memcpy(f, to->mac, 6);
	memcpy(f + 6, net_if.mac, 6);
	put16(f + 12, ETH_P_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, net_if.ip_id++);
	put16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	put16(ip + 10, 0);
	memcpy(ip + 12, net_if.cfg.ip, 4);
	memcpy(ip + 16, to->ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));
	put16(u, sport);
	put16(u + 2, to->port);
	put16(u + 4, (uint16_t)(UDP_HLEN + len));
	memcpy(u + UDP_HLEN, p, len);
	udpChecksum(ip, u, UDP_HLEN + len);
	if (net_send_buf(b, framePad(f, total)) != 0) {
		nicq_buf_free(&net_if.q, b);
		net_if.st.tx_failed++;
		return -1;
	}
	net_if.st.tx_copied++;
	return 0;
}
