/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h: flow key extraction, per the field comments of struct bvs_flow_key in bvs_abi.h.
 *
 * Contract: bvs_parse() fills c->key (in_port is set by the caller) and the offsets in c. A
 * field the packet does not really carry stays 0: a truncated or malformed header leaves its own
 * fields and everything after it at 0, and nothing beyond skb->len is ever read.
 *
 * Packet access: direct packet access (data/data_end) with a bounds check for the headers at
 * fixed offsets (Ethernet, VLAN, ARP, the fixed IPv4/IPv6 header): a couple of instructions
 * where bpf_skb_load_bytes is a helper call plus a copy. Headers at variable offsets (IPv6
 * extension headers, L4 after IPv4 options or extension headers) are copied with
 * bpf_skb_load_bytes instead: a variable offset added to a packet pointer becomes "precise" for
 * the verifier, so every distinct offset range (per extension header walk step) was verified as
 * its own state (~70k instructions processed for this function alone); an offset passed to a
 * helper is not tracked that way. That is one helper call per packet for L4.
 * When a header lies beyond the linear part of a non-linear skb (GRO/GSO skbs from veth, or
 * skbs built from page frags) and the packet is long enough to contain it, bvs_hdr() pulls it
 * into the linear part with bpf_skb_pull_data() and retries. That pull is rare (stacks put the
 * headers in the linear part) and costs a copy only then. The helper invalidates packet
 * pointers, so every header is read into locals before the next bvs_hdr() call and no pointer
 * is kept across calls.
 *
 * Choices where the packet is odd (as the OVS kernel datapath, datapath/flow.c, except where
 * noted):
 *  - One VLAN tag goes in the key. An offloaded tag (skb->vlan_present, from rx VLAN
 *    acceleration, e.g. on veth) is not in the data; then the data's ethertype at 12 is the
 *    inner one. A second tag (QinQ) is not parsed: eth_type = 0x8100/0x88a8, no L3 fields.
 *    A truncated tag: vlan_tci 0, eth_type = the TPID, nothing further.
 *  - An 802.3 length field (< 0x600) gives eth_type 0x05ff, OVS userspace's FLOW_DL_TYPE_NONE
 *    (the OVS kernel says ETH_P_802_2 and odp-util translates; we skip the translation). No
 *    LLC/SNAP parsing.
 *  - IPv4 needs version 4, IHL >= 5 and the whole header (with options) within the packet;
 *    otherwise no IP field is set. An IPv6 header needs version 6 and 40 bytes.
 *  - ICMP/ICMPv6 need the 8-byte header, TCP needs doff >= 5 and doff*4 bytes, UDP 8, SCTP 12;
 *    otherwise tp_* stay 0. L4 is not parsed for a later fragment.
 *  - IPv6: up to BVS_IPV6_MAX_EXT extension headers (hop-by-hop, routing, destination options,
 *    AH, fragment) are walked; ip_proto is the first header that is not one of those. If the
 *    walk is cut short (truncated extension header, or too many), ip_proto is the extension
 *    header type where it stopped and there are no L4 fields. A fragment header with offset 0
 *    gives BVS_FRAG_FIRST (even with M = 0, as OVS), offset != 0 gives BVS_FRAG_LATER.
 */
#ifndef BVS_LIB_PARSE_H
#define BVS_LIB_PARSE_H

#include "common.h"

#define BVS_PARSE_MAX_OFF 0x3fff /* deepest header offset we look at */
#define BVS_IPV6_MAX_EXT 8

/*
 * A pointer to len bytes at off in the packet, or NULL when the packet is shorter. len must be a
 * compile-time constant (it is, at every call site, after inlining).
 */
static __always_inline void *bvs_hdr(struct __sk_buff *skb, __u32 off, const __u32 len)
{
	void *data, *end;

	if (off > BVS_PARSE_MAX_OFF)
		return NULL;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + off + len <= end)
		return data + off;
	if (off + len > skb->len)
		return NULL;
	if (bpf_skb_pull_data(skb, off + len))
		return NULL;
	/* Forget derived ctx addresses: the verifier rejects loads through ctx + const (clang
	 * would reuse &skb->data_end from above). */
	bvs_barrier_var(skb);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + off + len > end)
		return NULL;
	return data + off;
}

