/**
 * Field definitions (OVS's meta-flow, reduced): where each matchable/settable field lives in the
 * flow words, its width, its prerequisites and how ovs-ofctl spells and prints it.
 *
 * A field occupies `bits` bits starting `shift` bits above the least significant bit of the
 * field's word span [word, word + nWords) (most significant word first). Values cross this API
 * as bigint because fields reach 128 bits; the classifier never uses this module on its hot path.
 */
import { ETH, N_REGS, PROTO, W, type Words } from './flow.ts';

export type Prereq = 'none' | 'ip' | 'ipv4' | 'ipv6' | 'arp' | 'l4' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp4' | 'icmp6';
export type FieldFormat = 'dec' | 'hex' | 'mac' | 'ipv4' | 'ipv6';

export interface FieldDef {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly word: number;
  readonly nWords: number;
  readonly shift: number;
  readonly bits: number;
  readonly format: FieldFormat;
  readonly prereq: Prereq;
  /**
   * The name printed inside load/move (NXM or OXM, as OVS). It reads back as this field, or
   * (dl_vlan) as a wider field at the same place, in whose bits the range is then printed.
   */
  readonly nxm: string;
  readonly writable: boolean;
}

/** Frozen: the definitions are shared by every parsed flow and action, so nothing may edit one. */
function f(name: string, aliases: string[], nxm: string, word: number, nWords: number, bits: number,
  format: FieldFormat, prereq: Prereq, shift = 0, writable = true): FieldDef {
  return Object.freeze({ name, aliases: Object.freeze(aliases), nxm, word, nWords, bits, shift, format, prereq, writable });
}

