/**
 * OXM/NXM TLVs (OpenFlow 1.3 §7.2.3.2, OVS nicira-ext.h / meta-flow.h): the header codec and the
 * one table of every field a peer may name, mapped onto bvs's field definitions.
 *
 * A TLV header is 32 bits: class (16) | field (7) | hasmask (1) | length (8), where length counts
 * the payload bytes (value, then mask when hasmask). Class 0xffff (OFPXMC_EXPERIMENTER) puts a
 * 32-bit experimenter id right after the header; that id is counted in `length`. Classes:
 * 0x0000/0x0001 are Nicira's NXM_OF_ and NXM_NX_ fields, 0x8000 is OFPXMC_OPENFLOW_BASIC,
 * 0x8001 OFPXMC_PACKET_REGS (xreg), 0xffff experimenter (ONF 0x4f4e4600, Nicira 0x00002320).
 * Every class may appear in every format (OVS puts NXM_NX_REG0 in an OF1.3 match and
 * OXM_OF_METADATA in an nx_match), so there is one table for all of them.
 *
 * An entry maps (class, field[, experimenter]) to OVS's field name and either a bvs FieldDef
 * (`def`) or nothing: a field bvs decodes (its length is checked) but does not support yet, which
 * a match or set_field refuses by name. Switching a field on later is one `def` in this table.
 *
 * Values cross this module as bigint, big-endian, exactly `len` bytes wide. Lookups go through
 * a Map keyed by the wire numbers, because those come from the peer.
 */
import { fieldByName, type FieldDef, type Prereq } from '../ofproto/fields.ts';
import { OfpError } from './errors.ts';

export const OXM_CLASS = {
  NXM_0: 0x0000, NXM_1: 0x0001, OPENFLOW_BASIC: 0x8000, PACKET_REGS: 0x8001, EXPERIMENTER: 0xffff,
} as const;
export const EXPERIMENTER_ID = { ONF: 0x4f4e4600, NICIRA: 0x00002320 } as const;

/** OVS prerequisites beyond FieldDef's: vlan_pcp needs a VLAN (OFPVID_PRESENT matched and set). */
export type OxmPrereq = Prereq | 'vlan';

/**
 * How a wire value becomes a field value: `plain` copies it; `port16`/`port32` are in_port in
 * OpenFlow 1.0 / 1.1+ port numbering; `pcp` also sets OFPVID_PRESENT, as OVS does. The wider
 * register views (xreg, xxreg) are plain: their FieldDefs span two or four register words.
 */
export type OxmKind = 'plain' | 'port16' | 'port32' | 'pcp';

export interface OxmField {
  /** OVS's name: NXM_OF_ETH_SRC, OXM_OF_VLAN_VID, NXM_NX_CT_STATE, ... */
  readonly name: string;
  /** OVS's field name (ovs-fields(7)), for messages: eth_src, ct_state, reg8 ... */
  readonly ovsName: string;
  readonly cls: number;
  readonly field: number;
  readonly experimenter: number | undefined;
  /** Value bytes; 0 for a variable-length field (tun_metadata: 1..124 bytes). */
  readonly len: number;
  readonly maskable: boolean;
  readonly prereq: OxmPrereq;
  /** The bits a value may have (mf_is_value_valid); undefined: all `len` bytes. */
  readonly valueBits: bigint | undefined;
  readonly kind: OxmKind;
  /** The bvs field; undefined when bvs decodes the field but does not support it yet. */
  readonly def: FieldDef | undefined;
}

const TABLE: OxmField[] = [];
const BY_KEY = new Map<string, OxmField>();
const key = (cls: number, field: number, exp: number | undefined): string =>
  cls === OXM_CLASS.EXPERIMENTER ? `${cls}:${exp}:${field}` : `${cls}:${field}`;

interface Opt { mask?: boolean; prereq?: OxmPrereq; bits?: bigint; kind?: OxmKind; def?: string; exp?: number }
function add(name: string, ovsName: string, cls: number, field: number, len: number, o: Opt = {}): void {
  const def = o.def === undefined ? undefined : fieldByName(o.def);
  if (o.def !== undefined && def === undefined) throw new Error(`oxm table: no bvs field ${o.def}`);
  const e: OxmField = Object.freeze({
    name, ovsName, cls, field, experimenter: o.exp, len, maskable: o.mask ?? false, prereq: o.prereq ?? 'none',
    valueBits: o.bits, kind: o.kind ?? 'plain', def,
  });
  TABLE.push(e);
  BY_KEY.set(key(cls, field, o.exp), e);
}
const N0 = OXM_CLASS.NXM_0, N1 = OXM_CLASS.NXM_1, OB = OXM_CLASS.OPENFLOW_BASIC;
const M = true;

