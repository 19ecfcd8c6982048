/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kern.h: facts about a packet that struct __sk_buff does not expose, read from the kernel's
 * struct sk_buff with CO-RE (bpf_cast_to_kern_ctx, kernel 6.3+). Only the fields below are
 * declared; libbpf matches them by name against the running kernel's BTF, so their offsets
 * follow the kernel, and a kernel without them fails the load with a clear relocation error.
 */
#ifndef BVS_LIB_KERN_H
#define BVS_LIB_KERN_H

#include "common.h"
#include <bpf/bpf_core_read.h>

struct sk_buff___bvs {
	__u16 mac_header;   /* offset of the Ethernet header from skb->head */
	__u16 csum_start;   /* CHECKSUM_PARTIAL: where the checksummed bytes start, from head */
	__u16 csum_offset;  /* CHECKSUM_PARTIAL: where the checksum goes, from csum_start */
	__u8 ip_summed:2;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define BVS_CHECKSUM_PARTIAL 3

/*
 * When the packet's L4 checksum is unfinished (CHECKSUM_PARTIAL: the sender's stack left it to
 * the NIC, which a veth never finishes), sets *start to where the checksummed bytes begin,
 * counted from the Ethernet header, and *off to where the checksum sits from there. Otherwise
 * both are 0 (the bytes are complete as they are).
 */
static __always_inline void bvs_csum_partial(struct __sk_buff *ctx, __u16 *start, __u16 *off)
{
	struct sk_buff___bvs *skb = bpf_cast_to_kern_ctx(ctx);
	__u16 cs, mh;

	*start = 0;
	*off = 0;
	if (BPF_CORE_READ_BITFIELD(skb, ip_summed) != BVS_CHECKSUM_PARTIAL)
		return;
	cs = skb->csum_start;
	mh = skb->mac_header;
	if (cs <= mh)
		return;
	*start = cs - mh;
	*off = skb->csum_offset;
}

#endif /* BVS_LIB_KERN_H */