const DEFS: readonly FieldDef[] = Object.freeze([
  f('in_port', ['NXM_OF_IN_PORT'], 'NXM_OF_IN_PORT', W.IN_PORT, 1, 16, 'dec', 'none'),
  f('metadata', ['OXM_OF_METADATA'], 'OXM_OF_METADATA', W.METADATA, 2, 64, 'hex', 'none'),
  // reg0-15, and the wider views over the same words (OVS meta-flow.xml): xregN is reg(2N)
  // (high) : reg(2N+1) (low), xxregN is reg(4N)..reg(4N+3). A view prints by its own name, so
  // NXM_NX_XXREG0[0..63] and OXM_OF_PKT_REG1[] read back as written.
  ...Array.from({ length: N_REGS }, (_, i) =>
    f(`reg${i}`, [`NXM_NX_REG${i}`], `NXM_NX_REG${i}`, W.REG0 + i, 1, 32, 'hex', 'none')),
  ...Array.from({ length: N_REGS / 2 }, (_, i) =>
    f(`xreg${i}`, [`OXM_OF_PKT_REG${i}`], `OXM_OF_PKT_REG${i}`, W.REG0 + 2 * i, 2, 64, 'hex', 'none')),
  ...Array.from({ length: N_REGS / 4 }, (_, i) =>
    f(`xxreg${i}`, [`NXM_NX_XXREG${i}`], `NXM_NX_XXREG${i}`, W.REG0 + 4 * i, 4, 128, 'hex', 'none')),
  // conj_id is read-only: only the classifier sets it, while resolving a conjunctive match.
  f('conj_id', ['NXM_NX_CONJ_ID'], 'NXM_NX_CONJ_ID', W.CONJ_ID, 1, 32, 'dec', 'none', 0, false),
  f('dl_src', ['eth_src', 'NXM_OF_ETH_SRC', 'OXM_OF_ETH_SRC'], 'NXM_OF_ETH_SRC', W.DL_SRC, 2, 48, 'mac', 'none'),
  f('dl_dst', ['eth_dst', 'NXM_OF_ETH_DST', 'OXM_OF_ETH_DST'], 'NXM_OF_ETH_DST', W.DL_DST, 2, 48, 'mac', 'none'),
  f('dl_type', ['eth_type', 'NXM_OF_ETH_TYPE'], 'NXM_OF_ETH_TYPE', W.DL_TYPE, 1, 16, 'hex', 'none', 0, false),
  f('vlan_tci', ['NXM_OF_VLAN_TCI'], 'NXM_OF_VLAN_TCI', W.VLAN_TCI, 1, 16, 'hex', 'none'),
  // OXM vlan_vid is 13 bits: the VID plus OFPVID_PRESENT (0x1000), which is VLAN_CFI's position.
  f('vlan_vid', ['OXM_OF_VLAN_VID'], 'OXM_OF_VLAN_VID', W.VLAN_TCI, 1, 13, 'dec', 'none'),
  f('dl_vlan', [], 'NXM_OF_VLAN_TCI', W.VLAN_TCI, 1, 12, 'dec', 'none'),
  f('dl_vlan_pcp', ['vlan_pcp', 'OXM_OF_VLAN_PCP'], 'OXM_OF_VLAN_PCP', W.VLAN_TCI, 1, 3, 'dec', 'none', 13),
  f('nw_src', ['ip_src', 'NXM_OF_IP_SRC', 'OXM_OF_IPV4_SRC'], 'NXM_OF_IP_SRC', W.NW_SRC, 1, 32, 'ipv4', 'ipv4'),
  f('nw_dst', ['ip_dst', 'NXM_OF_IP_DST', 'OXM_OF_IPV4_DST'], 'NXM_OF_IP_DST', W.NW_DST, 1, 32, 'ipv4', 'ipv4'),
  f('nw_proto', ['ip_proto', 'NXM_OF_IP_PROTO'], 'NXM_OF_IP_PROTO', W.NW_PROTO, 1, 8, 'dec', 'ip', 0, false),
  // nw_tos matches the DSCP bits of the TOS byte, in place (a multiple of 4); ip_dscp is shifted.
  f('nw_tos', ['NXM_OF_IP_TOS'], 'NXM_OF_IP_TOS', W.NW_TOS, 1, 8, 'dec', 'ip'),
  f('ip_dscp', ['OXM_OF_IP_DSCP'], 'OXM_OF_IP_DSCP', W.NW_TOS, 1, 6, 'dec', 'ip', 2),
  f('nw_ecn', ['ip_ecn', 'NXM_NX_IP_ECN'], 'NXM_NX_IP_ECN', W.NW_TOS, 1, 2, 'dec', 'ip'),
  f('nw_ttl', ['NXM_NX_IP_TTL'], 'NXM_NX_IP_TTL', W.NW_TTL, 1, 8, 'dec', 'ip'),
  f('tp_src', ['NXM_OF_TCP_SRC', 'NXM_OF_UDP_SRC'], 'NXM_OF_TCP_SRC', W.TP_SRC, 1, 16, 'dec', 'l4'),
  f('tp_dst', ['NXM_OF_TCP_DST', 'NXM_OF_UDP_DST'], 'NXM_OF_TCP_DST', W.TP_DST, 1, 16, 'dec', 'l4'),
  // The NXM_OF_{TCP,UDP}_* names belong to tp_src/tp_dst above, so these print by their OXM
  // names: the name a field prints must read back as that field (prerequisites differ).
  f('tcp_src', ['OXM_OF_TCP_SRC'], 'OXM_OF_TCP_SRC', W.TP_SRC, 1, 16, 'dec', 'tcp'),
  f('tcp_dst', ['OXM_OF_TCP_DST'], 'OXM_OF_TCP_DST', W.TP_DST, 1, 16, 'dec', 'tcp'),
  f('udp_src', ['OXM_OF_UDP_SRC'], 'OXM_OF_UDP_SRC', W.TP_SRC, 1, 16, 'dec', 'udp'),
  f('udp_dst', ['OXM_OF_UDP_DST'], 'OXM_OF_UDP_DST', W.TP_DST, 1, 16, 'dec', 'udp'),
  f('icmp_type', ['icmpv4_type', 'icmpv6_type', 'NXM_OF_ICMP_TYPE'], 'NXM_OF_ICMP_TYPE', W.TP_SRC, 1, 8, 'dec', 'icmp'),
  f('icmp_code', ['icmpv4_code', 'icmpv6_code', 'NXM_OF_ICMP_CODE'], 'NXM_OF_ICMP_CODE', W.TP_DST, 1, 8, 'dec', 'icmp'),
  f('arp_op', ['NXM_OF_ARP_OP'], 'NXM_OF_ARP_OP', W.NW_PROTO, 1, 8, 'dec', 'arp'),
  f('arp_spa', ['NXM_OF_ARP_SPA'], 'NXM_OF_ARP_SPA', W.NW_SRC, 1, 32, 'ipv4', 'arp'),
  f('arp_tpa', ['NXM_OF_ARP_TPA'], 'NXM_OF_ARP_TPA', W.NW_DST, 1, 32, 'ipv4', 'arp'),
  f('arp_sha', ['NXM_NX_ARP_SHA'], 'NXM_NX_ARP_SHA', W.ARP_SHA, 2, 48, 'mac', 'arp'),
  f('arp_tha', ['NXM_NX_ARP_THA'], 'NXM_NX_ARP_THA', W.ARP_THA, 2, 48, 'mac', 'arp'),
  f('ipv6_src', ['NXM_NX_IPV6_SRC'], 'NXM_NX_IPV6_SRC', W.IPV6_SRC, 4, 128, 'ipv6', 'ipv6'),
  f('ipv6_dst', ['NXM_NX_IPV6_DST'], 'NXM_NX_IPV6_DST', W.IPV6_DST, 4, 128, 'ipv6', 'ipv6'),
]);
// nw_tos (8 bits, DSCP mask 0xfc) and nw_ecn need their in-word masks: see fieldMaskWords.