// ---- Supported: each maps onto a bvs FieldDef (by name through fieldByName).
add('NXM_OF_IN_PORT', 'in_port', N0, 0, 2, { def: 'in_port', kind: 'port16' });
add('NXM_OF_ETH_DST', 'eth_dst', N0, 1, 6, { mask: M, def: 'dl_dst' });
add('NXM_OF_ETH_SRC', 'eth_src', N0, 2, 6, { mask: M, def: 'dl_src' });
add('NXM_OF_ETH_TYPE', 'eth_type', N0, 3, 2, { def: 'dl_type' });
add('NXM_OF_VLAN_TCI', 'vlan_tci', N0, 4, 2, { mask: M, def: 'vlan_tci' });
add('NXM_OF_IP_TOS', 'ip_dscp', N0, 5, 1, { prereq: 'ip', bits: 0xfcn, def: 'nw_tos' });
add('NXM_OF_IP_PROTO', 'ip_proto', N0, 6, 1, { prereq: 'ip', def: 'nw_proto' });
add('NXM_OF_IP_SRC', 'ip_src', N0, 7, 4, { mask: M, prereq: 'ipv4', def: 'nw_src' });
add('NXM_OF_IP_DST', 'ip_dst', N0, 8, 4, { mask: M, prereq: 'ipv4', def: 'nw_dst' });
add('NXM_OF_TCP_SRC', 'tcp_src', N0, 9, 2, { mask: M, prereq: 'tcp', def: 'tcp_src' });
add('NXM_OF_TCP_DST', 'tcp_dst', N0, 10, 2, { mask: M, prereq: 'tcp', def: 'tcp_dst' });
add('NXM_OF_UDP_SRC', 'udp_src', N0, 11, 2, { mask: M, prereq: 'udp', def: 'udp_src' });
add('NXM_OF_UDP_DST', 'udp_dst', N0, 12, 2, { mask: M, prereq: 'udp', def: 'udp_dst' });
add('NXM_OF_ICMP_TYPE', 'icmp_type', N0, 13, 1, { prereq: 'icmp4', def: 'icmp_type' });
add('NXM_OF_ICMP_CODE', 'icmp_code', N0, 14, 1, { prereq: 'icmp4', def: 'icmp_code' });
add('NXM_OF_ARP_OP', 'arp_op', N0, 15, 2, { prereq: 'arp', bits: 0xffn, def: 'arp_op' });
add('NXM_OF_ARP_SPA', 'arp_spa', N0, 16, 4, { mask: M, prereq: 'arp', def: 'arp_spa' });
add('NXM_OF_ARP_TPA', 'arp_tpa', N0, 17, 4, { mask: M, prereq: 'arp', def: 'arp_tpa' });
for (let i = 0; i < 16; i++) add(`NXM_NX_REG${i}`, `reg${i}`, N1, i, 4, { mask: M, def: `reg${i}` });
// xregN is reg(2N):reg(2N+1) (OXM_OF_PKT_REGN, class 0x8001: what OpenFlow 1.5 matches send),
// xxregN is reg(4N)..reg(4N+3).
for (let i = 0; i < 8; i++) add(`OXM_OF_PKT_REG${i}`, `xreg${i}`, OXM_CLASS.PACKET_REGS, i, 8, { mask: M, def: `xreg${i}` });
for (let i = 0; i < 4; i++) add(`NXM_NX_XXREG${i}`, `xxreg${i}`, N1, 111 + i, 16, { mask: M, def: `xxreg${i}` });
add('NXM_NX_CONJ_ID', 'conj_id', N1, 37, 4, { def: 'conj_id' });
add('NXM_NX_ARP_SHA', 'arp_sha', N1, 17, 6, { mask: M, prereq: 'arp', def: 'arp_sha' });
add('NXM_NX_ARP_THA', 'arp_tha', N1, 18, 6, { mask: M, prereq: 'arp', def: 'arp_tha' });
add('NXM_NX_IPV6_SRC', 'ipv6_src', N1, 19, 16, { mask: M, prereq: 'ipv6', def: 'ipv6_src' });
add('NXM_NX_IPV6_DST', 'ipv6_dst', N1, 20, 16, { mask: M, prereq: 'ipv6', def: 'ipv6_dst' });
add('NXM_NX_ICMPV6_TYPE', 'icmpv6_type', N1, 21, 1, { prereq: 'icmp6', def: 'icmp_type' });
add('NXM_NX_ICMPV6_CODE', 'icmpv6_code', N1, 22, 1, { prereq: 'icmp6', def: 'icmp_code' });
add('NXM_NX_IP_ECN', 'ip_ecn', N1, 28, 1, { prereq: 'ip', bits: 3n, def: 'nw_ecn' });
add('NXM_NX_IP_TTL', 'nw_ttl', N1, 29, 1, { prereq: 'ip', def: 'nw_ttl' });
add('OXM_OF_IN_PORT', 'in_port', OB, 0, 4, { def: 'in_port', kind: 'port32' });
add('OXM_OF_METADATA', 'metadata', OB, 2, 8, { mask: M, def: 'metadata' });
add('OXM_OF_ETH_DST', 'eth_dst', OB, 3, 6, { mask: M, def: 'dl_dst' });
add('OXM_OF_ETH_SRC', 'eth_src', OB, 4, 6, { mask: M, def: 'dl_src' });
add('OXM_OF_ETH_TYPE', 'eth_type', OB, 5, 2, { def: 'dl_type' });
add('OXM_OF_VLAN_VID', 'vlan_vid', OB, 6, 2, { mask: M, bits: 0x1fffn, def: 'vlan_vid' });
add('OXM_OF_VLAN_PCP', 'vlan_pcp', OB, 7, 1, { prereq: 'vlan', bits: 7n, kind: 'pcp', def: 'dl_vlan_pcp' });
add('OXM_OF_IP_DSCP', 'ip_dscp_shifted', OB, 8, 1, { prereq: 'ip', bits: 0x3fn, def: 'ip_dscp' });
add('OXM_OF_IP_ECN', 'ip_ecn', OB, 9, 1, { prereq: 'ip', bits: 3n, def: 'nw_ecn' });
add('OXM_OF_IP_PROTO', 'ip_proto', OB, 10, 1, { prereq: 'ip', def: 'nw_proto' });
add('OXM_OF_IPV4_SRC', 'ip_src', OB, 11, 4, { mask: M, prereq: 'ipv4', def: 'nw_src' });
add('OXM_OF_IPV4_DST', 'ip_dst', OB, 12, 4, { mask: M, prereq: 'ipv4', def: 'nw_dst' });
add('OXM_OF_TCP_SRC', 'tcp_src', OB, 13, 2, { mask: M, prereq: 'tcp', def: 'tcp_src' });
add('OXM_OF_TCP_DST', 'tcp_dst', OB, 14, 2, { mask: M, prereq: 'tcp', def: 'tcp_dst' });
add('OXM_OF_UDP_SRC', 'udp_src', OB, 15, 2, { mask: M, prereq: 'udp', def: 'udp_src' });
add('OXM_OF_UDP_DST', 'udp_dst', OB, 16, 2, { mask: M, prereq: 'udp', def: 'udp_dst' });
// bvs has no sctp_* definitions: the ports are tp_src/tp_dst, with SCTP's prerequisite here.
add('OXM_OF_SCTP_SRC', 'sctp_src', OB, 17, 2, { mask: M, prereq: 'sctp', def: 'tp_src' });
add('OXM_OF_SCTP_DST', 'sctp_dst', OB, 18, 2, { mask: M, prereq: 'sctp', def: 'tp_dst' });
add('OXM_OF_ICMPV4_TYPE', 'icmp_type', OB, 19, 1, { prereq: 'icmp4', def: 'icmp_type' });
add('OXM_OF_ICMPV4_CODE', 'icmp_code', OB, 20, 1, { prereq: 'icmp4', def: 'icmp_code' });
add('OXM_OF_ARP_OP', 'arp_op', OB, 21, 2, { prereq: 'arp', bits: 0xffn, def: 'arp_op' });
add('OXM_OF_ARP_SPA', 'arp_spa', OB, 22, 4, { mask: M, prereq: 'arp', def: 'arp_spa' });
add('OXM_OF_ARP_TPA', 'arp_tpa', OB, 23, 4, { mask: M, prereq: 'arp', def: 'arp_tpa' });
add('OXM_OF_ARP_SHA', 'arp_sha', OB, 24, 6, { mask: M, prereq: 'arp', def: 'arp_sha' });
add('OXM_OF_ARP_THA', 'arp_tha', OB, 25, 6, { mask: M, prereq: 'arp', def: 'arp_tha' });
add('OXM_OF_IPV6_SRC', 'ipv6_src', OB, 26, 16, { mask: M, prereq: 'ipv6', def: 'ipv6_src' });
add('OXM_OF_IPV6_DST', 'ipv6_dst', OB, 27, 16, { mask: M, prereq: 'ipv6', def: 'ipv6_dst' });
add('OXM_OF_ICMPV6_TYPE', 'icmpv6_type', OB, 29, 1, { prereq: 'icmp6', def: 'icmp_type' });
add('OXM_OF_ICMPV6_CODE', 'icmpv6_code', OB, 30, 1, { prereq: 'icmp6', def: 'icmp_code' });

