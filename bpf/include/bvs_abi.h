/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bvs_abi.h: every byte layout shared between the BPF datapath and userspace.
 *
 * This header is the one source of truth. src/datapath/abi.ts mirrors it with explicit offsets,
 * and tests/datapath/abi-btf.test.ts compares those offsets and sizes with the BTF of the compiled
 * object, so any drift fails the tests.
 *
 * Rules:
 *  - Never reorder or resize a field. Retire it (rename to pad/reserved) and append a new one.
 *  - Network-order fields are __be16/__be32 and stay in network order in the maps.
 *  - Padding is explicit; every struct's size is a multiple of 8 so a key can be masked
 *    8 bytes at a time.
 *  - Pinned maps outlive processes and program versions: changing a layout changes the map's
 *    key or value size, and libbpf then refuses to reuse the old pin (userspace reports it).
 */
#ifndef BVS_ABI_H
#define BVS_ABI_H

#include <linux/types.h>
#include <linux/bpf.h>   /* struct bpf_spin_lock (struct bvs_meter) */

#define BVS_MAX_ACTIONS 16        /* actions per flow; a longer list is rejected by userspace */
#define BVS_MAX_MASKS 64          /* mask slots walked by the lookup loop */
#define BVS_MASK_CACHE_SIZE 256   /* per-CPU mask cache entries (power of two) */
#define BVS_UPCALL_SNAPLEN 2048   /* packet bytes carried by an upcall (>= 1518 + VLAN) */
#define BVS_UPCALL_SMALL 136      /* data bytes of a small upcall record (256 bytes in all) */
#define BVS_MAX_PORTS 1024        /* entries in the port maps */
#define BVS_DEFAULT_MAX_FLOWS 65536
#define BVS_MAX_METERS 1024       /* entries in the meters map: datapath meter ids 0..1023 */
#define BVS_METER_MAX_BANDS 4     /* bands per meter */

/* vlan_tci: OVS's convention. The CFI bit marks "a tag was present", so TCI 0 with CFI set is
 * a priority-tagged frame, and vlan_tci == 0 means untagged. */
#define BVS_VLAN_CFI 0x1000
#define BVS_VLAN_VID_MASK 0x0fff
#define BVS_VLAN_PCP_SHIFT 13

enum bvs_frag {
	BVS_FRAG_NO = 0,
	BVS_FRAG_FIRST = 1,  /* offset 0, more fragments follow */
	BVS_FRAG_LATER = 2,  /* offset != 0: no L4 header in this packet */
};

/*
 * The flow key: what the parser extracts from a packet. A field the packet does not have is 0
 * (a truncated or malformed header leaves its fields and every later field at 0).
 * Re-use of fields follows OVS: ARP puts its opcode in ip_proto (when <= 255) and its
 * sip/tip in ipv4_src/ipv4_dst; ICMP and ICMPv6 put type/code in tp_src/tp_dst (network order,
 * value in the low byte).
 */
struct bvs_flow_key {
	__u32 in_port;          /* 0:  switch port number (not the ifindex) */
	__u8 eth_src[6];        /* 4 */
	__u8 eth_dst[6];        /* 10 */
	__be16 eth_type;        /* 16: the ethertype after any VLAN tag */
	__be16 vlan_tci;        /* 18: TCI | BVS_VLAN_CFI when tagged, else 0 */
	__u8 ip_proto;          /* 20: IPv4 proto / IPv6 next header (after ext headers) / ARP op */
	__u8 ip_tos;            /* 21: IPv4 TOS / IPv6 traffic class (DSCP + ECN) */
	__u8 ip_ttl;            /* 22: IPv4 TTL / IPv6 hop limit */
	__u8 ip_frag;           /* 23: enum bvs_frag */
	__be32 ipv4_src;        /* 24: IPv4 source / ARP sip */
	__be32 ipv4_dst;        /* 28: IPv4 destination / ARP tip */
	__u8 ipv6_src[16];      /* 32 */
	__u8 ipv6_dst[16];      /* 48 */
	__u8 arp_sha[6];        /* 64 */
	__u8 arp_tha[6];        /* 70 */
	__be16 tp_src;          /* 76: TCP/UDP/SCTP source port / ICMP type */
	__be16 tp_dst;          /* 78: TCP/UDP/SCTP destination port / ICMP code */
	__be16 tcp_flags;       /* 80: low 12 bits of the TCP flags */
	__u16 pad0;             /* 82 */
	__be32 ipv6_label;      /* 84: flow label, low 20 bits */
};                              /* 88 */

