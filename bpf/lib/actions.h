/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * actions.h: executes a megaflow's action list on the packet, in order (OVS semantics: a set
 * action changes what later outputs see).
 *
 * Contract of bvs_execute(): returns the TC verdict. Every OUTPUT except a final one sends a
 * copy with bpf_clone_redirect; an OUTPUT that is the last action uses bpf_redirect (or
 * bpf_redirect_peer for a BVS_PORT_F_PEER port when running at ingress) and its verdict is
 * returned. Otherwise the original is consumed with TC_ACT_SHOT. An INTERNAL port is delivered
 * to the host stack (BPF_F_INGRESS on its device).
 *
 * Offsets: c->l2_len is where L3 starts in the data. bpf_skb_vlan_push/pop move tags between
 * the data and skb metadata (push puts the new tag in metadata and moves an existing metadata
 * tag into the data; pop removes the metadata tag, else the data tag), so after either one
 * bvs_vlan_resync() re-reads the tags actually in the data and re-derives l2_len and
 * key.vlan_tci, rather than guessing. Set actions apply only when the packet really has that
 * header (IPv4 sets to a parsed IPv4 header; TCP/UDP sets to a parsed header of that protocol
 * that is not a later fragment); otherwise they are skipped, as OVS's set on a packet without
 * the header is a no-op.
 *
 * Checksums: bytes are stored without BPF_F_RECOMPUTE_CSUM, and every header change is paired
 * with a checksum fix (bpf_l3_csum_replace on the IPv4 header checksum; bpf_l4_csum_replace,
 * with BPF_F_PSEUDO_HDR for address changes, on the TCP/UDP checksum). Each pair leaves the
 * one's-complement sum of the packet unchanged except where the L4 helper accounts for it, so a
 * CHECKSUM_COMPLETE skb->csum stays right, and CHECKSUM_PARTIAL is handled by the helper.
 * BPF_F_MARK_MANGLED_0 keeps a zero UDP checksum ("none", RFC 768) at zero. Ethernet addresses
 * lie outside skb->csum (it starts at the network header), so set_eth needs no fix-up.
 */
#ifndef BVS_LIB_ACTIONS_H
#define BVS_LIB_ACTIONS_H

#include "common.h"
#include "stats.h"
#include "upcall.h"
#include "meter.h"

/* After a VLAN push/pop: re-read the tags in the data; set l2_len and key.vlan_tci. */
static __always_inline int bvs_vlan_resync(struct __sk_buff *skb, struct bvs_ctx *c)
{
	__be16 tci = 0, t;
	__u32 off = 12;

	if (skb->vlan_present)
		tci = bpf_htons((__u16)skb->vlan_tci | BVS_VLAN_CFI);
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (bpf_skb_load_bytes(skb, off, &t, 2))
			return -1;
		if (t != bpf_htons(BVS_ETH_P_8021Q) && t != bpf_htons(BVS_ETH_P_8021AD))
			break;
		if (!tci) {
			if (bpf_skb_load_bytes(skb, off + 2, &tci, 2))
				return -1;
			tci |= bpf_htons(BVS_VLAN_CFI);
		}
		off += 4;
	}
	if (bpf_skb_load_bytes(skb, off, &t, 2))
		return -1;
	c->key.vlan_tci = tci;
	c->l2_len = off + 2;
	/* More tags than we follow: the L3 offset is unknown, so no more L3/L4 sets. */
	if (t == bpf_htons(BVS_ETH_P_8021Q) || t == bpf_htons(BVS_ETH_P_8021AD))
		c->flags &= ~(BVS_CTX_L3_OK | BVS_CTX_L4_OK);
	return 0;
}

/* Sends the packet to port_no. last: this is the final action (redirect instead of a clone);
 * then *verdict gets the redirect verdict. Returns 1 when the packet (or copy) went out. */
static __always_inline int bvs_output(struct __sk_buff *skb, const struct bvs_ctx *c,
				      __u32 port_no, int last, int *verdict)
{
	const struct bvs_port *port = bpf_map_lookup_elem(&ports, &port_no);
	struct bvs_port_stats *ps;
	__u32 len = skb->len;
	__u64 flags;
	int ok;

	if (!port) {
		bvs_count_drop(BVS_DROP_NO_OUTPUT_PORT);
		return 0;
	}
	flags = (port->flags & BVS_PORT_F_INTERNAL) ? BPF_F_INGRESS : 0;
	if (!last) {
		ok = bpf_clone_redirect(skb, port->ifindex, flags) == 0;
	} else {
		long ret;

		/* redirect_peer only works from TC ingress; the skb then skips the veth backlog. */
		if ((port->flags & (BVS_PORT_F_PEER | BVS_PORT_F_INTERNAL)) == BVS_PORT_F_PEER &&
		    (c->flags & BVS_CTX_AT_INGRESS))
			ret = bpf_redirect_peer(port->ifindex, 0);
		else
			ret = bpf_redirect(port->ifindex, flags);
		ok = ret == TC_ACT_REDIRECT;
		*verdict = ok ? TC_ACT_REDIRECT : TC_ACT_SHOT;
	}
	ps = bvs_port_stats(port_no);
	if (ps) {
		if (ok) {
			ps->tx_packets++;
			ps->tx_bytes += len;
		} else {
			ps->tx_dropped++;
		}
	}
	if (!ok)
		bvs_count_drop(BVS_DROP_REDIRECT);
	return ok;
}

