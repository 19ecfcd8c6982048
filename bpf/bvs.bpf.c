// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bvs.bpf.c: the bvs datapath, one TC classifier program (bvs_ingress) for every port.
 *
 * Attach points. Userspace attaches bvs_ingress with a tcx link at TC ingress of each port
 * device, and at TC egress of an internal port's device (BVS_PORT_F_INTERNAL: what the host
 * sends out of it enters the switch; the switch delivers to it with BPF_F_INGRESS, i.e. into
 * the host stack, where no bvs program runs). Either way the device the program runs on
 * (skb->ifindex) is the in_port, found in ifindex_port; a device that is not a port gets
 * TC_ACT_OK and is left untouched. The program knows it runs at ingress when
 * skb->ingress_ifindex == skb->ifindex (the stack sets skb_iif before TC ingress; at egress it
 * is 0 or another device); only then may it use bpf_redirect_peer.
 *
 * Per packet: rx counters of the in_port -> parse the flow key (lib/parse.h) -> megaflow lookup
 * (lib/lookup.h: mask cache, then the mask slots in order) -> on a hit, flow stats (atomic, the
 * flow is shared by all CPUs) and the actions (lib/actions.h); on a miss, an upcall (lib/upcall.h)
 * and TC_ACT_SHOT: userspace installs the flow and re-injects the packet it got in the upcall.
 *
 * Maps (lib/maps.h): flows, masks, config, mask_cache, ports, ifindex_port, port_stats, dp_stats,
 * drop_stats, meters, upcalls; all LIBBPF_PIN_BY_NAME, so a loader with pin_root_path R pins them as
 * R/<name> and the next load reuses them (flows survive a daemon restart or program upgrade);
 * exec_scratch is per load and unpinned.
 * The object holds two programs: SEC("tc") bvs_ingress, attached to every port, and SEC("tc")
 * bvs_exec, the execute path, run by userspace with BPF_PROG_TEST_RUN (lib/exec.h).
 *
 * Upcall format: struct bvs_upcall in the ring buffer "upcalls"; data[] is the frame as on the
 * wire (an offloaded VLAN tag is re-inserted), see lib/upcall.h. Drop accounting: lib/stats.h.
 *
 * Verifier budget: everything is inlined except two global BPF subprograms, bvs_parse() and
 * bvs_action(), which the verifier checks once each with unknown arguments (their comments say
 * why). No map value pointer but the flow is held across the mask walk. bvs_ingress verifies
 * in ~19k processed instructions (limit 1M). libbpf links a copy of the two subprograms into
 * each program that calls them, so bvs_exec runs the very same parse and action code.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/lookup.h"
#include "lib/upcall.h"
#include "lib/actions.h"
#include "lib/exec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * BTF anchor: struct bvs_upcall is only used through a ring buffer pointer, which clang does not
 * describe in BTF, yet userspace's ABI test reads every bvs_abi.h layout from the object's BTF.
 * This variable sits in a section libbpf does not load (it skips unknown data sections), so it
 * costs no map and no memory in the kernel; it only carries the types.
 */
struct bvs_btf_anchor {
	struct bvs_upcall upcall;
	struct bvs_mask_cache_entry mask_cache_entry;
	struct bvs_flow_id flow_id;
	struct bvs_flow flow;
	struct bvs_mask mask;
	struct bvs_config config;
	struct bvs_port port;
	struct bvs_port_stats port_stats;
	struct bvs_dp_stats dp_stats;
	struct bvs_exec_req exec_req;
	struct bvs_meter meter;
	enum bvs_meter_band_type meter_band_type;
	enum bvs_frag frag;
	enum bvs_action_type action_type;
	enum bvs_drop_reason drop_reason;
	enum bvs_upcall_type upcall_type;
	enum bvs_exec_error exec_error;
};
struct bvs_btf_anchor bvs_btf_anchor __attribute__((section(".bvs_btf_anchor"), used));

static __always_inline void bvs_dp_count(__u32 field)
{
	struct bvs_dp_stats *dps = bvs_dp_stats();

	if (!dps)
		return;
	if (field == 0)
		dps->hit++;
	else if (field == 1)
		dps->missed++;
	else
		dps->lost++;
}

static __always_inline int bvs_miss(struct __sk_buff *skb, const struct bvs_ctx *c)
{
	bvs_dp_count(1);
	if (bvs_upcall(skb, &c->key, BVS_UPCALL_MISS, 0, 0)) {
		bvs_dp_count(2);
		bvs_count_drop(BVS_DROP_UPCALL_LOST);
		bvs_count_rx_dropped(c->key.in_port);
	} else {
		/* Not a port drop: userspace decides and re-injects. */
		bvs_count_drop(BVS_DROP_UPCALL);
	}
	return TC_ACT_SHOT;
}

/*
 * Verifier note: no map value pointer except the flow is kept across the lookup (see
 * lib/lookup.h); counters are looked up again where they are bumped.
 */
SEC("tc")
int bvs_ingress(struct __sk_buff *skb)
{
	struct bvs_ctx c = {};
	struct bvs_port_stats *in_ps;
	struct bvs_flow *flow;
	__u32 ifindex = skb->ifindex;
	__u32 *port_no;

	port_no = bpf_map_lookup_elem(&ifindex_port, &ifindex);
	if (!port_no)
		return TC_ACT_OK;
	c.key.in_port = *port_no;
	if (skb->ingress_ifindex == ifindex)
		c.flags |= BVS_CTX_AT_INGRESS;

	in_ps = bvs_port_stats(c.key.in_port);
	if (in_ps) {
		in_ps->rx_packets++;
		in_ps->rx_bytes += skb->len;
	}

	bvs_parse(skb, &c);

	flow = bvs_lookup(&c.key, bpf_get_hash_recalc(skb));
	if (!flow)
		return bvs_miss(skb, &c);

	bvs_dp_count(0);
	__sync_fetch_and_add(&flow->stats.packets, 1);
	__sync_fetch_and_add(&flow->stats.bytes, skb->len);
	flow->stats.used_ns = bpf_ktime_get_ns();
	if (c.key.tcp_flags)
		__sync_fetch_and_or(&flow->stats.tcp_flags, (__u32)bpf_ntohs(c.key.tcp_flags));

	if (flow->n_actions == 0) {
		bvs_count_drop(BVS_DROP_ACTION);
		bvs_count_rx_dropped(c.key.in_port);
		return TC_ACT_SHOT;
	}
	return bvs_execute(skb, &c, flow);
}

/*
 * The execute path: userspace runs [frame][struct bvs_exec_req] through this program with
 * BPF_PROG_TEST_RUN, and the frame is sent by the same action code as the fast path
 * (lib/exec.h). Never attached to a device.
 */
SEC("tc")
int bvs_exec(struct __sk_buff *skb)
{
	return bvs_exec_frame(skb);
}
