/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h: every map of the datapath. Names are ABI: userspace opens the pins by these names
 * (LIBBPF_PIN_BY_NAME under the loader's pin_root_path), so never rename one. Key and value types
 * are BTF types from bvs_abi.h so `bpftool map dump` prints structs, and so the ABI test can
 * compare layouts with the BTF of the object.
 *
 * Include this header from exactly one .c file (bvs.bpf.c): it defines the maps.
 */
#ifndef BVS_LIB_MAPS_H
#define BVS_LIB_MAPS_H

#include "common.h"

/*
 * The megaflow table. BPF_F_NO_PREALLOC: the datapath only looks up (userspace inserts and
 * deletes), so preallocation buys nothing on the BPF side, while a preallocated table of 65536
 * x (96 + 424 bytes + overhead) would pin ~40 MB per datapath whether used or not. A second
 * reason: a preallocated hash recycles a deleted element at once, so a CPU still holding the
 * value pointer could add stats into a flow that now belongs to another key; without prealloc
 * the element is freed after an RCU grace period, which covers our program run.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct bvs_flow_id);
	__type(value, struct bvs_flow);
	__uint(max_entries, BVS_DEFAULT_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_mask);
	__uint(max_entries, BVS_MAX_MASKS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} masks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_mask_cache_entry);
	__uint(max_entries, BVS_MASK_CACHE_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mask_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct bvs_port);
	__uint(max_entries, BVS_MAX_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, BVS_MAX_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ifindex_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, struct bvs_port_stats);
	__uint(max_entries, BVS_MAX_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_dp_stats);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, BVS_DROP_MAX_);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_stats SEC(".maps");

/*
 * Meters by datapath meter id (lib/meter.h). An array: the fast path looks a meter up by index
 * with no hashing, and an unused entry (n_bands 0) lets packets pass, as OVS does for a meter
 * that does not exist. 1024 x 272 bytes are preallocated per datapath.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_meter);
	__uint(max_entries, BVS_MAX_METERS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meters SEC(".maps");

/*
 * Upcalls. 2 MiB by default (userspace may size it at create: max_entries is a power of two of
 * at least a page). A record is 256 bytes for a packet of up to BVS_UPCALL_SMALL bytes and 2168
 * for a larger one, so the ring queues about 8000 small misses (a storm of new flows: SYNs, ARP,
 * pings) or 960 large ones while the single userspace consumer installs flows; a lost miss costs
 * a retransmit timeout (1 s for a TCP SYN). Every bridge has its own ring, mapped into the
 * daemon twice over (to read across the wrap) when it opens it: an 8 MiB ring cost 16.9 MiB of
 * resident memory per bridge, a 2 MiB one costs 4.9 (tests/daemon/bridge-cost.test.ts).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} upcalls SEC(".maps");

/*
 * bvs_exec's copy of the request trailer (lib/exec.h). Per CPU and not pinned: it holds one
 * request for the length of one program run. A test run executes with bottom halves disabled,
 * so nothing else can run bvs_exec on this CPU in between; bvs_ingress never touches it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct bvs_exec_req);
	__uint(max_entries, 1);
} exec_scratch SEC(".maps");

#endif /* BVS_LIB_MAPS_H */