/* One IPv4 address: L4 pseudo-header checksum, header checksum, then the bytes. */
static __always_inline int bvs_set_ip4_addr(struct __sk_buff *skb, __u32 l3, __u32 field,
					    __u32 l4csum, __u64 l4flags, __be32 old, __be32 new)
{
	if (l4csum && bpf_l4_csum_replace(skb, l4csum, old, new, l4flags | BPF_F_PSEUDO_HDR | 4))
		return -1;
	if (bpf_l3_csum_replace(skb, l3 + 10, old, new, 4))
		return -1;
	return bpf_skb_store_bytes(skb, l3 + field, &new, 4, 0) ? -1 : 0;
}

/* One byte of the IPv4 header at field, inside the 16-bit word (hi<<8|lo) at field & ~1. */
static __always_inline int bvs_set_ip4_byte(struct __sk_buff *skb, __u32 l3, __u32 field,
					    __be16 oldw, __be16 neww, __u8 val)
{
	if (bpf_l3_csum_replace(skb, l3 + 10, oldw, neww, 2))
		return -1;
	return bpf_skb_store_bytes(skb, l3 + field, &val, 1, 0) ? -1 : 0;
}

static __always_inline int bvs_set_ipv4(struct __sk_buff *skb, struct bvs_ctx *c,
					const struct bvs_action *a)
{
	struct bvs_flow_key *k = &c->key;
	__u32 l3 = c->l2_len, l4csum = 0;
	__u64 l4flags = 0;
	__u8 vihl;

	if (k->eth_type != bpf_htons(BVS_ETH_P_IP) || !(c->flags & BVS_CTX_L3_OK))
		return 0;
	if ((c->flags & BVS_CTX_L4_OK) && k->ip_frag != BVS_FRAG_LATER) {
		if (k->ip_proto == BVS_IPPROTO_TCP) {
			l4csum = l3 + c->l3_len + 16;
		} else if (k->ip_proto == BVS_IPPROTO_UDP) {
			l4csum = l3 + c->l3_len + 6;
			l4flags = BPF_F_MARK_MANGLED_0;
		}
	}
	if ((a->flags & BVS_SET_SRC) && a->u.ipv4.src != k->ipv4_src) {
		if (bvs_set_ip4_addr(skb, l3, 12, l4csum, l4flags, k->ipv4_src, a->u.ipv4.src))
			return -1;
		k->ipv4_src = a->u.ipv4.src;
	}
	if ((a->flags & BVS_SET_DST) && a->u.ipv4.dst != k->ipv4_dst) {
		if (bvs_set_ip4_addr(skb, l3, 16, l4csum, l4flags, k->ipv4_dst, a->u.ipv4.dst))
			return -1;
		k->ipv4_dst = a->u.ipv4.dst;
	}
	vihl = 0x40 | (__u8)(c->l3_len >> 2);
	if ((a->flags & BVS_SET_TOS) && a->u.ipv4.tos != k->ip_tos) {
		if (bvs_set_ip4_byte(skb, l3, 1, bpf_htons((__u16)vihl << 8 | k->ip_tos),
				     bpf_htons((__u16)vihl << 8 | a->u.ipv4.tos), a->u.ipv4.tos))
			return -1;
		k->ip_tos = a->u.ipv4.tos;
	}
	if ((a->flags & BVS_SET_TTL) && a->u.ipv4.ttl != k->ip_ttl) {
		if (bvs_set_ip4_byte(skb, l3, 8, bpf_htons((__u16)k->ip_ttl << 8 | k->ip_proto),
				     bpf_htons((__u16)a->u.ipv4.ttl << 8 | k->ip_proto),
				     a->u.ipv4.ttl))
			return -1;
		k->ip_ttl = a->u.ipv4.ttl;
	}
	return 0;
}

