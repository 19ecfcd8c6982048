/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * common.h: includes, small macros and the per-packet context shared by the lib/ helpers.
 *
 * struct bvs_ctx lives on the BPF stack of bvs_ingress for the whole packet. It holds the
 * current flow key (the parser fills it; set/push/pop actions keep it in step with the bytes,
 * so a later action or a USERSPACE upcall sees the packet as it is now) and the header offsets
 * the actions need. Offsets are relative to skb->data (the Ethernet header at TC).
 */
#ifndef BVS_LIB_COMMON_H
#define BVS_LIB_COMMON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bvs_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define BVS_ETH_P_8021Q 0x8100
#define BVS_ETH_P_8021AD 0x88a8
#define BVS_ETH_P_ARP 0x0806
#define BVS_ETH_P_IP 0x0800
#define BVS_ETH_P_IPV6 0x86dd

#define BVS_IPPROTO_ICMP 1
#define BVS_IPPROTO_TCP 6
#define BVS_IPPROTO_UDP 17
#define BVS_IPPROTO_ICMPV6 58
#define BVS_IPPROTO_SCTP 132

/* bvs_ctx.flags */
#define BVS_CTX_L3_OK 0x1   /* an IPv4/IPv6 header was parsed completely at l2_len */
#define BVS_CTX_L4_OK 0x2   /* a TCP/UDP/SCTP/ICMP header was parsed completely at l4 offset */
#define BVS_CTX_AT_INGRESS 0x4 /* running at TC ingress (bpf_redirect_peer allowed) */

struct bvs_ctx {
	struct bvs_flow_key key; /* the packet's key as it is now (8-byte aligned: see lookup.h) */
	__u32 l2_len;  /* Ethernet header plus VLAN tags in the data; L3 starts here */
	__u32 l3_len;  /* IPv4 IHL*4 / IPv6 header plus extension headers; L4 at l2_len + l3_len */
	__u32 flags;   /* BVS_CTX_* */
	__u32 pad;
} __attribute__((aligned(8)));

/* Keep the compiler from folding a bound check into something the verifier cannot follow. */
#define bvs_barrier_var(v) asm volatile("" : "+r"(v))

#endif /* BVS_LIB_COMMON_H */
