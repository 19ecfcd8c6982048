/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * meter.h: OpenFlow meters in the datapath (the action BVS_ACTION_METER), after OVS's
 * dp_netdev_run_meter (lib/dpif-netdev.c), one packet at a time.
 *
 * A meter has up to BVS_METER_MAX_BANDS bands, each a token bucket (units: bvs_abi.h). For each
 * packet, under the meter's spin lock:
 *   1. every bucket is refilled for the time since the last packet (at most max_delta_ns worth,
 *      never above capacity), and last_ns moves to now;
 *   2. the meter counts the packet in (packets, bytes);
 *   3. each band whose bucket holds the packet's cost pays it; a band whose bucket does not is
 *      exceeded, and keeps what it has;
 *   4. of the exceeded bands, the one with the highest rate applies (OpenFlow 1.3 §5.7.1), and
 *      counts the packet.
 * The caller then drops the packet (DROP band) or raises its DSCP drop precedence
 * (DSCP_REMARK); with no band exceeded, the packet passes unchanged.
 *
 * Why a spin lock, not per-CPU buckets: a meter bounds the rate of a flow whatever CPU its
 * packets arrive on; per-CPU buckets would let N CPUs pass N times the rate. The locked region
 * is a few dozen instructions with no helper call (the verifier forbids calls under the lock:
 * the clock is read before it). bpf_ktime_get_ns() is read before the lock, so two CPUs can
 * present times slightly out of order: a time before last_ns credits nothing.
 *
 * A meter id out of range, or an entry with n_bands 0 (no meter), lets the packet pass: OVS's
 * datapaths do the same for a meter that does not exist. Userspace deletes the flows that use a
 * meter when it deletes the meter, so that only happens for a moment.
 */
#ifndef BVS_LIB_METER_H
#define BVS_LIB_METER_H

#include "common.h"
#include "maps.h"

enum bvs_meter_verdict {
	BVS_METER_PASS = 0,
	BVS_METER_DROP = 1,
	BVS_METER_REMARK = 2,
};

/* Runs meter `id` on a packet of `len` bytes. Returns enum bvs_meter_verdict; for REMARK,
 * *prec_level is the band's. */
static __always_inline int bvs_meter_run(__u32 id, __u32 len, __u8 *prec_level)
{
	struct bvs_meter *m;
	struct bvs_meter_band *hit = 0;
	__u64 now = bpf_ktime_get_ns(), delta = 0, cost, hit_rate = 0;
	__u32 i, n, type = 0;

	m = bpf_map_lookup_elem(&meters, &id);
	if (!m)
		return BVS_METER_PASS;

	bpf_spin_lock(&m->lock);
	n = m->n_bands;
	if (n == 0) {
		bpf_spin_unlock(&m->lock);
		return BVS_METER_PASS;
	}
	if (now > m->last_ns) {
		delta = now - m->last_ns;
		m->last_ns = now;
	}
	m->packets++;
	m->bytes += len;
	cost = (__u64)len * m->byte_cost + m->packet_cost;
#pragma unroll
	for (i = 0; i < BVS_METER_MAX_BANDS; i++) {
		struct bvs_meter_band *b = &m->bands[i];
		__u64 d, t;

		if (i >= n)
			break;
		d = delta < b->max_delta_ns ? delta : b->max_delta_ns;
		t = b->tokens + d * b->rate;
		if (t > b->capacity)
			t = b->capacity;
		if (t >= cost) {
			b->tokens = t - cost;
			continue;
		}
		b->tokens = t;
		if (!hit || b->rate > hit_rate) {
			hit = b;
			hit_rate = b->rate;
		}
	}
	if (hit) {
		hit->packets++;
		hit->bytes += len;
		type = hit->type;
		*prec_level = hit->prec_level;
	}
	bpf_spin_unlock(&m->lock);

	if (type == BVS_METER_BAND_DROP)
		return BVS_METER_DROP;
	if (type == BVS_METER_BAND_DSCP_REMARK)
		return BVS_METER_REMARK;
	return BVS_METER_PASS;
}

/*
 * The TOS byte (DSCP << 2 | ECN) with the drop precedence raised by prec_level, or tos itself.
 * Drop precedence exists only in the Assured Forwarding codepoints (RFC 2597: AFcd is class c
 * 1..4 and drop precedence d 1..3, DSCP = 8c + 2d): low (1) and medium (2) rise, capped at
 * high (3); any other codepoint (best effort, EF, class selectors) has no precedence to raise
 * and stays as it is, as in ofsoftswitch13, the OpenFlow reference switch.
 */
static __always_inline __u8 bvs_dscp_remark(__u8 tos, __u8 prec_level)
{
	__u8 cls = tos >> 5, dp = (tos >> 3) & 3, ndp;

	if (cls < 1 || cls > 4 || (tos & 0x04) || dp < 1 || dp > 2)
		return tos;
	ndp = prec_level >= 3 - dp ? 3 : dp + prec_level;
	return (tos & ~0x18) | (ndp << 3);
}

#endif /* BVS_LIB_METER_H */
