/*
 * udpflood: send COUNT UDP datagrams of 18 payload bytes to DST, destination ports
 * BASE..BASE+COUNT-1 (one new port each, so each is a new megaflow for a pipeline that matches
 * tp_dst), with sendmmsg in batches of 64. RATE (packets/s, 0 = as fast as possible) paces it.
 * Prints the elapsed seconds. Benchmark helper, built by bench/daemon/run.ts.
 *
 *   udpflood DST BASE COUNT [RATE]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 4) { fprintf(stderr, "usage: udpflood DST BASE COUNT [RATE]\n"); return 2; }
	int base = atoi(argv[2]), count = atoi(argv[3]);
	double rate = argc > 4 ? atof(argv[4]) : 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) { perror("socket"); return 1; }
	int sndbuf = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	enum { B = 64 };
	struct sockaddr_in to[B];
	struct mmsghdr msgs[B];
	struct iovec iov[B];
	char payload[18] = "bvs-flow-setup-xx";
	memset(msgs, 0, sizeof msgs);
	double t0 = now();
	int sent = 0;
	while (sent < count) {
		int n = count - sent < B ? count - sent : B;
		for (int i = 0; i < n; i++) {
			memset(&to[i], 0, sizeof to[i]);
			to[i].sin_family = AF_INET;
			to[i].sin_port = htons((unsigned short)(base + sent + i));
			inet_pton(AF_INET, argv[1], &to[i].sin_addr);
			iov[i].iov_base = payload;
			iov[i].iov_len = sizeof payload;
			msgs[i].msg_hdr.msg_name = &to[i];
			msgs[i].msg_hdr.msg_namelen = sizeof to[i];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) { perror("sendmmsg"); continue; }
		sent += r;
		if (rate > 0) {
			double due = t0 + sent / rate;
			while (now() < due) { struct timespec ts = {0, 20000}; nanosleep(&ts, NULL); }
		}
	}
	printf("%.6f\n", now() - t0);
	return 0;
}
