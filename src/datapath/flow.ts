/**
 * The datapath flow key and actions as TypeScript values.
 *
 * A FlowKey mirrors `struct bvs_flow_key` (bpf/include/bvs_abi.h) field for field, in host byte
 * order: MAC addresses are 48-bit numbers, IPv4 addresses unsigned 32-bit numbers, IPv6
 * addresses 128-bit bigints. A mask has the same shape: a 1-bit means "this bit matters", and a
 * field whose mask is 0 is wildcarded. Keeping key and mask the same type lets every layer
 * (ofproto's megaflow, the ODP syntax, the codec) mask, compare and print them the same way.
 *
 * The field-reuse conventions of the C key apply: ARP op in ipProto, ARP sip/tip in
 * ipv4Src/ipv4Dst, ICMP type/code in tpSrc/tpDst.
 */

export interface FlowKey {
  inPort: number;     // u32
  ethSrc: number;     // 48-bit
  ethDst: number;     // 48-bit
  ethType: number;    // u16
  vlanTci: number;    // u16, VLAN_CFI set when tagged
  ipProto: number;    // u8
  ipTos: number;      // u8
  ipTtl: number;      // u8
  ipFrag: number;     // u8, FRAG_*
  ipv4Src: number;    // u32 (unsigned)
  ipv4Dst: number;    // u32 (unsigned)
  ipv6Src: bigint;    // 128-bit
  ipv6Dst: bigint;    // 128-bit
  arpSha: number;     // 48-bit
  arpTha: number;     // 48-bit
  tpSrc: number;      // u16
  tpDst: number;      // u16
  tcpFlags: number;   // u16 (12 bits used)
  ipv6Label: number;  // u32 (20 bits used)
}

/** A mask: same shape as the key. */
export type FlowMask = FlowKey;

export type FlowField = keyof FlowKey;

/** Width in bits of each field, as the C key stores it. */
export const FIELD_BITS: Readonly<Record<FlowField, number>> = {
  inPort: 32, ethSrc: 48, ethDst: 48, ethType: 16, vlanTci: 16,
  ipProto: 8, ipTos: 8, ipTtl: 8, ipFrag: 8, ipv4Src: 32, ipv4Dst: 32,
  ipv6Src: 128, ipv6Dst: 128, arpSha: 48, arpTha: 48,
  tpSrc: 16, tpDst: 16, tcpFlags: 16, ipv6Label: 32,
};

export const FLOW_FIELDS = Object.keys(FIELD_BITS) as FlowField[];

export const VLAN_CFI = 0x1000;
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_PCP_SHIFT = 13;

export const FRAG_NO = 0;
export const FRAG_FIRST = 1;
export const FRAG_LATER = 2;

export const ETH_TYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
} as const;

export const IP_PROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
} as const;

/** A key (or mask) with every field 0: as a mask, it matches everything. */
export function emptyKey(): FlowKey {
  return {
    inPort: 0, ethSrc: 0, ethDst: 0, ethType: 0, vlanTci: 0,
    ipProto: 0, ipTos: 0, ipTtl: 0, ipFrag: 0, ipv4Src: 0, ipv4Dst: 0,
    ipv6Src: 0n, ipv6Dst: 0n, arpSha: 0, arpTha: 0,
    tpSrc: 0, tpDst: 0, tcpFlags: 0, ipv6Label: 0,
  };
}

const MAX_U128 = (1n << 128n) - 1n;

/** The all-ones value of a field, as its mask. */
export function fieldFullMask(f: FlowField): number | bigint {
  const bits = FIELD_BITS[f];
  if (bits === 128) return MAX_U128;
  return bits === 32 ? 0xffffffff : 2 ** bits - 1;
}

/** A mask with every bit of every field set: an exact match. */
export function exactMask(): FlowMask {
  const m = emptyKey() as unknown as Record<FlowField, number | bigint>;
  for (const f of FLOW_FIELDS) m[f] = fieldFullMask(f);
  return m as unknown as FlowMask;
}

/** a & b for one field value. Works for 48-bit numbers, where JS `&` would truncate to 32. */
export function andField(f: FlowField, a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'bigint') return a & (b as bigint);
  const bits = FIELD_BITS[f];
  if (bits <= 31) return (a as number) & (b as number);
  if (bits === 32) return ((a as number) & (b as number)) >>> 0;
  // 48-bit: split into high 16 and low 32 bits.
  const hi = Math.floor((a as number) / 2 ** 32) & Math.floor((b as number) / 2 ** 32);
  const lo = ((a as number) & (b as number)) >>> 0;
  return hi * 2 ** 32 + lo;
}

