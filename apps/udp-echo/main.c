/* udp-echo: the RFC 862 echo service on one UDP port: each datagram's payload goes back to its
   sender, copied into a fresh buffer (the copy path). Answers ARP and ping for its address.
   Stops after IDLE_CYCLES without a frame and prints the counters. */

#include "libc.h"
#include "net.h"

#ifndef ECHO_PORT
#define ECHO_PORT	7
#endif
#ifndef IDLE_CYCLES
#define IDLE_CYCLES	20000000ull
#endif
#ifndef RX_MODE
#define RX_MODE		NET_RX_POLL
#endif

int main(void)
{
	struct net_config c = { .ip = { 10, 0, 0, 1 }, .rx_mode = RX_MODE };
	struct net_dgram d;
	struct net_stats s;
	uint32_t echoed = 0, failed = 0, bytes = 0, seen = 0;

	if (net_init(&c) != 0)
		return 2;
	net_udp_bind(ECHO_PORT);
	printf("udp-echo: port %u\n", ECHO_PORT);
	for (;;) {
		if (net_udp_recv(&d, IDLE_CYCLES)) {
			if (net_udp_sendto(&d.from, d.to.port, d.data, d.len) == 0) {
				echoed++;
				bytes += d.len;
			} else {
				failed++;
			}
			net_udp_free(&d);
			continue;
		}
		net_stats(&s);
		if (s.rx_frames == seen)
			break;
		seen = s.rx_frames;
	}
	printf("udp-echo: echoed %u datagrams, %u payload bytes, failed %u\n", echoed, bytes, failed);
	int ok = net_shutdown(IDLE_CYCLES);
	return ok == 0 && failed == 0 ? 0 : 1;
}
