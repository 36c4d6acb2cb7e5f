/* Ethernet II (IEEE 802.3 framing with an EtherType) and ARP for IPv4 over Ethernet
   (RFC 826): demultiplex by EtherType; answer who-has requests for our address. */

#include "net-int.h"

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* One received frame, start to end. */
int eth_input(uint32_t buf, uint32_t len, uint32_t status, struct net_dgram *d)
{
	uint8_t *f = nicq_buf(&net_if.q, buf);

	if (NIC_STA_ERR(status))
		return net_drop(buf, NET_DROP_rx_error);
	if (len < ETH_HLEN)
		return net_drop(buf, NET_DROP_eth_runt);
	if (!(net_if.cfg.flags & NET_PROMISC) && memcmp(f, net_if.mac, 6) != 0 && memcmp(f, broadcast, 6) != 0)
		return net_drop(buf, NET_DROP_eth_not_ours);
	switch (get16(f + 12)) {
	case ETH_P_IP:
		return ip_input(buf, f, len, d);
	case ETH_P_ARP:
		return arp_input(buf, f, len);
	default:
		return net_drop(buf, NET_DROP_eth_type);
	}
}

/* ARP packet, after the Ethernet header:
    0 htype(2) 2 ptype(2) 4 hlen 5 plen 6 op(2) 8 sha(6) 14 spa(4) 18 tha(6) 24 tpa(4) */
#define ARP_LEN		28
#define ARP_REQUEST	1
#define ARP_REPLY	2

int arp_input(uint32_t buf, uint8_t *f, uint32_t len)
{
	uint8_t *a = f + ETH_HLEN;

	if (len < ETH_HLEN + ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return net_drop(buf, NET_DROP_arp_malformed);
	if (get16(a + 6) != ARP_REQUEST)
		return net_drop(buf, NET_DROP_arp_not_request);
	if (memcmp(a + 14, a + 24, 4) == 0)
		return net_drop(buf, NET_DROP_arp_gratuitous);
	if (!(net_if.cfg.flags & NET_PROMISC) && memcmp(a + 24, net_if.cfg.ip, 4) != 0)
		return net_drop(buf, NET_DROP_arp_not_ours);

	/* the reply, in place: to the asker, from us, saying the asked address is at our MAC */
	uint8_t asked[4];
	memcpy(asked, a + 24, 4);
	memcpy(f, a + 8, 6);
	memcpy(f + 6, net_if.mac, 6);
	put16(a + 6, ARP_REPLY);
	memcpy(a + 18, a + 8, 10);	/* target := the asker's sha and spa */
	memcpy(a + 8, net_if.mac, 6);
	memcpy(a + 14, asked, 4);
	int sent;
	net_answer(buf, ETH_HLEN + ARP_LEN, &sent);
	if (sent)
		net_if.st.arp_replies++;
	return RX_DONE;
}
