/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * upcall.h: packets to userspace through the "upcalls" ring buffer (struct bvs_upcall).
 *
 * Record format (ABI, see bvs_abi.h): type, port (= key.in_port), pkt_len, cap_len, cookie,
 * pid, where an unfinished L4 checksum is (csum_start/csum_offset, lib/kern.h), the flow key,
 * then cap_len bytes of the frame. The key is the packet's key at the time
 * of the upcall (for a USERSPACE action after set actions: the modified packet, as the bytes).
 *
 * data[] is the frame as on the wire: when the VLAN tag sits in skb metadata
 * (skb->vlan_present, rx VLAN acceleration), the 4-byte tag (skb->vlan_proto, skb->vlan_tci) is
 * inserted after the MAC addresses, and pkt_len counts it (skb->len + 4). Userspace can
 * re-inject data[] as is. cap_len = min(pkt_len, BVS_UPCALL_SNAPLEN); bytes of data[] beyond
 * cap_len are stale and must be ignored.
 *
 * Never blocks: when the ring is full, bpf_ringbuf_reserve fails and the caller counts it as
 * lost. Records are a fixed 2168 bytes (the verifier needs a constant reserve size).
 */
#ifndef BVS_LIB_UPCALL_H
#define BVS_LIB_UPCALL_H

#include "common.h"
#include "kern.h"

/* Copies min(want, room) bytes from off into dst; room is a constant. Returns bytes copied. */
static __always_inline __u32 bvs_copy_pkt(struct __sk_buff *skb, __u32 off, __u8 *dst,
					  __u32 want, const __u32 room)
{
	__u32 n = want;

	if (n > room)
		n = room;
	bvs_barrier_var(n);
	if (n == 0 || n > room)
		return 0;
	if (bpf_skb_load_bytes(skb, off, dst, n))
		return 0;
	return n;
}

/* Sends the packet up. Returns 0, or -1 when the ring was full (nothing sent). */
static __always_inline int bvs_upcall(struct __sk_buff *skb, const struct bvs_flow_key *key,
				      __u32 type, __u64 cookie, __u32 pid)
{
	struct bvs_upcall *up;
	__u32 len = skb->len;

	up = bpf_ringbuf_reserve(&upcalls, sizeof(*up), 0);
	if (!up)
		return -1;
	up->type = type;
	up->port = key->in_port;
	up->cookie = cookie;
	up->pid = pid;
	bvs_csum_partial(skb, &up->csum_start, &up->csum_offset);
	__builtin_memcpy(&up->key, key, sizeof(*key));

	if (skb->vlan_present && len >= 12) {
		__u32 n = bvs_copy_pkt(skb, 0, up->data, 12, 12);

		if (n == 12) {
			*(__be16 *)&up->data[12] = (__be16)skb->vlan_proto;
			*(__be16 *)&up->data[14] = bpf_htons((__u16)skb->vlan_tci);
			n = 16 + bvs_copy_pkt(skb, 12, &up->data[16], len - 12,
					      BVS_UPCALL_SNAPLEN - 16);
		}
		up->pkt_len = len + 4;
		up->cap_len = n;
		if (up->csum_start)
			up->csum_start += 4; /* the tag we inserted moved the bytes after it */
	} else {
		up->pkt_len = len;
		up->cap_len = bvs_copy_pkt(skb, 0, up->data, len, BVS_UPCALL_SNAPLEN);
	}
	bpf_ringbuf_submit(up, 0);
	return 0;
}

#endif /* BVS_LIB_UPCALL_H */
