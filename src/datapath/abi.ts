/**
 * Byte layouts of bpf/include/bvs_abi.h, mirrored for DataView codecs.
 *
 * The C header is the source of truth. LAYOUT below restates each struct's size and member
 * offsets; tests/datapath/abi-btf.test.ts reads the BTF of the compiled object and fails on any
 * difference (a missing, moved, resized or added member). The codecs in codec.ts use only these
 * offsets, never literal numbers.
 */

/** [byte offset, byte size] of a member. */
export type Member = readonly [number, number];

export interface StructLayout {
  readonly size: number;
  readonly members: Readonly<Record<string, Member>>;
}

export const LAYOUT = {
  bvs_flow_key: {
    size: 88,
    members: {
      in_port: [0, 4], eth_src: [4, 6], eth_dst: [10, 6], eth_type: [16, 2], vlan_tci: [18, 2],
      ip_proto: [20, 1], ip_tos: [21, 1], ip_ttl: [22, 1], ip_frag: [23, 1],
      ipv4_src: [24, 4], ipv4_dst: [28, 4], ipv6_src: [32, 16], ipv6_dst: [48, 16],
      arp_sha: [64, 6], arp_tha: [70, 6], tp_src: [76, 2], tp_dst: [78, 2],
      tcp_flags: [80, 2], pad0: [82, 2], ipv6_label: [84, 4],
    },
  },
  bvs_flow_id: { size: 96, members: { mask_id: [0, 4], pad: [4, 4], key: [8, 88] } },
  bvs_mask: { size: 96, members: { key: [0, 88], refcnt: [88, 4], flags: [92, 4] } },
  bvs_config: { size: 32, members: { n_mask_slots: [0, 4], flags: [4, 4], reserved: [8, 24] } },
  bvs_mask_cache_entry: { size: 8, members: { skb_hash: [0, 4], mask_id: [4, 4] } },
  bvs_action: {
    size: 24,
    members: { type: [0, 1], flags: [1, 1], pad: [2, 2], port: [4, 4], u: [8, 16] },
  },
  bvs_flow_stats: {
    size: 32,
    members: { packets: [0, 8], bytes: [8, 8], used_ns: [16, 8], tcp_flags: [24, 4], pad: [28, 4] },
  },
  bvs_flow: {
    size: 424,
    members: { stats: [0, 32], n_actions: [32, 4], pad: [36, 4], actions: [40, 384] },
  },
  bvs_port: { size: 24, members: { ifindex: [0, 4], flags: [4, 4], name: [8, 16] } },
  bvs_port_stats: {
    size: 48,
    members: {
      rx_packets: [0, 8], rx_bytes: [8, 8], rx_dropped: [16, 8],
      tx_packets: [24, 8], tx_bytes: [32, 8], tx_dropped: [40, 8],
    },
  },
  bvs_dp_stats: {
    size: 64,
    members: {
      hit: [0, 8], missed: [8, 8], lost: [16, 8], mask_hit: [24, 8], mask_cache_hit: [32, 8],
      reserved: [40, 24],
    },
  },
  bvs_upcall: {
    size: 2168,
    members: {
      type: [0, 4], port: [4, 4], pkt_len: [8, 4], cap_len: [12, 4], cookie: [16, 8],
      pid: [24, 4], csum_start: [28, 2], csum_offset: [30, 2], key: [32, 88], data: [120, 2048],
    },
  },
  bvs_meter_band: {
    size: 56,
    members: {
      type: [0, 4], prec_level: [4, 1], pad: [5, 3], rate: [8, 8], capacity: [16, 8], max_delta_ns: [24, 8],
      tokens: [32, 8], packets: [40, 8], bytes: [48, 8],
    },
  },
  bvs_meter: {
    size: 272,
    members: {
      lock: [0, 4], n_bands: [4, 4], last_ns: [8, 8], byte_cost: [16, 8], packet_cost: [24, 8],
      packets: [32, 8], bytes: [40, 8], bands: [48, 224],
    },
  },
  bvs_exec_req: {
    size: 400,
    members: { magic: [0, 4], in_port: [4, 4], n_actions: [8, 4], pad: [12, 4], actions: [16, 384] },
  },
} as const satisfies Record<string, StructLayout>;