/* SET_TCP / SET_UDP ports (IPv4 or IPv6), with the L4 checksum fixed. */
static __always_inline int bvs_set_l4(struct __sk_buff *skb, struct bvs_ctx *c,
				      const struct bvs_action *a, __u8 proto)
{
	struct bvs_flow_key *k = &c->key;
	__u32 l4, csum;
	__u64 l4flags;

	if (!(c->flags & BVS_CTX_L4_OK) || k->ip_proto != proto || k->ip_frag == BVS_FRAG_LATER)
		return 0;
	if (k->eth_type != bpf_htons(BVS_ETH_P_IP) && k->eth_type != bpf_htons(BVS_ETH_P_IPV6))
		return 0;
	l4 = c->l2_len + c->l3_len;
	csum = l4 + (proto == BVS_IPPROTO_TCP ? 16 : 6);
	l4flags = proto == BVS_IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	if ((a->flags & BVS_SET_SRC) && a->u.l4.src != k->tp_src) {
		if (bpf_l4_csum_replace(skb, csum, k->tp_src, a->u.l4.src, l4flags | 2) ||
		    bpf_skb_store_bytes(skb, l4, &a->u.l4.src, 2, 0))
			return -1;
		k->tp_src = a->u.l4.src;
	}
	if ((a->flags & BVS_SET_DST) && a->u.l4.dst != k->tp_dst) {
		if (bpf_l4_csum_replace(skb, csum, k->tp_dst, a->u.l4.dst, l4flags | 2) ||
		    bpf_skb_store_bytes(skb, l4 + 2, &a->u.l4.dst, 2, 0))
			return -1;
		k->tp_dst = a->u.l4.dst;
	}
	return 0;
}

static __always_inline int bvs_set_eth(struct __sk_buff *skb, struct bvs_ctx *c,
				       const struct bvs_action *a)
{
	if (a->flags & BVS_SET_DST) {
		if (bpf_skb_store_bytes(skb, 0, a->u.eth.dst, 6, 0))
			return -1;
		__builtin_memcpy(c->key.eth_dst, a->u.eth.dst, 6);
	}
	if (a->flags & BVS_SET_SRC) {
		if (bpf_skb_store_bytes(skb, 6, a->u.eth.src, 6, 0))
			return -1;
		__builtin_memcpy(c->key.eth_src, a->u.eth.src, 6);
	}
	return 0;
}

/* IPv6 traffic class: bits 4..11 of the header's first word. No header checksum; the store
 * keeps a CHECKSUM_COMPLETE skb->csum right (BPF_F_RECOMPUTE_CSUM), as L4 sums omit it. */
static __always_inline int bvs_set_ip6_tclass(struct __sk_buff *skb, struct bvs_ctx *c, __u8 tc)
{
	__be16 w;

	if (bpf_skb_load_bytes(skb, c->l2_len, &w, 2))
		return -1;
	w = bpf_htons((bpf_ntohs(w) & 0xf00f) | ((__u16)tc << 4));
	if (bpf_skb_store_bytes(skb, c->l2_len, &w, 2, BPF_F_RECOMPUTE_CSUM))
		return -1;
	c->key.ip_tos = tc;
	return 0;
}

/* METER: 1 when the meter dropped the packet (counted; the list stops), 0 when it passes
 * (remarked if a DSCP_REMARK band applied), -1 when the remark failed. */
static __always_inline int bvs_meter_action(struct __sk_buff *skb, struct bvs_ctx *c, __u32 id)
{
	struct bvs_action set = {};
	__u8 prec = 0, tos;
	int v = bvs_meter_run(id, skb->len, &prec);

	if (v == BVS_METER_DROP) {
		bvs_count_drop(BVS_DROP_METER);
		return 1;
	}
	if (v != BVS_METER_REMARK || !(c->flags & BVS_CTX_L3_OK))
		return 0;
	tos = bvs_dscp_remark(c->key.ip_tos, prec);
	if (tos == c->key.ip_tos)
		return 0;
	if (c->key.eth_type == bpf_htons(BVS_ETH_P_IPV6))
		return bvs_set_ip6_tclass(skb, c, tos);
	set.flags = BVS_SET_TOS;
	set.u.ipv4.tos = tos;
	return bvs_set_ipv4(skb, c, &set);
}

/* What the action list did so far; shared by bvs_execute() and bvs_action(). */
struct bvs_exec {
	__u32 last;     /* in: the action is the last of the list */
	__s32 verdict;  /* out: the verdict of a final OUTPUT (TC_ACT_REDIRECT or TC_ACT_SHOT) */
	__u32 outputs;  /* packets (or copies) that went out */
	__u32 sent_up;  /* USERSPACE upcalls sent */
	__u32 failed;   /* a failure was counted in drop_stats */
	__u32 pad;
};

