// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bvs_load: a test-only loader for bpf/.output/bvs.bpf.o, so the datapath can be exercised
 * without the addon. bpftool 7.1 cannot set libbpf's pin_root_path (its auto-pinning of
 * LIBBPF_PIN_BY_NAME maps would land in /sys/fs/bpf/<name> and collide with other runs), and it
 * has no tcx attach; this does both.
 *
 *   bvs_load load OBJ PINROOT PROGPIN     open with pin_root_path=PINROOT, load, pin the program
 *   bvs_load attach PROGPIN IFNAME ingress|egress LINKPIN   tcx link, pinned at LINKPIN
 *   bvs_load upcalls MAPPIN MAX TIMEOUT_MS   print up to MAX upcall records, one per line:
 *       type port pkt_len cap_len cookie pid key=<hex> data=<hex of cap_len bytes>
 *
 * Prints verifier stats (insns processed) for the program after load.
 */
#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../../bpf/include/bvs_abi.h"

static char vlog[1 << 28];

static int do_load(const char *obj_path, const char *pin_root, const char *prog_pin)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(obj_path, &oo);
	struct bpf_program *prog;
	int err;

	if (!obj) {
		fprintf(stderr, "open %s: %s\n", obj_path, strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "bvs_ingress");
	if (!prog) {
		fprintf(stderr, "no program bvs_ingress\n");
		return 1;
	}
	bpf_program__set_log_buf(prog, vlog, sizeof(vlog));
	bpf_program__set_log_level(prog, 4 | (getenv("BVS_VLOG") ? 2 : 0));
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load: %s\n%s\n", strerror(-err), vlog);
		return 1;
	}
	{
		/* last lines of a stats log: "processed N insns ..." */
		char *p = getenv("BVS_VLOG") ? NULL : strstr(vlog, "processed ");
		fprintf(stdout, "%s", p ? p : vlog);
	}
	err = bpf_program__pin(prog, prog_pin);
	if (err) {
		fprintf(stderr, "pin %s: %s\n", prog_pin, strerror(-err));
		return 1;
	}
	bpf_object__close(obj);
	return 0;
}

static int do_attach(const char *prog_pin, const char *ifname, const char *dir,
		     const char *link_pin)
{
	int prog_fd = bpf_obj_get(prog_pin), link_fd;
	unsigned int ifindex = if_nametoindex(ifname);
	int type = strcmp(dir, "egress") == 0 ? 47 /* BPF_TCX_EGRESS */ : 46 /* BPF_TCX_INGRESS */;

	if (prog_fd < 0 || !ifindex) {
		fprintf(stderr, "prog %s or dev %s: %s\n", prog_pin, ifname, strerror(errno));
		return 1;
	}
	link_fd = bpf_link_create(prog_fd, ifindex, type, NULL);
	if (link_fd < 0) {
		fprintf(stderr, "bpf_link_create: %s\n", strerror(errno));
		return 1;
	}
	if (bpf_obj_pin(link_fd, link_pin)) {
		fprintf(stderr, "pin link %s: %s\n", link_pin, strerror(errno));
		return 1;
	}
	return 0;
}

static int n_seen, n_max;

static void hex(const void *p, unsigned int n)
{
	const unsigned char *b = p;

	for (unsigned int i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static int on_upcall(void *ctx, void *data, size_t size)
{
	const struct bvs_upcall *u = data;

	(void)ctx;
	if (size < sizeof(*u)) {
		printf("short record %zu\n", size);
		return 0;
	}
	printf("%u %u %u %u %llu %u key=", u->type, u->port, u->pkt_len, u->cap_len,
	       (unsigned long long)u->cookie, u->pid);
	hex(&u->key, sizeof(u->key));
	printf(" data=");
	hex(u->data, u->cap_len <= BVS_UPCALL_SNAPLEN ? u->cap_len : 0);
	printf("\n");
	fflush(stdout);
	return ++n_seen >= n_max ? 1 : 0;
}

static int do_upcalls(const char *map_pin, int max, int timeout_ms)
{
	int fd = bpf_obj_get(map_pin);
	struct ring_buffer *rb;

	if (fd < 0) {
		fprintf(stderr, "map %s: %s\n", map_pin, strerror(errno));
		return 1;
	}
	n_max = max;
	rb = ring_buffer__new(fd, on_upcall, NULL, NULL);
	if (!rb)
		return 1;
	while (n_seen < n_max) {
		int r = ring_buffer__poll(rb, timeout_ms);

		if (r <= 0)
			break;
	}
	ring_buffer__free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "upcalls") == 0)
		return do_upcalls(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "load") == 0)
		return do_load(argv[2], argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "attach") == 0)
		return do_attach(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: bvs_load load OBJ PINROOT PROGPIN | attach PROGPIN IF DIR LINKPIN\n");
	return 2;
}