struct bvs_arp_eth {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
} __attribute__((packed));

static __always_inline void bvs_parse_arp(struct __sk_buff *skb, struct bvs_ctx *c, __u32 off)
{
	struct bvs_arp_eth *arp = bvs_hdr(skb, off, sizeof(*arp));
	struct bvs_flow_key *k = &c->key;

	if (!arp)
		return;
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(BVS_ETH_P_IP) ||
	    arp->hlen != 6 || arp->plen != 4)
		return;
	if (bpf_ntohs(arp->op) <= 0xff)
		k->ip_proto = bpf_ntohs(arp->op);
	__builtin_memcpy(&k->ipv4_src, arp->sip, 4);
	__builtin_memcpy(&k->ipv4_dst, arp->tip, 4);
	__builtin_memcpy(k->arp_sha, arp->sha, 6);
	__builtin_memcpy(k->arp_tha, arp->tha, 6);
}

/* L4 at off for IP protocol proto; is_v6 selects ICMPv6 over ICMP. Copies with
 * bpf_skb_load_bytes (see the note at the top: variable offsets). */
static __always_inline void bvs_parse_l4(struct __sk_buff *skb, struct bvs_ctx *c, __u32 off,
					 __u8 proto, int is_v6)
{
	struct bvs_flow_key *k = &c->key;
	__u8 h[20] __attribute__((aligned(8)));

	if (proto == BVS_IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, off, h, 20))
			return;
		__u32 doff = h[12] >> 4;

		if (doff < 5 || off + doff * 4 > skb->len)
			return;
		k->tcp_flags = *(__be16 *)&h[12] & bpf_htons(0x0fff);
	} else if (proto == BVS_IPPROTO_UDP) {
		if (bpf_skb_load_bytes(skb, off, h, 8))
			return;
	} else if (proto == BVS_IPPROTO_SCTP) {
		if (bpf_skb_load_bytes(skb, off, h, 12))
			return;
	} else if ((proto == BVS_IPPROTO_ICMP && !is_v6) ||
		   (proto == BVS_IPPROTO_ICMPV6 && is_v6)) {
		if (bpf_skb_load_bytes(skb, off, h, 8))
			return;
		k->tp_src = bpf_htons(h[0]);
		k->tp_dst = bpf_htons(h[1]);
		c->flags |= BVS_CTX_L4_OK;
		return;
	} else {
		return;
	}
	k->tp_src = *(__be16 *)&h[0];
	k->tp_dst = *(__be16 *)&h[2];
	c->flags |= BVS_CTX_L4_OK;
}

static __always_inline void bvs_parse_ipv4(struct __sk_buff *skb, struct bvs_ctx *c, __u32 off)
{
	struct bvs_flow_key *k = &c->key;
	__u8 *ip = bvs_hdr(skb, off, 20);
	__u32 hlen;
	__u16 frag;

	if (!ip)
		return;
	if ((ip[0] >> 4) != 4)
		return;
	hlen = (ip[0] & 0xf) * 4;
	if (hlen < 20 || off + hlen > skb->len)
		return;
	k->ip_tos = ip[1];
	k->ip_ttl = ip[8];
	k->ip_proto = ip[9];
	k->ipv4_src = *(__be32 *)&ip[12];
	k->ipv4_dst = *(__be32 *)&ip[16];
	frag = bpf_ntohs(*(__be16 *)&ip[6]);
	if (frag & 0x1fff)
		k->ip_frag = BVS_FRAG_LATER;
	else if (frag & 0x2000)
		k->ip_frag = BVS_FRAG_FIRST;
	c->l3_len = hlen;
	c->flags |= BVS_CTX_L3_OK;
	if (k->ip_frag == BVS_FRAG_LATER)
		return;
	bvs_parse_l4(skb, c, off + hlen, k->ip_proto, 0);
}