// ---- Decoded, not supported yet (no `def`): refused by name.
for (let i = 8; i < 16; i++) add(`OXM_OF_PKT_REG${i}`, `xreg${i}`, OXM_CLASS.PACKET_REGS, i, 8, { mask: M });
for (let i = 0; i < 64; i++) add(`NXM_NX_TUN_METADATA${i}`, `tun_metadata${i}`, N1, 40 + i, 0, { mask: M });
const unsupported: [string, string, number, number, number, boolean, OxmPrereq?][] = [
  ['NXM_NX_TUN_ID', 'tun_id', N1, 16, 8, M], ['OXM_OF_TUNNEL_ID', 'tun_id', OB, 38, 8, M],
  ['NXM_NX_TUN_IPV4_SRC', 'tun_src', N1, 31, 4, M], ['NXM_NX_TUN_IPV4_DST', 'tun_dst', N1, 32, 4, M],
  ['NXM_NX_TUN_IPV6_SRC', 'tun_ipv6_src', N1, 109, 16, M], ['NXM_NX_TUN_IPV6_DST', 'tun_ipv6_dst', N1, 110, 16, M],
  ['NXM_NX_TUN_FLAGS', 'tun_flags', N1, 104, 2, M], ['NXM_NX_TUN_GBP_ID', 'tun_gbp_id', N1, 38, 2, M],
  ['NXM_NX_TUN_GBP_FLAGS', 'tun_gbp_flags', N1, 39, 1, M],
  ['NXM_NX_PKT_MARK', 'pkt_mark', N1, 33, 4, M], ['NXM_NX_DP_HASH', 'dp_hash', N1, 35, 4, M],
  ['NXM_NX_RECIRC_ID', 'recirc_id', N1, 36, 4, false],
  ['NXM_NX_CT_STATE', 'ct_state', N1, 105, 4, M], ['NXM_NX_CT_ZONE', 'ct_zone', N1, 106, 2, false],
  ['NXM_NX_CT_MARK', 'ct_mark', N1, 107, 4, M], ['NXM_NX_CT_LABEL', 'ct_label', N1, 108, 16, M],
  ['NXM_NX_CT_NW_PROTO', 'ct_nw_proto', N1, 119, 1, false], ['NXM_NX_CT_NW_SRC', 'ct_nw_src', N1, 120, 4, M],
  ['NXM_NX_CT_NW_DST', 'ct_nw_dst', N1, 121, 4, M], ['NXM_NX_CT_IPV6_SRC', 'ct_ipv6_src', N1, 122, 16, M],
  ['NXM_NX_CT_IPV6_DST', 'ct_ipv6_dst', N1, 123, 16, M], ['NXM_NX_CT_TP_SRC', 'ct_tp_src', N1, 124, 2, M],
  ['NXM_NX_CT_TP_DST', 'ct_tp_dst', N1, 125, 2, M],
  ['NXM_NX_IP_FRAG', 'ip_frag', N1, 26, 1, M], ['NXM_NX_IPV6_LABEL', 'ipv6_label', N1, 27, 4, M],
  ['OXM_OF_IPV6_FLABEL', 'ipv6_label', OB, 28, 4, M], ['NXM_NX_MPLS_TTL', 'mpls_ttl', N1, 30, 1, false],
  ['NXM_NX_TCP_FLAGS', 'tcp_flags', N1, 34, 2, M], ['OXM_OF_TCP_FLAGS', 'tcp_flags', OB, 42, 2, M],
  ['NXM_NX_ND_TARGET', 'nd_target', N1, 23, 16, M], ['OXM_OF_IPV6_ND_TARGET', 'nd_target', OB, 31, 16, M],
  ['NXM_NX_ND_SLL', 'nd_sll', N1, 24, 6, M], ['OXM_OF_IPV6_ND_SLL', 'nd_sll', OB, 32, 6, M],
  ['NXM_NX_ND_TLL', 'nd_tll', N1, 25, 6, M], ['OXM_OF_IPV6_ND_TLL', 'nd_tll', OB, 33, 6, M],
  ['OXM_OF_MPLS_LABEL', 'mpls_label', OB, 34, 4, false], ['OXM_OF_MPLS_TC', 'mpls_tc', OB, 35, 1, false],
  ['OXM_OF_MPLS_BOS', 'mpls_bos', OB, 36, 1, false], ['OXM_OF_ACTSET_OUTPUT', 'actset_output', OB, 43, 4, false],
  ['OXM_OF_PACKET_TYPE', 'packet_type', OB, 44, 4, false],
];
for (const [name, ovsName, cls, field, len, mask] of unsupported) add(name, ovsName, cls, field, len, { mask });
const EX = OXM_CLASS.EXPERIMENTER, ONF = EXPERIMENTER_ID.ONF, NX = EXPERIMENTER_ID.NICIRA;
add('ONFOXM_ET_TCP_FLAGS', 'tcp_flags', EX, 42, 2, { mask: M, exp: ONF });
add('ONFOXM_ET_ACTSET_OUTPUT', 'actset_output', EX, 43, 4, { exp: ONF });
add('NXOXM_ET_DP_HASH', 'dp_hash', EX, 0, 4, { mask: M, exp: NX });
for (const [n, f, len] of [['ERSPAN_IDX', 11, 4], ['ERSPAN_VER', 12, 1], ['ERSPAN_DIR', 13, 1], ['ERSPAN_HWID', 14, 1],
  ['GTPU_FLAGS', 15, 1], ['GTPU_MSGTYPE', 16, 1]] as const) {
  add(`NXOXM_ET_${n}`, `tun_${n.toLowerCase()}`, EX, f, len, { mask: M, exp: NX });
}