const BY_NAME = new Map<string, FieldDef>();
for (const d of DEFS) {
  BY_NAME.set(d.name.toLowerCase(), d);
  for (const a of d.aliases) BY_NAME.set(a.toLowerCase(), d);
}

export function fieldByName(name: string): FieldDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Every field definition, once each, in table order. */
export function allFields(): readonly FieldDef[] {
  return DEFS;
}

/** The bits a field may hold, as a bigint mask (nw_tos is DSCP-only, as in OVS). */
export function fieldFullMask(d: FieldDef): bigint {
  if (d.name === 'nw_tos') return 0xfcn;
  return (1n << BigInt(d.bits)) - 1n;
}

/** Reads a field's value (or, on a mask, its mask) as an unshifted bigint. */
export function getField(w: Words, d: FieldDef): bigint {
  let v: bigint;
  if (d.nWords === 1) v = BigInt(w[d.word]!);
  else {
    v = 0n;
    for (let i = 0; i < d.nWords; i++) v = (v << 32n) | BigInt(w[d.word + i]!);
  }
  return (v >> BigInt(d.shift)) & ((1n << BigInt(d.bits)) - 1n);
}

/** Writes `value` into the field's bits selected by `mask` (field-relative). */
export function setFieldMasked(w: Words, d: FieldDef, value: bigint, mask: bigint = fieldFullMask(d)): void {
  const sh = BigInt(d.shift);
  const m = (mask & ((1n << BigInt(d.bits)) - 1n)) << sh;
  const v = (value << sh) & m;
  for (let i = d.nWords - 1, s = 0n; i >= 0; i--, s += 32n) {
    const mw = Number((m >> s) & 0xffffffffn);
    if (mw === 0) continue;
    const vw = Number((v >> s) & 0xffffffffn);
    const idx = d.word + i;
    w[idx] = ((w[idx]! & ~mw) | vw) >>> 0;
  }
}

/** ORs a field-relative mask into a words mask (un-wildcarding those bits). */
export function orFieldMask(wc: Words, d: FieldDef, mask: bigint = fieldFullMask(d)): void {
  const m = (mask & ((1n << BigInt(d.bits)) - 1n)) << BigInt(d.shift);
  for (let i = d.nWords - 1, s = 0n; i >= 0; i--, s += 32n) {
    const mw = Number((m >> s) & 0xffffffffn);
    if (mw !== 0) wc[d.word + i] = (wc[d.word + i]! | mw) >>> 0;
  }
}

/**
 * Whether the flow satisfies a prerequisite. When `wc` is given, the fields read are
 * un-wildcarded (dl_type always is; nw_proto when the answer depended on it).
 */
export function prereqOk(flow: Words, p: Prereq, wc?: Words): boolean {
  if (p === 'none') return true;
  const t = flow[W.DL_TYPE]!;
  if (wc) wc[W.DL_TYPE] = 0xffff;
  const isIp4 = t === ETH.IP;
  const isIp6 = t === ETH.IPV6;
  switch (p) {
    case 'ip': return isIp4 || isIp6;
    case 'ipv4': return isIp4;
    case 'ipv6': return isIp6;
    case 'arp': return t === ETH.ARP || t === ETH.RARP;
    default: break;
  }
  if (!isIp4 && !isIp6) return false;
  if (wc) wc[W.NW_PROTO] = 0xff;
  const proto = flow[W.NW_PROTO]!;
  switch (p) {
    case 'l4': return proto === PROTO.TCP || proto === PROTO.UDP || proto === PROTO.SCTP;
    case 'tcp': return proto === PROTO.TCP;
    case 'udp': return proto === PROTO.UDP;
    case 'sctp': return proto === PROTO.SCTP;
    case 'icmp': return (isIp4 && proto === PROTO.ICMP) || (isIp6 && proto === PROTO.ICMPV6);
    case 'icmp4': return isIp4 && proto === PROTO.ICMP;
    case 'icmp6': return isIp6 && proto === PROTO.ICMPV6;
  }
  return false;
}

/** Prerequisite names for error messages. */
export const PREREQ_TEXT: Record<Prereq, string> = {
  none: '', ip: 'ip or ipv6', ipv4: 'ip', ipv6: 'ipv6', arp: 'arp', l4: 'tcp, udp or sctp',
  tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp or icmp6', icmp4: 'icmp', icmp6: 'icmp6',
};