/* The hash key of the megaflow table: the key masked by mask slot mask_id. */
struct bvs_flow_id {
	__u32 mask_id;          /* 0: index into the masks map */
	__u32 pad;              /* 4 */
	struct bvs_flow_key key;/* 8 */
};                              /* 96 */

#define BVS_MASK_F_USED 1

/* One slot of the masks map. Userspace owns refcnt: it counts the flows that use this mask,
 * and the slot is cleared (flags = 0) when the last one goes. */
struct bvs_mask {
	struct bvs_flow_key key;/* 0: 1-bits are the bits that matter */
	__u32 refcnt;           /* 88 */
	__u32 flags;            /* 92: BVS_MASK_F_* */
};                              /* 96 */

/* Datapath-wide settings written by userspace (array map "config", one entry). */
struct bvs_config {
	__u32 n_mask_slots;     /* 0: lookup walks slots [0, n_mask_slots) */
	__u32 flags;            /* 4: reserved */
	__u64 reserved[3];      /* 8 */
};                              /* 32 */

/* One entry of the per-CPU mask cache: which mask the last packet with this hash hit. */
struct bvs_mask_cache_entry {
	__u32 skb_hash;         /* 0: 0 = empty */
	__u32 mask_id;          /* 4 */
};                              /* 8 */

enum bvs_action_type {
	BVS_ACTION_UNSPEC = 0,
	BVS_ACTION_OUTPUT = 1,     /* port */
	BVS_ACTION_USERSPACE = 2,  /* port = pid, u.cookie */
	BVS_ACTION_PUSH_VLAN = 3,  /* u.push_vlan; tci without BVS_VLAN_CFI */
	BVS_ACTION_POP_VLAN = 4,
	BVS_ACTION_SET_ETH = 5,    /* u.eth, flags BVS_SET_SRC / BVS_SET_DST */
	BVS_ACTION_SET_IPV4 = 6,   /* u.ipv4, flags BVS_SET_SRC / DST / TOS / TTL */
	BVS_ACTION_SET_TCP = 7,    /* u.l4, flags BVS_SET_SRC / DST */
	BVS_ACTION_SET_UDP = 8,    /* u.l4, flags BVS_SET_SRC / DST */
	BVS_ACTION_METER = 9,      /* port = datapath meter id (lib/meter.h) */
};

#define BVS_SET_SRC 0x1
#define BVS_SET_DST 0x2
#define BVS_SET_TOS 0x4
#define BVS_SET_TTL 0x8

struct bvs_action {
	__u8 type;              /* 0: enum bvs_action_type */
	__u8 flags;             /* 1: BVS_SET_* for set actions */
	__u16 pad;              /* 2 */
	__u32 port;             /* 4: OUTPUT port number; USERSPACE pid */
	union {                 /* 8 */
		struct {
			__be16 tpid;    /* 8 */
			__be16 tci;     /* 10 */
		} push_vlan;
		struct {
			__u8 src[6];    /* 8 */
			__u8 dst[6];    /* 14 */
		} eth;
		struct {
			__be32 src;     /* 8 */
			__be32 dst;     /* 12 */
			__u8 tos;       /* 16 */
			__u8 ttl;       /* 17 */
		} ipv4;
		struct {
			__be16 src;     /* 8 */
			__be16 dst;     /* 10 */
		} l4;
		__u64 cookie;           /* 8: USERSPACE */
		__u8 raw[16];
	} u;
};                              /* 24 */

/* Per-flow statistics, updated in place with atomic adds by the datapath. */
struct bvs_flow_stats {
	__u64 packets;          /* 0 */
	__u64 bytes;            /* 8 */
	__u64 used_ns;          /* 16: bpf_ktime_get_ns() of the last hit, 0 = never */
	__u32 tcp_flags;        /* 24: OR of the TCP flags seen (host order, low 12 bits) */
	__u32 pad;              /* 28 */
};                              /* 32 */