export const OXM_FIELDS: readonly OxmField[] = Object.freeze(TABLE);

export function oxmFieldByHeader(cls: number, field: number, experimenter?: number): OxmField | undefined {
  return BY_KEY.get(key(cls, field, experimenter));
}

/** The table entry by OVS's NXM/OXM name (NXM_OF_ETH_SRC, OXM_OF_VLAN_VID ...). */
export function oxmFieldByName(name: string): OxmField | undefined {
  return BY_NAME.get(name);
}
/** A Map (the first entry of a name, as a search finds): a dump of thousands of flows asks by
 *  name for every field it encodes. */
const BY_NAME = new Map<string, OxmField>();
for (const e of TABLE) if (!BY_NAME.has(e.name)) BY_NAME.set(e.name, e);

// ---- Header codec

export interface OxmHeader {
  cls: number;
  field: number;
  hasMask: boolean;
  /** Payload bytes after the header (and after the experimenter id): value, then mask. */
  payloadLen: number;
  experimenter: number | undefined;
}

/** Bytes of the header itself: 4, or 8 with the experimenter id. */
export function oxmHeaderLen(h: Pick<OxmHeader, 'cls'>): number {
  return h.cls === OXM_CLASS.EXPERIMENTER ? 8 : 4;
}

/** Reads the header at `off`; `end` bounds the TLV list. Throws OFPBMC_BAD_LEN when it does not fit. */
export function readOxmHeader(dv: DataView, off: number, end: number): OxmHeader {
  if (end - off < 4) throw new OfpError('OFPBMC_BAD_LEN', `partial OXM header (${end - off} bytes)`);
  const h = dv.getUint32(off);
  const cls = h >>> 16, field = (h >>> 9) & 0x7f, hasMask = ((h >>> 8) & 1) === 1, len = h & 0xff;
  if (cls !== OXM_CLASS.EXPERIMENTER) return { cls, field, hasMask, payloadLen: len, experimenter: undefined };
  if (end - off < 8) throw new OfpError('OFPBMC_BAD_LEN', 'partial experimenter OXM header');
  if (len < 4) throw new OfpError('OFPBMC_BAD_LEN', `experimenter OXM length ${len} is less than 4`);
  return { cls, field, hasMask, payloadLen: len - 4, experimenter: dv.getUint32(off + 4) };
}

