/* reflector: answer every frame the LibOS lets through. Well-formed UDP datagrams go back
   where they came from (MACs, IPs and ports swapped, payload as it is, checksums recomputed)
   by the zero-copy path; ARP requests and ICMP echo requests are answered by the stack;
   everything else is dropped with a reason. Promiscuous: every address is ours, as a
   reflector on a replayed capture must be. Stops after IDLE_CYCLES without a frame and
   prints the counters. */

#include "libc.h"
#include "net.h"

#ifndef IDLE_CYCLES
#define IDLE_CYCLES	20000000ull	/* 10 ms at 2 GHz */
#endif
#ifndef RX_MODE
#define RX_MODE		NET_RX_IRQ
#endif

int main(void)
{
	struct net_config c = { .ip = { 10, 0, 0, 1 }, .flags = NET_PROMISC, .rx_mode = RX_MODE };
	struct net_dgram d;
	struct net_stats s;
	uint32_t replied = 0, failed = 0, seen = 0;

	if (net_init(&c) != 0)
		return 2;
	net_udp_bind(0);
	printf("reflector: ready\n");
	for (;;) {
		if (net_udp_recv(&d, IDLE_CYCLES)) {
			if (net_udp_reply(&d) == 0)
				replied++;
			else
				failed++;
			continue;
		}
		net_stats(&s);
		if (s.rx_frames == seen)	/* a whole idle period without a frame of any kind */
			break;
		seen = s.rx_frames;
	}
	printf("reflector: udp replied %u, failed %u\n", replied, failed);
	int ok = net_shutdown(IDLE_CYCLES);
	net_stats(&s);
	return ok == 0 && failed == 0 && replied == s.udp_delivered ? 0 : 1;
}