/** Offsets inside bvs_action.u (relative to the start of bvs_action), per union member. */
export const ACTION_UNION = {
  push_vlan: { tpid: [8, 2], tci: [10, 2] },
  eth: { src: [8, 6], dst: [14, 6] },
  ipv4: { src: [8, 4], dst: [12, 4], tos: [16, 1], ttl: [17, 1] },
  l4: { src: [8, 2], dst: [10, 2] },
  cookie: [8, 8],
} as const;

/** Constants of bvs_abi.h (checked against the object by the BTF test where BTF carries them). */
export const ABI = {
  MAX_ACTIONS: 16,
  MAX_MASKS: 64,
  MASK_CACHE_SIZE: 256,
  UPCALL_SNAPLEN: 2048,
  UPCALL_SMALL: 136,
  UPCALL_RING_BYTES: 2 << 20,
  MAX_PORTS: 1024,
  DEFAULT_MAX_FLOWS: 65536,
  MAX_METERS: 1024,
  METER_MAX_BANDS: 4,
  BPF_F_LOCK: 4,
  MASK_F_USED: 1,
  PORT_F_PEER: 0x1,
  PORT_F_INTERNAL: 0x2,
  SET_SRC: 0x1,
  SET_DST: 0x2,
  SET_TOS: 0x4,
  SET_TTL: 0x8,
  DROP_MAX: 8,
  EXEC_MAGIC: 0x62767365,
  EXEC_FAILED: 0x10000,
} as const;

/** bvs_exec's negative return values (enum bvs_exec_error), by value. */
export const EXEC_ERRORS: Readonly<Record<number, string>> = {
  [-1]: 'no valid execute request trailer',
  [-2]: 'the request trailer could not be cut off',
  [-3]: 'no scratch buffer',
};

/** Names of the programs in bvs.bpf.o, and the pin name of each under <root>/<dp>/. */
export const PROGRAMS = { bvs_ingress: 'prog', bvs_exec: 'exec' } as const;

export const ACTION_TYPE = {
  OUTPUT: 1,
  USERSPACE: 2,
  PUSH_VLAN: 3,
  POP_VLAN: 4,
  SET_ETH: 5,
  SET_IPV4: 6,
  SET_TCP: 7,
  SET_UDP: 8,
  METER: 9,
} as const;

export const METER_BAND_TYPE = { DROP: 1, DSCP_REMARK: 2 } as const;

export const UPCALL_TYPE = { MISS: 1, ACTION: 2 } as const;

/** Drop reasons, by -code (the index into the drop_stats map). */
export const DROP_REASONS: Readonly<Record<number, string>> = {
  1: 'action',
  2: 'upcall',
  3: 'upcall_lost',
  4: 'no_output_port',
  5: 'redirect',
  6: 'action_failed',
  7: 'meter',
};

/** Names of the pinned maps, as declared in bpf/bvs.bpf.c. */
export const MAP_NAMES = [
  'flows', 'masks', 'config', 'mask_cache', 'ports', 'ifindex_port',
  'port_stats', 'dp_stats', 'drop_stats', 'meters', 'upcalls',
] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** Key and value sizes of each map (ringbuf: none). */
export const MAP_SHAPES: Readonly<Record<Exclude<MapName, 'upcalls'>, { key: number; value: number }>> = {
  flows: { key: LAYOUT.bvs_flow_id.size, value: LAYOUT.bvs_flow.size },
  masks: { key: 4, value: LAYOUT.bvs_mask.size },
  config: { key: 4, value: LAYOUT.bvs_config.size },
  mask_cache: { key: 4, value: LAYOUT.bvs_mask_cache_entry.size },
  ports: { key: 4, value: LAYOUT.bvs_port.size },
  ifindex_port: { key: 4, value: 4 },
  port_stats: { key: 4, value: LAYOUT.bvs_port_stats.size },
  dp_stats: { key: 4, value: LAYOUT.bvs_dp_stats.size },
  drop_stats: { key: 4, value: 8 },
  meters: { key: 4, value: LAYOUT.bvs_meter.size },
};
