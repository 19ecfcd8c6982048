/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * stats.h: per-CPU counters. TC programs run with migration disabled, so a plain increment of a
 * per-CPU value is exact; no atomics are needed here (flow stats, shared by all CPUs, use
 * atomics in bvs.bpf.c).
 *
 * Where drops are counted (drop_stats is indexed by -enum bvs_drop_reason):
 *   BVS_DROP_ACTION         flow hit with n_actions == 0, or whose actions output nothing
 *                           (and sent nothing to userspace)
 *   BVS_DROP_UPCALL         a miss, sent to userspace (which re-injects it); not a port drop
 *   BVS_DROP_UPCALL_LOST    ring buffer full (miss or USERSPACE action)
 *   BVS_DROP_NO_OUTPUT_PORT an OUTPUT named a port missing from the ports map
 *   BVS_DROP_REDIRECT       bpf_clone_redirect/bpf_redirect returned an error
 *   BVS_DROP_ACTION_FAILED  a set/push/pop helper failed; the action list stops there
 *   BVS_DROP_METER          a meter's drop band applied (lib/meter.h); not a port drop
 * Port counters: rx_* for every packet the program sees on a port; rx_dropped when the datapath
 * drops the packet for good (ACTION, UPCALL_LOST on a miss, ACTION_FAILED, or no output at
 * all); tx_* per successful output; tx_dropped when an output to that port failed.
 */
#ifndef BVS_LIB_STATS_H
#define BVS_LIB_STATS_H

#include "common.h"

static __always_inline struct bvs_dp_stats *bvs_dp_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dp_stats, &zero);
}

static __always_inline void bvs_count_drop(int reason)
{
	__u32 idx = (__u32)(-reason);
	__u64 *cnt;

	if (idx >= BVS_DROP_MAX_)
		return;
	cnt = bpf_map_lookup_elem(&drop_stats, &idx);
	if (cnt)
		*cnt += 1;
}

/* The counters of port_no, created (zeroed) on first use if userspace did not create them. */
static __always_inline struct bvs_port_stats *bvs_port_stats(__u32 port_no)
{
	struct bvs_port_stats *ps;

	ps = bpf_map_lookup_elem(&port_stats, &port_no);
	if (ps)
		return ps;

	struct bvs_port_stats zero = {};

	/* NOEXIST: a racing CPU (or userspace) that created it first wins; then look it up. */
	bpf_map_update_elem(&port_stats, &port_no, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&port_stats, &port_no);
}

#endif /* BVS_LIB_STATS_H */
