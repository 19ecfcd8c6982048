// SPDX-License-Identifier: Apache-2.0
/*
 * peer.c: the native peer of bench/addon/run.ts. The same operations as the addon benchmark,
 * written directly against libbpf in C, so the benchmark can report addon/C ratios.
 *
 *   peer ring <pinned ringbuf> <records per round> <rounds>
 *       Before each round, waits for a line on stdin (the ring has been filled by then), then
 *       drains <records> with ring_buffer__consume (polling while short) and prints the
 *       round's nanoseconds on stdout.
 *   peer lookup <pinned hash map> <n>
 *       n bpf_map_lookup_elem calls on u32 keys 0..1023 (16-byte values); prints total ns.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static long got;

static int on_sample(void *ctx, void *data, size_t len)
{
	/* Copy like the addon does (it copies each record into a Buffer). */
	char buf[256];
	memcpy(buf, data, len < sizeof(buf) ? len : sizeof(buf));
	got++;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int fd = bpf_obj_get(argv[2]);
	if (fd < 0) {
		perror("bpf_obj_get");
		return 1;
	}
	if (strcmp(argv[1], "ring") == 0 && argc >= 5) {
		long per = atol(argv[3]), rounds = atol(argv[4]);
		struct ring_buffer *rb = ring_buffer__new(fd, on_sample, NULL, NULL);
		if (!rb) {
			perror("ring_buffer__new");
			return 1;
		}
		char line[64];
		for (long r = 0; r < rounds; r++) {
			if (!fgets(line, sizeof(line), stdin))
				break;
			got = 0;
			uint64_t t0 = now_ns();
			while (got < per) {
				if (ring_buffer__consume(rb) == 0)
					ring_buffer__poll(rb, 100);
			}
			printf("%llu\n", (unsigned long long)(now_ns() - t0));
			fflush(stdout);
		}
		ring_buffer__free(rb);
		return 0;
	}
	if (strcmp(argv[1], "lookup") == 0) {
		long n = atol(argv[3]);
		uint32_t key;
		unsigned char val[16];
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++) {
			key = i & 1023;
			bpf_map_lookup_elem(fd, &key, val);
		}
		printf("%llu\n", (unsigned long long)(now_ns() - t0));
		return 0;
	}
	return 2;
}
