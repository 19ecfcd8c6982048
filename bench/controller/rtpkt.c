/*
 * rtpkt: round trips of raw frames through a switch. Sends COUNT UDP/IPv4 frames on TXIF and
 * receives them on RXIF (both in the netns it runs in, through AF_PACKET sockets), keeping at
 * most WINDOW frames in flight (a closed loop: a frame out lets the next one in). Each frame
 * carries its sequence number and send time (CLOCK_MONOTONIC), so the latency is measured on
 * one clock, from the sendto() to the frame read on RXIF. The UDP source port changes with
 * every frame. A frame not back within TIMEOUT_MS of the last progress is counted lost (its
 * window slot is freed; a late arrival is counted as late, not received).
 *
 * Prints one JSON line: sent, received, lost, late, seconds, and latency percentiles in us.
 * Benchmark helper, built by bench/controller/run.ts.
 *
 *   rtpkt TXIF RXIF COUNT WINDOW [TIMEOUT_MS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAGIC 0x62767372u /* "bvsr" */
#define FRAME 64
enum { IN_FLIGHT = 1, DONE = 2, LOST = 3 };

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint16_t ip_csum(const uint8_t *p, int n) {
	uint32_t s = 0;
	for (int i = 0; i < n; i += 2) s += (p[i] << 8) | p[i + 1];
	while (s >> 16) s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet 02:00:00:ee:00:01 -> :02, IPv4 10.250.0.1 -> .2, UDP sport 1024+(seq%60000) -> 9. */
static void build(uint8_t *f, uint32_t seq, uint64_t ts) {
	static const uint8_t hdr[34] = {
		2, 0, 0, 0xee, 0, 2, 2, 0, 0, 0xee, 0, 1, 0x08, 0x00,
		0x45, 0, 0, FRAME - 14, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 250, 0, 1, 10, 250, 0, 2,
	};
	memset(f, 0, FRAME);
	memcpy(f, hdr, sizeof hdr);
	uint16_t c = htons(ip_csum(f + 14, 20));
	memcpy(f + 24, &c, 2);
	uint16_t sport = htons(1024 + seq % 60000), dport = htons(9), ulen = htons(FRAME - 34);
	memcpy(f + 34, &sport, 2);
	memcpy(f + 36, &dport, 2);
	memcpy(f + 38, &ulen, 2);
	uint32_t m = MAGIC;
	memcpy(f + 42, &m, 4);
	memcpy(f + 46, &seq, 4);
	memcpy(f + 50, &ts, 8);
}

static int packet_socket(const char *ifname, int proto, int *ifindex) {
	int fd = socket(AF_PACKET, SOCK_RAW, proto);
	if (fd < 0) { perror("socket"); exit(1); }
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) { fprintf(stderr, "no interface %s\n", ifname); exit(1); }
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = proto, .sll_ifindex = *ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); exit(1); }
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	return fd;
}

int main(int argc, char **argv) {
	if (argc < 5) { fprintf(stderr, "usage: rtpkt TXIF RXIF COUNT WINDOW [TIMEOUT_MS]\n"); return 2; }
	uint32_t count = (uint32_t)atoi(argv[3]), window = (uint32_t)atoi(argv[4]);
	uint64_t timeout = (argc > 5 ? atoi(argv[5]) : 200) * 1000000ull;
	int txi, rxi;
	int tx = packet_socket(argv[1], 0, &txi); /* protocol 0: this socket receives nothing */
	int rx = packet_socket(argv[2], htons(ETH_P_ALL), &rxi);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = txi, .sll_halen = 6 };
	uint8_t *state = calloc(count, 1);
	uint32_t *lat = calloc(count, sizeof *lat);
	uint32_t next = 0, oldest = 0, inflight = 0, received = 0, lost = 0, late = 0;
	uint8_t f[FRAME], in[2048];
	uint64_t t0 = now_ns(), progress = t0;
	while (next < count || inflight > 0) {
		while (inflight < window && next < count) {
			build(f, next, now_ns());
			if (sendto(tx, f, FRAME, 0, (struct sockaddr *)&to, sizeof to) != FRAME) { perror("sendto"); return 1; }
			state[next++] = IN_FLIGHT;
			inflight++;
		}
		struct pollfd p = { .fd = rx, .events = POLLIN };
		poll(&p, 1, 1);
		for (;;) {
			struct sockaddr_ll from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(rx, in, sizeof in, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
			if (n < 0) break;
			uint64_t t = now_ns();
			uint32_t m, seq;
			uint64_t ts;
			if (from.sll_pkttype == PACKET_OUTGOING || n < 58) continue;
			memcpy(&m, in + 42, 4);
			memcpy(&seq, in + 46, 4);
			memcpy(&ts, in + 50, 8);
			if (m != MAGIC || seq >= count) continue;
			if (state[seq] == LOST) { late++; continue; }
			if (state[seq] != IN_FLIGHT) continue; /* a duplicate */
			state[seq] = DONE;
			lat[received++] = (uint32_t)((t - ts) / 1000);
			inflight--;
			progress = t;
		}
		if (inflight > 0 && now_ns() - progress > timeout) {
			for (; oldest < next; oldest++) if (state[oldest] == IN_FLIGHT) { state[oldest] = LOST; lost++; }
			inflight = 0;
			progress = now_ns();
		}
	}
	double secs = (now_ns() - t0) / 1e9;
	qsort(lat, received, sizeof *lat, cmp_u32);
#define PCT(q) (received ? lat[(uint32_t)((received - 1) * (q))] : 0)
	printf("{\"sent\":%u,\"received\":%u,\"lost\":%u,\"late\":%u,\"seconds\":%.6f,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u}\n",
	       next, received, lost, late, secs, PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0));
	return 0;
}
