/* sock-echo: udp-echo's service (RFC 862) written against the POSIX socket API of libos/posix
   instead of libos/net's own: socket, bind to ECHO_PORT, recvfrom, sendto back to the sender.
   Stops when IDLE_CYCLES pass without a datagram and prints its counts, the socket layer's
   and the stack's accounting. */

#include "libc.h"
#include "net.h"
#include "posix.h"

#ifndef ECHO_PORT
#define ECHO_PORT	7
#endif
#ifndef IDLE_CYCLES
#define IDLE_CYCLES	20000000ull
#endif
#ifndef RX_MODE
#define RX_MODE		NET_RX_POLL
#endif

static uint8_t buf[2048];

/* The API's refusals, before any traffic: each must fail with its errno. */
static int errorPaths(int s)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = { htonl(0x0a000063) } };
	int t = socket(AF_INET, SOCK_DGRAM, 0), bad = 0;
	struct { const char *what; int got, want; } c[] = {
		{ "socket(AF_INET6)", socket(10, SOCK_DGRAM, 0) < 0 ? errno : 0, EAFNOSUPPORT },
		{ "socket(SOCK_STREAM)", socket(AF_INET, 1, 0) < 0 ? errno : 0, EPROTONOSUPPORT },
		{ "bind to a port in use", bind(t, (struct sockaddr *)&me, sizeof me) < 0 ? errno : 0, 98 },
		{ "recvfrom unbound", recvfrom(t, buf, 1, MSG_DONTWAIT, 0, 0) < 0 ? errno : 0, EINVAL },
		{ "sendto an unheard-of host", sendto(s, buf, 1, 0, (struct sockaddr *)&far, sizeof far) < 0 ? errno : 0, EHOSTUNREACH },
		{ "sendto without an address", sendto(s, buf, 1, 0, 0, 0) < 0 ? errno : 0, EDESTADDRREQ },
		{ "lseek on a socket", lseek(s, 0, SEEK_SET) < 0 ? errno : 0, ESPIPE },
		{ "read on a socket", read(s, buf, 1) < 0 ? errno : 0, EBADF },
		{ "bind on a file-less fd", bind(15, (struct sockaddr *)&me, sizeof me) < 0 ? errno : 0, EBADF },
	};
	for (uint32_t k = 0; k < sizeof c / sizeof c[0]; k++) {
		if (c[k].got != c[k].want) {
			printf("sock-echo: %s: errno %d, wanted %d\n", c[k].what, c[k].got, c[k].want);
			bad++;
		}
	}
	close(t);
	printf("sock-echo: error paths %s\n", bad ? "FAILED" : "ok");
	return bad;
}

int main(void)
{
	struct net_config c = { .ip = { 10, 0, 0, 1 }, .rx_mode = RX_MODE };
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT), .sin_addr = { INADDR_ANY } };
	struct posix_sock_stats ss;
	uint32_t echoed = 0, failed = 0, bytes = 0;

	if (posix_net_up(&c) != 0)
		return 2;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) != 0) {
		printf("sock-echo: socket or bind: errno %d\n", errno);
		return 2;
	}
	failed += (uint32_t)errorPaths(s);
	posix_recv_wait(IDLE_CYCLES);
	printf("sock-echo: fd %d port %u\n", s, ECHO_PORT);
	for (;;) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EAGAIN)
				break;	/* idle */
			failed++;
			continue;
		}
		if (sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen) == n) {
			echoed++;
			bytes += (uint32_t)n;
		} else {
			failed++;
		}
	}
	close(s);
	posix_sock_stats(&ss);
	printf("sock-echo: echoed %u datagrams, %u payload bytes, failed %u; sockets queued %u, queue full %u, no socket %u\n",
	       echoed, bytes, failed, ss.queued, ss.queue_full, ss.no_socket);
	int ok = net_shutdown(IDLE_CYCLES);
	return ok == 0 && failed == 0 ? 0 : 1;
}