/** The header's bytes (4 or 8). */
export function oxmHeaderBytes(h: OxmHeader): Uint8Array {
  const n = oxmHeaderLen(h);
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  const len = h.payloadLen + (n - 4);
  if (len > 0xff) throw new OfpError('OFPBMC_BAD_LEN', `OXM payload of ${h.payloadLen} bytes is too long`);
  dv.setUint32(0, ((h.cls << 16) | (h.field << 9) | (h.hasMask ? 0x100 : 0) | len) >>> 0);
  if (n === 8) dv.setUint32(4, h.experimenter ?? 0);
  return out;
}

/** A TLV as read: the table entry (undefined: unknown header), value and mask. */
export interface OxmEntry {
  header: OxmHeader;
  field: OxmField | undefined;
  value: bigint;
  mask: bigint | undefined;
  /** Offset just past this TLV. */
  next: number;
}

/**
 * Reads one TLV: header, payload within `end`, and the mask rules every field shares (hasmask
 * payload is two halves; no 1-bit in the value where the mask has a 0-bit: OFPBMC_BAD_WILDCARDS,
 * as OVS). A known field with another length is unknown, as in OVS (nxm_field_by_header).
 */
export function readOxmEntry(bytes: Uint8Array, off: number, end: number): OxmEntry {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readOxmHeader(dv, off, end);
  const start = off + oxmHeaderLen(header);
  const next = start + header.payloadLen;
  if (next > end) throw new OfpError('OFPBMC_BAD_LEN', `OXM entry needs ${header.payloadLen} payload bytes, ${end - start} remain`);
  if (header.hasMask && header.payloadLen % 2 !== 0) throw new OfpError('OFPBMC_BAD_LEN', `masked OXM entry has an odd length ${header.payloadLen}`);
  const width = header.hasMask ? header.payloadLen / 2 : header.payloadLen;
  let field = oxmFieldByHeader(header.cls, header.field, header.experimenter);
  if (field && (field.len === 0 ? width < 1 || width > 124 : field.len !== width)) field = undefined;
  const value = bytesToBig(bytes, start, width);
  const mask = header.hasMask ? bytesToBig(bytes, start + width, width) : undefined;
  if (mask !== undefined && (value & ~mask) !== 0n) {
    throw new OfpError('OFPBMC_BAD_WILDCARDS', `${field?.name ?? describeHeader(header)} has 1-bits in its value where its mask has 0-bits`);
  }
  return { header, field, value, mask, next };
}