/* The value of the megaflow table. */
struct bvs_flow {
	struct bvs_flow_stats stats;                    /* 0 */
	__u32 n_actions;                                /* 32: 0 = drop */
	__u32 pad;                                      /* 36 */
	struct bvs_action actions[BVS_MAX_ACTIONS];     /* 40 */
};                                                      /* 424 */

#define BVS_PORT_F_PEER 0x1      /* a veth whose peer is in another netns: bpf_redirect_peer */
#define BVS_PORT_F_INTERNAL 0x2  /* an internal port: program at egress, output to ingress */

/* The ports map, keyed by port number. */
struct bvs_port {
	__u32 ifindex;          /* 0 */
	__u32 flags;            /* 4: BVS_PORT_F_* */
	char name[16];          /* 8: IFNAMSIZ, NUL-terminated */
};                              /* 24 */

/* Per-CPU counters of a port, keyed by port number. */
struct bvs_port_stats {
	__u64 rx_packets;       /* 0 */
	__u64 rx_bytes;         /* 8 */
	__u64 rx_dropped;       /* 16 */
	__u64 tx_packets;       /* 24 */
	__u64 tx_bytes;         /* 32 */
	__u64 tx_dropped;       /* 40 */
};                              /* 48 */

/* Per-CPU counters of the datapath (array map "dp_stats", one entry). */
struct bvs_dp_stats {
	__u64 hit;              /* 0: packets that matched a flow */
	__u64 missed;           /* 8: packets sent up as a miss upcall */
	__u64 lost;             /* 16: upcalls dropped because the ring was full */
	__u64 mask_hit;         /* 24: masks visited by lookups (for hit/pkt) */
	__u64 mask_cache_hit;   /* 32: lookups answered by the mask cache */
	__u64 reserved[3];      /* 40 */
};                              /* 64 */

/* Drop reasons: negative, shared with userspace (array map "drop_stats" is indexed by -reason). */
enum bvs_drop_reason {
	BVS_DROP_NONE = 0,
	BVS_DROP_ACTION = -1,        /* the flow's actions are drop */
	BVS_DROP_UPCALL = -2,        /* sent to userspace, which decides */
	BVS_DROP_UPCALL_LOST = -3,   /* the upcall ring was full */
	BVS_DROP_NO_OUTPUT_PORT = -4,/* an output named an unknown port */
	BVS_DROP_REDIRECT = -5,      /* clone_redirect failed */
	BVS_DROP_ACTION_FAILED = -6, /* a set/push/pop helper failed */
	BVS_DROP_METER = -7,         /* a meter's drop band was exceeded */
	BVS_DROP_MAX_ = 8,
};

/*
 * Meters (OpenFlow meters, OVS's dpif meters): token buckets, one per band, in the array map
 * "meters" indexed by datapath meter id. See lib/meter.h for the algorithm.
 *
 * Units: tokens accrue at `rate` per nanosecond of elapsed time, so a bucket is counted in
 * micro-bits for a kbit/s meter (1 kbit/s x 1 ns = 1e-6 bit) and in nano-packets for a packet/s
 * meter. Both make a burst of B (kbit or packets) a capacity of B * 1e9 tokens, and a packet
 * cost byte_cost * len + packet_cost tokens (8e6 per byte, or 1e9 per packet). Userspace
 * precomputes every derived number (no division in the datapath): max_delta_ns caps the
 * elapsed time credited at once so that delta * rate cannot overflow (capacity / rate, rounded
 * up: any longer gap fills the bucket anyway).
 */
enum bvs_meter_band_type {
	BVS_METER_BAND_UNUSED = 0,
	BVS_METER_BAND_DROP = 1,         /* drop the packet */
	BVS_METER_BAND_DSCP_REMARK = 2,  /* raise the DSCP drop precedence by prec_level */
};

struct bvs_meter_band {
	__u32 type;             /* 0: enum bvs_meter_band_type */
	__u8 prec_level;        /* 4: DSCP_REMARK: drop precedence levels to add */
	__u8 pad[3];            /* 5 */
	__u64 rate;             /* 8: tokens per ns (the band's kbit/s or packets/s) */
	__u64 capacity;         /* 16: bucket size in tokens (burst * 1e9) */
	__u64 max_delta_ns;     /* 24: most elapsed time credited at once */
	__u64 tokens;           /* 32: the bucket now (userspace writes it full) */
	__u64 packets;          /* 40: packets this band applied to */
	__u64 bytes;            /* 48 */
};                              /* 56 */

