/* The stack's front: bring-up, the receive loop (polling or interrupt-driven), sending, and
   the counters. */

#include "net-int.h"

struct netif net_if;

/* How long a send waits for a TX slot before it gives up. */
#define TX_PATIENCE	2000000u

int net_init(const struct net_config *c)
{
	memset(&net_if, 0, sizeof net_if);
	net_if.cfg = *c;
	if (!net_if.cfg.ring)
		net_if.cfg.ring = 256;
	uint32_t ring = net_if.cfg.ring;
	/* both rings full and as many again held by the app or in flight */
	if (nicq_init(&net_if.q, ring, 2 * ring + ring / 2, c->rx_mode == NET_RX_IRQ, c->itr) != 0)
		return -1;
	memcpy(net_if.mac, net_if.q.pn.mac, 6);
	net_if.up = 1;
	const uint8_t *m = net_if.mac, *ip = net_if.cfg.ip;
	printf("net: up on queue %u, %02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u, ring %u, %s receive%s\n",
	       net_if.q.pn.queue, m[0], m[1], m[2], m[3], m[4], m[5], ip[0], ip[1], ip[2], ip[3], ring,
	       net_if.q.irq ? "interrupt-driven" : "polled", net_if.cfg.flags & NET_PROMISC ? ", promiscuous" : "");
	return 0;
}

void net_mac(uint8_t mac[6])
{
	memcpy(mac, net_if.mac, 6);
}

int net_drop(uint32_t buf, enum net_drop why)
{
	net_if.st.drops[why]++;
	net_if.st.dropped++;
	nicq_buf_free(&net_if.q, buf);
	return RX_DONE;
}

int net_send_buf(uint32_t buf, uint32_t len)
{
	struct nicq *q = &net_if.q;

	if (nicq_tx(q, buf, len) != 0) {
		uint64_t t0 = plat_cycles();
		for (;;) {
			nicq_tx_reap(q);
			if (nicq_tx(q, buf, len) == 0)
				break;
			if (plat_cycles() - t0 > TX_PATIENCE)
				return -1;
			plat_relax();
		}
	}
	net_if.st.tx_frames++;
	net_if.st.tx_bytes += len;
	return 0;
}

int net_answer(uint32_t buf, uint32_t len, int *sent)
{
	uint8_t *f = nicq_buf(&net_if.q, buf);

	if (len < ETH_MIN) {
		memset(f + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	*sent = net_send_buf(buf, len) == 0;
	if (!*sent)
		return net_drop(buf, NET_DROP_tx_full);
	return RX_DONE;
}

int net_udp_recv(struct net_dgram *d, uint64_t cycles)
{
	struct nicq *q = &net_if.q;
	uint64_t start = plat_cycles();

	if (!net_if.up)
		return 0;
	for (;;) {
		uint32_t seen = plat_irq_count(), buf, len, status;

		if (q->irq)
			nicq_ack(q);	/* before looking: a completion after this interrupts again */
		nicq_tx_reap(q);
		nicq_rx_refill(q);
		while (nicq_rx(q, &buf, &len, &status)) {
			net_if.st.rx_frames++;
			net_if.st.rx_bytes += len;
			if (eth_input(buf, len, status, d) == RX_DELIVER)
				return 1;
		}
		uint64_t spent = plat_cycles() - start;
		if (spent >= cycles)
			return 0;
		net_if.st.polls++;
		if (q->irq) {
			if (plat_irq_wait(seen, cycles - spent) != seen)
				net_if.st.irqs++;
		} else {
			plat_relax();
		}
	}
}

void net_stats(struct net_stats *s)
{
	*s = net_if.st;
	s->tx_errors = net_if.q.tx_errors;
}

static void printNic(void)
{
	static const char *const nicDrops[PLAT_NIC_DROP_REASONS] = {
		"ring_full", "fenced", "bad_descriptor", "iommu_fault", "too_long", "link_down", "reset",
	};
	struct plat_nic_counters c;

	if (plat_nic_counters(&net_if.q.pn, &c) != 0) {
		printf("nic: counters not visible on this platform\n");
		return;
	}
	printf("nic: received %u delivered %u dropped %u sent %u\n", c.received, c.delivered, c.dropped, c.sent);
	for (int r = 0; r < PLAT_NIC_DROP_REASONS; r++)
		if (c.drops[r])
			printf("nic: drop %s %u\n", nicDrops[r], c.drops[r]);
}

int net_shutdown(uint64_t cycles)
{
	struct nicq *q = &net_if.q;
	struct net_stats s;
	uint64_t t0 = plat_cycles();

	while (net_if.up && nicq_tx_pending(q) && plat_cycles() - t0 < cycles) {
		nicq_tx_reap(q);
		plat_relax();
	}
	net_stats(&s);
	printf("net: rx %u frames %u bytes; tx %u frames %u bytes (zero-copy %u, copied %u, failed %u, errors %u, pending %u)\n",
	       s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes, s.tx_zero_copy, s.tx_copied, s.tx_failed, s.tx_errors,
	       net_if.up ? nicq_tx_pending(q) : 0);
	printf("net: answered arp %u icmp %u; delivered udp %u; dropped %u; waits %u, interrupts %u\n",
	       s.arp_replies, s.icmp_replies, s.udp_delivered, s.dropped, s.polls, s.irqs);
	for (int r = 0; r < NET_DROPS; r++)
		if (s.drops[r])
			printf("net: drop %s %u (%s)\n", net_drop_name(r), s.drops[r], net_drop_why(r));
	if (net_if.up)
		printNic();
	uint32_t answered = s.arp_replies + s.icmp_replies, sum = 0;
	for (int r = 0; r < NET_DROPS; r++)
		sum += s.drops[r];
	int ok = s.rx_frames == answered + s.udp_delivered + s.dropped && sum == s.dropped;
	printf("net: received %u = answered %u + delivered %u + dropped %u %s\n", s.rx_frames, answered, s.udp_delivered,
	       s.dropped, ok ? "ok" : "MISMATCH");
	return ok ? 0 : -1;
}