static __always_inline void bvs_parse_ipv6(struct __sk_buff *skb, struct bvs_ctx *c, __u32 off)
{
	struct bvs_flow_key *k = &c->key;
	__u8 *ip = bvs_hdr(skb, off, 40);
	__u32 ext = off + 40, w, i;
	__u8 nh;

	if (!ip)
		return;
	w = bpf_ntohl(*(__be32 *)&ip[0]);
	if ((w >> 28) != 6)
		return;
	k->ip_tos = (w >> 20) & 0xff;
	k->ipv6_label = bpf_htonl(w & 0xfffff);
	k->ip_ttl = ip[7];
	nh = ip[6];
	__builtin_memcpy(k->ipv6_src, &ip[8], 16);
	__builtin_memcpy(k->ipv6_dst, &ip[24], 16);

	for (i = 0; i < BVS_IPV6_MAX_EXT; i++) {
		__u8 h[8] __attribute__((aligned(8)));
		__u32 len;

		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			if (bpf_skb_load_bytes(skb, ext, h, 2))
				break;
			len = nh == 51 ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
			if (ext + len > skb->len)
				break;
			nh = h[0];
			ext += len;
		} else if (nh == 44) {
			if (bpf_skb_load_bytes(skb, ext, h, 8))
				break;
			nh = h[0];
			ext += 8;
			if (bpf_ntohs(*(__be16 *)&h[2]) & 0xfff8) {
				k->ip_frag = BVS_FRAG_LATER;
				k->ip_proto = nh;
				c->l3_len = ext - off;
				c->flags |= BVS_CTX_L3_OK;
				return;
			}
			k->ip_frag = BVS_FRAG_FIRST;
		} else {
			k->ip_proto = nh;
			c->l3_len = ext - off;
			c->flags |= BVS_CTX_L3_OK;
			bvs_parse_l4(skb, c, ext, nh, 1);
			return;
		}
	}
	/* Cut short: nh is the extension header we could not walk; no L4 fields. */
	k->ip_proto = nh;
}

static __always_inline void bvs_parse_frame(struct __sk_buff *skb, struct bvs_ctx *c)
{
	struct bvs_flow_key *k = &c->key;
	__u8 *eth = bvs_hdr(skb, 0, ETH_HLEN);
	__u32 off = ETH_HLEN;
	__be16 proto;

	if (!eth)
		return;
	__builtin_memcpy(k->eth_dst, &eth[0], 6);
	__builtin_memcpy(k->eth_src, &eth[6], 6);
	proto = *(__be16 *)&eth[12];

	if (skb->vlan_present) {
		k->vlan_tci = bpf_htons((__u16)skb->vlan_tci | BVS_VLAN_CFI);
	} else if (proto == bpf_htons(BVS_ETH_P_8021Q) || proto == bpf_htons(BVS_ETH_P_8021AD)) {
		__be16 *vh = bvs_hdr(skb, ETH_HLEN, 4);

		if (!vh) {
			k->eth_type = proto;
			return;
		}
		k->vlan_tci = vh[0] | bpf_htons(BVS_VLAN_CFI);
		proto = vh[1];
		off += 4;
	}
	if (bpf_ntohs(proto) < 0x600)
		proto = bpf_htons(0x05ff);
	k->eth_type = proto;
	c->l2_len = off;

	if (proto == bpf_htons(BVS_ETH_P_IP))
		bvs_parse_ipv4(skb, c, off);
	else if (proto == bpf_htons(BVS_ETH_P_IPV6))
		bvs_parse_ipv6(skb, c, off);
	else if (proto == bpf_htons(BVS_ETH_P_ARP))
		bvs_parse_arp(skb, c, off);
}

/*
 * Fills c->key (except in_port) and c->l2_len/l3_len/flags from the packet. Returns 0, or -1
 * when c is NULL.
 *
 * A global (not static, not inlined) function on purpose: the verifier checks it once, on its
 * own, with *c unknown. Inlined, every parse outcome (ARP, IPv4 with or without L4, IPv6 and
 * its extension header walk, truncations) reached the megaflow lookup loop as a separate state
 * and each walked it again (~70k insns processed for the whole program instead of a few
 * thousand). The price is one BPF-to-BPF call per packet.
 */
__attribute__((noinline)) int bvs_parse(struct __sk_buff *skb, struct bvs_ctx *c)
{
	if (!c)
		return -1;
	bvs_parse_frame(skb, c);
	return 0;
}

#endif /* BVS_LIB_PARSE_H */
