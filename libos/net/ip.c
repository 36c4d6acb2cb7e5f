/* IPv4 (RFC 791) input checks and ICMP echo (RFC 792). Datagrams are checked in a fixed order
   and the first failed check names the drop: version, header length, total length against
   the frame, header checksum, fragments, destination, source, protocol. */

#include "net-int.h"

static int ours(const uint8_t *ip)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	return (net_if.cfg.flags & NET_PROMISC) || memcmp(ip, net_if.cfg.ip, 4) == 0 || memcmp(ip, bcast, 4) == 0;
}

/* 0.0.0.0, multicast (224/4) and above: not an address an answer can go to */
static int badSource(const uint8_t *ip)
{
	return ip[0] >= 224 || (ip[0] | ip[1] | ip[2] | ip[3]) == 0;
}

int ip_input(uint32_t buf, uint8_t *f, uint32_t len, struct net_dgram *d)
{
	uint8_t *ip = f + ETH_HLEN;
	uint32_t room = len - ETH_HLEN;

	if (room < IP_HLEN)
		return net_drop(buf, NET_DROP_ip_short);
	if (ip[0] >> 4 != 4)
		return net_drop(buf, NET_DROP_ip_version);
	uint32_t ihl = (ip[0] & 0xf) * 4, total = get16(ip + 2);
	if (ihl < IP_HLEN || ihl > room)
		return net_drop(buf, NET_DROP_ip_header_length);
	if (total < ihl || total > room)	/* shorter than the frame is Ethernet padding */
		return net_drop(buf, total < ihl ? NET_DROP_ip_header_length : NET_DROP_ip_total_length);
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return net_drop(buf, NET_DROP_ip_checksum);
	if (get16(ip + 6) & 0x3fff)	/* MF, or a fragment offset */
		return net_drop(buf, NET_DROP_ip_fragment);
	if (!ours(ip + 16))
		return net_drop(buf, NET_DROP_ip_not_ours);
	if (badSource(ip + 12))
		return net_drop(buf, NET_DROP_ip_bad_source);
	switch (ip[9]) {
	case IPPROTO_ICMP:
		return icmp_input(buf, f, ihl, total);
	case IPPROTO_UDP:
		return udp_input(buf, f, ihl, total, d);
	default:
		return net_drop(buf, NET_DROP_ip_proto);
	}
}

/* Swap the frame's MACs and the datagram's addresses, refresh the header checksum. */
void ip_turn_around(uint8_t *f, uint32_t ihl)
{
	uint8_t *ip = f + ETH_HLEN;

	swapBytes(f, f + 6, 6);
	swapBytes(ip + 12, ip + 16, 4);
	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
}

#define ICMP_ECHO_REPLY		0
#define ICMP_ECHO_REQUEST	8

int icmp_input(uint32_t buf, uint8_t *f, uint32_t ihl, uint32_t total)
{
	uint8_t *ip = f + ETH_HLEN, *m = ip + ihl;
	uint32_t n = total - ihl;

	if (n < 8)
		return net_drop(buf, NET_DROP_icmp_short);
	if (csum_fold(csum_add(0, m, n)) != 0)
		return net_drop(buf, NET_DROP_icmp_checksum);
	if (m[0] != ICMP_ECHO_REQUEST || m[1] != 0)
		return net_drop(buf, NET_DROP_icmp_type);
	m[0] = ICMP_ECHO_REPLY;
	put16(m + 2, 0);
	put16(m + 2, csum_fold(csum_add(0, m, n)));
	ip_turn_around(f, ihl);
	int sent;
	net_answer(buf, ETH_HLEN + total, &sent);
	if (sent)
		net_if.st.icmp_replies++;
	return RX_DONE;
}
