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
 * lost. A record is one of two sizes (the verifier needs a constant reserve size at each call):
 * 2168 bytes, or 256 for a packet of up to BVS_UPCALL_SMALL bytes (lib/maps.h says why).
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

/* Fills a reserved record whose data[] has room for `room` bytes (a constant at each call). */
static __always_inline void bvs_upcall_fill(struct __sk_buff *skb, struct bvs_upcall *up,
					    const struct bvs_flow_key *key, __u32 type, __u64 cookie,
					    __u32 pid, const __u32 room)
{
	__u32 len = skb->len;

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
			n = 16 + bvs_copy_pkt(skb, 12, &up->data[16], len - 12, room - 16);
		}
		up->pkt_len = len + 4;
		up->cap_len = n;
		if (up->csum_start)
			up->csum_start += 4; /* the tag we inserted moved the bytes after it */
	} else {
		up->pkt_len = len;
		up->cap_len = bvs_copy_pkt(skb, 0, up->data, len, room);
	}
}

/*
 * Sends the packet up. Returns 0, or -1 when the ring was full (nothing sent). A packet that
 * fits BVS_UPCALL_SMALL bytes (with a re-inserted tag) goes in a short record.
 */
static __always_inline int bvs_upcall(struct __sk_buff *skb, const struct bvs_flow_key *key,
				      __u32 type, __u64 cookie, __u32 pid)
{
	__u32 wire = skb->len + (skb->vlan_present ? 4 : 0);
	struct bvs_upcall *up;

	if (wire <= BVS_UPCALL_SMALL) {
		up = bpf_ringbuf_reserve(&upcalls, offsetof(struct bvs_upcall, data) + BVS_UPCALL_SMALL, 0);
		if (!up)
			return -1;
		bvs_upcall_fill(skb, up, key, type, cookie, pid, BVS_UPCALL_SMALL);
	} else {
		up = bpf_ringbuf_reserve(&upcalls, sizeof(*up), 0);
		if (!up)
			return -1;
		bvs_upcall_fill(skb, up, key, type, cookie, pid, BVS_UPCALL_SNAPLEN);
	}
	bpf_ringbuf_submit(up, 0);
	return 0;
}

#endif /* BVS_LIB_UPCALL_H */