/** key & mask, field by field (written out: it runs for every new megaflow). */
export function maskKey(key: FlowKey, mask: FlowMask): FlowKey {
  return {
    inPort: (key.inPort & mask.inPort) >>> 0,
    ethSrc: and48(key.ethSrc, mask.ethSrc),
    ethDst: and48(key.ethDst, mask.ethDst),
    ethType: key.ethType & mask.ethType,
    vlanTci: key.vlanTci & mask.vlanTci,
    ipProto: key.ipProto & mask.ipProto,
    ipTos: key.ipTos & mask.ipTos,
    ipTtl: key.ipTtl & mask.ipTtl,
    ipFrag: key.ipFrag & mask.ipFrag,
    ipv4Src: (key.ipv4Src & mask.ipv4Src) >>> 0,
    ipv4Dst: (key.ipv4Dst & mask.ipv4Dst) >>> 0,
    ipv6Src: key.ipv6Src === 0n || mask.ipv6Src === 0n ? 0n : key.ipv6Src & mask.ipv6Src,
    ipv6Dst: key.ipv6Dst === 0n || mask.ipv6Dst === 0n ? 0n : key.ipv6Dst & mask.ipv6Dst,
    arpSha: and48(key.arpSha, mask.arpSha),
    arpTha: and48(key.arpTha, mask.arpTha),
    tpSrc: key.tpSrc & mask.tpSrc,
    tpDst: key.tpDst & mask.tpDst,
    tcpFlags: key.tcpFlags & mask.tcpFlags,
    ipv6Label: (key.ipv6Label & mask.ipv6Label) >>> 0,
  };
}

function and48(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return (Math.floor(a / 2 ** 32) & Math.floor(b / 2 ** 32)) * 2 ** 32 + ((a & b) >>> 0);
}

export function keysEqual(a: FlowKey, b: FlowKey): boolean {
  // Written out: Datapath.putFlow compares the new megaflow's mask with every mask slot.
  return a.inPort === b.inPort && a.ethSrc === b.ethSrc && a.ethDst === b.ethDst && a.ethType === b.ethType
    && a.vlanTci === b.vlanTci && a.ipProto === b.ipProto && a.ipTos === b.ipTos && a.ipTtl === b.ipTtl
    && a.ipFrag === b.ipFrag && a.ipv4Src === b.ipv4Src && a.ipv4Dst === b.ipv4Dst && a.ipv6Src === b.ipv6Src
    && a.ipv6Dst === b.ipv6Dst && a.arpSha === b.arpSha && a.arpTha === b.arpTha && a.tpSrc === b.tpSrc
    && a.tpDst === b.tpDst && a.tcpFlags === b.tcpFlags && a.ipv6Label === b.ipv6Label;
}

/** True when `key` matches the flow (`flowKey`, `mask`): key & mask == flowKey & mask. */
export function keyMatches(key: FlowKey, flowKey: FlowKey, mask: FlowMask): boolean {
  for (const f of FLOW_FIELDS) {
    if (andField(f, key[f], mask[f]) !== andField(f, flowKey[f], mask[f])) return false;
  }
  return true;
}

/**
 * Datapath actions, executed in order. An empty list is "drop".
 * push_vlan's tci excludes VLAN_CFI; vid and pcp are carried inside tci.
 */
export type DpAction =
  | { type: 'output'; port: number }
  | { type: 'userspace'; pid: number; cookie?: bigint }
  | { type: 'push_vlan'; tpid: number; tci: number }
  | { type: 'pop_vlan' }
  | { type: 'set_eth'; src?: number; dst?: number }
  | { type: 'set_ipv4'; src?: number; dst?: number; tos?: number; ttl?: number }
  | { type: 'set_tcp'; src?: number; dst?: number }
  | { type: 'set_udp'; src?: number; dst?: number }
  /** Run datapath meter `id` (0..ABI.MAX_METERS-1): drop, remark or pass (bpf/lib/meter.h). */
  | { type: 'meter'; id: number };

export const MAX_ACTIONS = 16;