/*
 * Runs one action. Returns 0; -1 when a set/push/pop helper failed; 1 when a meter dropped
 * the packet. Either non-zero value ends the list.
 *
 * Global and not inlined on purpose: the verifier checks it once with unknown arguments. Inlined
 * into the bounded loop of bvs_execute(), every combination of action outcomes across 16
 * iterations was a distinct verifier state (the loop exceeded the 1M instruction limit).
 */
__attribute__((noinline)) int bvs_action(struct __sk_buff *skb, struct bvs_ctx *c,
					 const struct bvs_action *a, struct bvs_exec *st)
{
	struct bvs_dp_stats *dps;
	int err = 0, verdict = TC_ACT_SHOT;

	if (!skb || !c || !a || !st)
		return -1;
	switch (a->type) {
	case BVS_ACTION_OUTPUT:
		if (bvs_output(skb, c, a->port, st->last, &verdict)) {
			st->outputs++;
		} else {
			st->failed = 1;
		}
		if (st->last)
			st->verdict = verdict;
		break;
	case BVS_ACTION_USERSPACE:
		if (bvs_upcall(skb, &c->key, BVS_UPCALL_ACTION, a->u.cookie, a->port)) {
			dps = bvs_dp_stats();
			if (dps)
				dps->lost++;
			bvs_count_drop(BVS_DROP_UPCALL_LOST);
			st->failed = 1;
		} else {
			st->sent_up++;
		}
		break;
	case BVS_ACTION_PUSH_VLAN:
		err = bpf_skb_vlan_push(skb, a->u.push_vlan.tpid,
					bpf_ntohs(a->u.push_vlan.tci) & ~BVS_VLAN_CFI);
		if (!err)
			err = bvs_vlan_resync(skb, c);
		break;
	case BVS_ACTION_POP_VLAN:
		err = bpf_skb_vlan_pop(skb);
		if (!err)
			err = bvs_vlan_resync(skb, c);
		break;
	case BVS_ACTION_SET_ETH:
		err = bvs_set_eth(skb, c, a);
		break;
	case BVS_ACTION_SET_IPV4:
		err = bvs_set_ipv4(skb, c, a);
		break;
	case BVS_ACTION_SET_TCP:
		err = bvs_set_l4(skb, c, a, BVS_IPPROTO_TCP);
		break;
	case BVS_ACTION_SET_UDP:
		err = bvs_set_l4(skb, c, a, BVS_IPPROTO_UDP);
		break;
	case BVS_ACTION_METER:
		err = bvs_meter_action(skb, c, a->port);
		if (err > 0)
			return 1;
		break;
	default:
		/* Unknown type: userspace validates lists, so skip rather than guess. */
		break;
	}
	if (err) {
		bvs_count_drop(BVS_DROP_ACTION_FAILED);
		st->failed = 1;
		return -1;
	}
	return 0;
}

/* Counts a packet the datapath dropped for good on its in_port (slow path: looks it up). */
static __always_inline void bvs_count_rx_dropped(__u32 in_port)
{
	struct bvs_port_stats *ps = bvs_port_stats(in_port);

	if (ps)
		ps->rx_dropped++;
}

/* Runs flow's actions; returns the TC verdict. */
static __always_inline int bvs_execute(struct __sk_buff *skb, struct bvs_ctx *c,
				       const struct bvs_flow *flow)
{
	struct bvs_exec st = {};
	__u32 n = flow->n_actions, i;

	/* Set here, not in the initializer: a non-zero initializer becomes a .rodata map. */
	st.verdict = TC_ACT_SHOT;

	if (n > BVS_MAX_ACTIONS)
		n = BVS_MAX_ACTIONS;
	for (i = 0; i < BVS_MAX_ACTIONS; i++) {
		if (i >= n)
			break;
		st.last = i + 1 == n;
		int r = bvs_action(skb, c, &flow->actions[i], &st);

		if (r) {
			/* As OVS: a failed action ends the list and drops what is left. A meter drop
			 * is the flow's policy, not a port drop: counted in drop_stats only. */
			if (r < 0)
				bvs_count_rx_dropped(c->key.in_port);
			return TC_ACT_SHOT;
		}
	}
	if (st.verdict == TC_ACT_REDIRECT)
		return TC_ACT_REDIRECT;
	if (!st.outputs && !st.sent_up) {
		/* Nothing left the datapath: a drop flow (n_actions 0, or no output that worked). */
		if (!st.failed)
			bvs_count_drop(BVS_DROP_ACTION);
		bvs_count_rx_dropped(c->key.in_port);
	}
	return TC_ACT_SHOT;
}

#endif /* BVS_LIB_ACTIONS_H */