/* One meter. The datapath changes it only under `lock`; userspace writes whole values with
 * BPF_F_LOCK, so a packet sees either the old meter or the new one, never a mix. */
struct bvs_meter {
	struct bpf_spin_lock lock; /* 0 */
	__u32 n_bands;          /* 4: 0 = no meter here: packets pass */
	__u64 last_ns;          /* 8: bpf_ktime_get_ns() of the last refill */
	__u64 byte_cost;        /* 16: tokens per byte of a packet (kbit/s: 8e6; packets/s: 0) */
	__u64 packet_cost;      /* 24: tokens per packet (packets/s: 1e9; kbit/s: 0) */
	__u64 packets;          /* 32: packets that reached the meter */
	__u64 bytes;            /* 40 */
	struct bvs_meter_band bands[BVS_METER_MAX_BANDS]; /* 48 */
};                              /* 272 */

enum bvs_upcall_type {
	BVS_UPCALL_MISS = 1,
	BVS_UPCALL_ACTION = 2,  /* a USERSPACE action */
};

/*
 * A ring buffer record. Userspace reads pkt_len/cap_len to bound data[]. A packet of at most
 * BVS_UPCALL_SMALL bytes travels in a short record (the header and BVS_UPCALL_SMALL bytes of
 * data[]): most misses are small (SYNs, ARP, pings), and the ring then holds 8 times as many.
 *
 * csum_start/csum_offset: the packet's L4 checksum is not finished (the sender's stack left it
 * to the NIC: CHECKSUM_PARTIAL). The checksum over data[csum_start..pkt_len) belongs at
 * data[csum_start + csum_offset], where only the pseudo-header sum is now. Userspace completes
 * it before the bytes leave the datapath again (execute, packet-in), as OVS's kernel module
 * does before an upcall. csum_start == 0: the bytes are complete as they are.
 */
struct bvs_upcall {
	__u32 type;             /* 0: enum bvs_upcall_type */
	__u32 port;             /* 4: in_port */
	__u32 pkt_len;          /* 8: length of the packet */
	__u32 cap_len;          /* 12: bytes of it in data[] */
	__u64 cookie;           /* 16: the USERSPACE action's cookie, 0 for a miss */
	__u32 pid;              /* 24: the USERSPACE action's pid */
	__u16 csum_start;       /* 28: was pad; see above */
	__u16 csum_offset;      /* 30 */
	struct bvs_flow_key key;/* 32 */
	__u8 data[BVS_UPCALL_SNAPLEN]; /* 120 */
};                              /* 2168 */

/*
 * An execute request: userspace runs a frame through an action list in the kernel (the first
 * packet of a new flow, a packet-out, dpctl execute) by BPF_PROG_TEST_RUN of the program
 * bvs_exec on the frame with this struct appended. bvs_exec reads the trailer, cuts it off, and
 * runs the actions with the same code as the fast path; every output is a clone, because a
 * test run does not perform a final redirect. The trailer rides with the frame, so concurrent
 * callers (processes, threads) need no shared state. See bpf/lib/exec.h.
 */
#define BVS_EXEC_MAGIC 0x62767365  /* "bvse" */

struct bvs_exec_req {
	__u32 magic;            /* 0: BVS_EXEC_MAGIC */
	__u32 in_port;          /* 4: the port the frame arrived on (the key's in_port) */
	__u32 n_actions;        /* 8: <= BVS_MAX_ACTIONS */
	__u32 pad;              /* 12 */
	struct bvs_action actions[BVS_MAX_ACTIONS]; /* 16 */
};                              /* 400 */

/* bvs_exec's return value: a negative enum bvs_exec_error, or the outcome, packed as
 * outputs | upcalls << 8 | BVS_EXEC_FAILED (an action failed and was counted in drop_stats). */
#define BVS_EXEC_FAILED 0x10000

enum bvs_exec_error {
	BVS_EXEC_E_REQUEST = -1,  /* no valid trailer (bad magic, n_actions, or too short) */
	BVS_EXEC_E_TRIM = -2,     /* the trailer could not be cut off */
	BVS_EXEC_E_SCRATCH = -3,  /* no scratch buffer (cannot happen: a per-CPU array) */
};

#endif /* BVS_ABI_H */