/** Writes one TLV for `f`: the exact form when `mask` is undefined. */
export function oxmEntryBytes(f: OxmField, value: bigint, mask?: bigint, width = f.len): Uint8Array {
  const h: OxmHeader = {
    cls: f.cls, field: f.field, hasMask: mask !== undefined, payloadLen: mask === undefined ? width : 2 * width,
    experimenter: f.experimenter,
  };
  const head = oxmHeaderBytes(h);
  const out = new Uint8Array(head.length + h.payloadLen);
  out.set(head);
  out.set(bigToBytes(value, width), head.length);
  if (mask !== undefined) out.set(bigToBytes(mask, width), head.length + width);
  return out;
}

export function describeHeader(h: OxmHeader): string {
  const exp = h.experimenter === undefined ? '' : `experimenter 0x${h.experimenter.toString(16)} `;
  return `OXM ${exp}class 0x${h.cls.toString(16)} field ${h.field}${h.hasMask ? ' (masked)' : ''} length ${h.payloadLen}`;
}

// ---- Values

export function bytesToBig(b: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}

export function bigToBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

// ---- Port numbers (OpenFlow 1.0 16-bit, 1.1+ 32-bit; bvs holds 1.0 numbering)

/** OFPP_MAX in 1.1+ numbering; reserved ports are 0xfffffff8.. (1.0: 0xfff8..). */
const OFPP11_MAX = 0xffffff00;
const OFPP11_OFFSET = 0xffff0000;

/** A 1.1+ port number as bvs's 16-bit one, or undefined when it has none (OVS ofputil_port_from_ofp11). */
export function portFromOf11(p: number): number | undefined {
  if (p < 0xff00) return p;
  if (p >= OFPP11_MAX) return p - OFPP11_OFFSET;
  return undefined;
}

export function portToOf11(p: number): number {
  return p < 0xff00 ? p : (p + OFPP11_OFFSET) >>> 0;
}
