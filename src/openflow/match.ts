/**
 * Matches on the wire, to and from bvs's Match (value/mask words of src/ofproto/flow.ts):
 * OXM (OpenFlow 1.2+ ofp_match of type OFPMT_OXM, §7.2.3) and nx_match (NXT_FLOW_MOD, NXST_FLOW)
 * here, OpenFlow 1.0's fixed ofp_match in match10.ts.
 *
 * Decoding checks each TLV in order, as OVS's nx_pull_raw does: unknown or unsupported field
 * (OFPBMC_BAD_FIELD, naming it), a mask on a field that takes none or a non-trivial mask on an
 * exact-only field (OFPBMC_BAD_MASK), value bits the field cannot hold (OFPBMC_BAD_VALUE),
 * prerequisites not met by the entries BEFORE it (OFPBMC_BAD_PREREQ: OpenFlow 1.3 §7.2.3.6 wants
 * them earlier in the list), and a field whose bits an earlier entry already set
 * (OFPBMC_DUP_FIELD). The resulting Match is built as parse.ts builds one from text (in_port
 * un-wildcards the whole word; vlan_pcp also matches OFPVID_PRESENT), so a flow from the wire
 * equals the same flow from ovs-ofctl's text.
 *
 * Encoding picks one TLV per field (OXM names for OXM, NXM names for nx_match, the other kind
 * where one has none) and then decodes its own output: a Match the format cannot express (a
 * partial mask on an exact-only field, bits no field names) comes back different, and encoding
 * throws OfpError instead of sending something else.
 */
import { VLAN_CFI } from '../datapath/index.ts';
import { ETH, N_REGS, PROTO, W } from '../ofproto/flow.ts';
import { fieldFullMask, getField, prereqOk, type FieldDef } from '../ofproto/fields.ts';
import { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { OFP13, OFP15, type OfpVersion } from './version.ts';
import {
  OXM_CLASS, bytesToBig, describeHeader, oxmEntryBytes, oxmFieldByName, portFromOf11, portToOf11, readOxmEntry,
  type OxmEntry, type OxmField, type OxmPrereq,
} from './oxm.ts';

import { verifyEncoding } from './match10.ts';

export { decodeOf10Match, encodeOf10Match, OF10_MATCH_LEN, verifyEncoding } from './match10.ts';

const NEEDS_PROTO = new Set<OxmPrereq>(['l4', 'tcp', 'udp', 'sctp', 'icmp', 'icmp4', 'icmp6']);

/**
 * Whether `m` already pins what prerequisite `p` needs: an exact dl_type (and nw_proto) that
 * satisfies it (fields.ts prereqOk on the values), or, for vlan_pcp, VLAN present.
 */
export function matchMeetsPrereq(m: Match, p: OxmPrereq): boolean {
  if (p === 'none') return true;
  if (p === 'vlan') return (m.mask[W.VLAN_TCI]! & VLAN_CFI) !== 0 && (m.value[W.VLAN_TCI]! & VLAN_CFI) !== 0;
  if (m.mask[W.DL_TYPE] !== 0xffff) return false;
  if (NEEDS_PROTO.has(p) && m.mask[W.NW_PROTO] !== 0xff) return false;
  return prereqOk(m.value, p);
}

/** The field's value for an entry: in_port numbering converted, checked against its bits. */
export function entryFieldValue(f: OxmField, value: bigint, badValue: 'OFPBMC_BAD_VALUE' | 'OFPBAC_BAD_SET_ARGUMENT'): bigint {
  if (f.valueBits !== undefined && (value & ~f.valueBits) !== 0n) {
    throw new OfpError(badValue, `${f.name}: value 0x${value.toString(16)} has bits outside 0x${f.valueBits.toString(16)}`);
  }
  if (f.kind === 'port32') {
    const p = portFromOf11(Number(value));
    if (p === undefined) throw new OfpError(badValue, `${f.name}: 0x${value.toString(16)} is no OpenFlow port`);
    return BigInt(p);
  }
  return value;
}

/** Applies one decoded TLV to `m` with every check of the design note above. */
function applyEntry(m: Match, e: OxmEntry): void {
  const f = e.field;
  if (f === undefined) throw new OfpError('OFPBMC_BAD_FIELD', `unknown field: ${describeHeader(e.header)}`);
  if (f.def === undefined) throw new OfpError('OFPBMC_BAD_FIELD', `${f.name} (${f.ovsName}) is not supported by bvs yet`);
  const d = f.def;
  const wireFull = (1n << BigInt(8 * f.len)) - 1n;
  let mask = e.mask;
  if (mask !== undefined && !f.maskable && mask !== 0n && mask !== wireFull) {
    throw new OfpError('OFPBMC_BAD_MASK', `${f.name} takes no mask`);
  }
  if (mask === wireFull) mask = undefined;
  const value = entryFieldValue(f, e.value, 'OFPBMC_BAD_VALUE');
  if (!matchMeetsPrereq(m, f.prereq)) {
    throw new OfpError('OFPBMC_BAD_PREREQ', `${f.name} needs ${f.prereq === 'vlan' ? 'a VLAN (OFPVID_PRESENT)' : f.prereq} matched earlier in the match`);
  }
  if (getField(m.mask, d) !== 0n) {
    throw new OfpError('OFPBMC_DUP_FIELD', `${f.name} appears twice (or overlaps an earlier field)`);
  }
  if (mask === 0n) return;
  if (f.kind === 'port16' || f.kind === 'port32') {
    // As parse.ts: in_port un-wildcards the whole word, so wire and text flows compare equal.
    m.mask[W.IN_PORT] = 0xffffffff;
    m.value[W.IN_PORT] = Number(value);
    return;
  }
  const bitsMask = fieldFullMask(d);
  if (f.name === 'OXM_OF_VLAN_VID' && (mask ?? bitsMask) === bitsMask && value === 0n) {
    // OFPVID_NONE: no tag, so the whole TCI is 0; held as parse.ts holds dl_vlan=0xffff.
    m.mask[W.VLAN_TCI] = 0xffff;
    return;
  }
  if (f.kind === 'pcp') {
    m.mask[W.VLAN_TCI] = (m.mask[W.VLAN_TCI]! | 0xe000 | VLAN_CFI) >>> 0;
    m.value[W.VLAN_TCI] = (m.value[W.VLAN_TCI]! | VLAN_CFI | (Number(value) << 13)) >>> 0;
    return;
  }
  m.setMasked(d, value, mask === undefined ? bitsMask : mask & bitsMask);
}

/** Reads TLVs in [off, end) into a Match; NXM_NX_COOKIE(_W) is returned aside when `allowCookie`. */
function decodeTlvs(bytes: Uint8Array, off: number, end: number, allowCookie: boolean): { match: Match; cookie: bigint; cookieMask: bigint } {
  const m = new Match();
  let cookie = 0n, cookieMask = 0n;
  let at = off;
  while (at < end) {
    const e = readOxmEntry(bytes, at, end);
    const h = e.header;
    if (h.cls === OXM_CLASS.NXM_1 && h.field === 30 && (h.hasMask ? h.payloadLen === 16 : h.payloadLen === 8)) {
      if (!allowCookie) throw new OfpError('OFPBMC_BAD_FIELD', 'NXM_NX_COOKIE is only allowed in an nx_match of a flow-mod or flow stats request');
      if (cookieMask !== 0n) throw new OfpError('OFPBMC_DUP_FIELD', 'NXM_NX_COOKIE appears twice');
      cookieMask = e.mask ?? 0xffffffffffffffffn;
      cookie = e.value;
    } else {
      applyEntry(m, e);
    }
    at = e.next;
  }
  return { match: m, cookie, cookieMask };
}

// ---- OXM (OpenFlow 1.2+ ofp_match)

const OFPMT_OXM = 1;

/**
 * Decodes an ofp_match at `off`: type OFPMT_OXM, length (4 + TLVs), padding to 8.
 * Returns the match and the bytes it took, padding included.
 */
export function decodeOxmMatch(bytes: Uint8Array, off = 0): { match: Match; size: number } {
  if (bytes.length - off < 4) throw new OfpError('OFPBMC_BAD_LEN', 'ofp_match needs 4 bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(off), len = dv.getUint16(off + 2);
  if (type !== OFPMT_OXM) throw new OfpError('OFPBMC_BAD_TYPE', `ofp_match type ${type} is not OFPMT_OXM`);
  if (len < 4) throw new OfpError('OFPBMC_BAD_LEN', `ofp_match length ${len} is less than 4`);
  const size = (len + 7) & ~7;
  if (off + size > bytes.length) throw new OfpError('OFPBMC_BAD_LEN', `ofp_match of ${len} bytes (padded ${size}) overruns its message`);
  for (let i = off + len; i < off + size; i++) {
    if (bytes[i] !== 0) throw new OfpError('OFPBMC_BAD_LEN', 'ofp_match padding is not zero');
  }
  return { match: decodeTlvs(bytes, off + 4, off + len, false).match, size };
}

/**
 * The ofp_match (OFPMT_OXM) for `m`, padded to 8 bytes. OpenFlow 1.5 carries the registers as
 * OXM_OF_PKT_REG0-7 (64 bits each, as OVS's nx_put_raw does), earlier versions as NXM_NX_REG0-15.
 */
export function encodeOxmMatch(m: Match, version: OfpVersion = OFP13): Uint8Array {
  const tlvs = concat(matchTlvs(m, version >= OFP15 ? 'oxm15' : 'oxm'));
  verifyEncoding(m, decodeTlvs(tlvs, 0, tlvs.length, false).match, 'OXM');
  const len = 4 + tlvs.length;
  const out = new Uint8Array((len + 7) & ~7);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, OFPMT_OXM);
  dv.setUint16(2, len);
  out.set(tlvs, 4);
  return out;
}

// ---- nx_match (NXM, Nicira's flow-mod and flow stats)

/** Decodes `len` bytes of nx_match at `off` (no padding; the caller skips it). */
export function decodeNxMatch(bytes: Uint8Array, off: number, len: number): { match: Match; cookie: bigint; cookieMask: bigint } {
  if (off + len > bytes.length) throw new OfpError('OFPBMC_BAD_LEN', `nx_match of ${len} bytes overruns its message`);
  return decodeTlvs(bytes, off, off + len, true);
}

/** The nx_match bytes for `m` (unpadded); a cookie mask other than 0 adds NXM_NX_COOKIE(_W). */
export function encodeNxMatch(m: Match, cookie = 0n, cookieMask = 0n): Uint8Array {
  const parts = matchTlvs(m, 'nxm');
  const body = concat(parts);
  verifyEncoding(m, decodeTlvs(body, 0, body.length, false).match, 'NXM');
  if (cookieMask !== 0n) {
    const hdr = cookieMask === 0xffffffffffffffffn ? 0x00013c08 : 0x00013d10;
    const c = new Uint8Array(cookieMask === 0xffffffffffffffffn ? 12 : 20);
    const dv = new DataView(c.buffer);
    dv.setUint32(0, hdr);
    dv.setBigUint64(4, cookie & cookieMask);
    if (c.length === 20) dv.setBigUint64(12, cookieMask);
    parts.push(c);
  }
  return concat(parts);
}

// ---- Encoding helpers

type Fmt = 'oxm' | 'oxm15' | 'nxm';
const byName = (n: string): OxmField => oxmFieldByName(n)!;
const pick = (fmt: Fmt, nxm: string, oxm: string): OxmField => byName(fmt === 'nxm' ? nxm : oxm);

/** The field value and mask of `d` in `m`; undefined when wildcarded. */
function fv(m: Match, d: FieldDef): { v: bigint; mk: bigint } | undefined {
  const mk = getField(m.mask, d) & fieldFullMask(d); // nw_tos: the DSCP bits only
  return mk === 0n ? undefined : { v: getField(m.value, d) & mk, mk };
}

function put(out: Uint8Array[], f: OxmField, v: bigint, mk: bigint): void {
  const full = (1n << BigInt(8 * f.len)) - 1n;
  // A mask over every bit the field can hold is the exact form (vlan_vid: 0x1fff).
  out.push(oxmEntryBytes(f, v, mk === full || mk === f.valueBits || !f.maskable ? undefined : mk));
}

/** One TLV per matched field, prerequisites first (dl_type before nw_*, nw_proto before tp_*). */
function matchTlvs(m: Match, fmt: Fmt): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = m.value, mk = m.mask;
  if (mk[W.IN_PORT] !== 0) {
    const p = v[W.IN_PORT]!;
    if (fmt !== 'nxm') put(out, byName('OXM_OF_IN_PORT'), BigInt(portToOf11(p)), 0xffffffffn);
    else put(out, byName('NXM_OF_IN_PORT'), BigInt(p & 0xffff), 0xffffn);
  }
  const f = (n: string): FieldDef => byName(n).def!;
  for (const [nxm, oxm] of [['NXM_OF_ETH_SRC', 'OXM_OF_ETH_SRC'], ['NXM_OF_ETH_DST', 'OXM_OF_ETH_DST'], ['NXM_OF_ETH_TYPE', 'OXM_OF_ETH_TYPE']]) {
    const e = pick(fmt, nxm!, oxm!), x = fv(m, e.def!);
    if (x) put(out, e, x.v, x.mk);
  }
  const tm = mk[W.VLAN_TCI]!, tv = v[W.VLAN_TCI]!;
  if (tm !== 0) {
    if (fmt === 'nxm') put(out, byName('NXM_OF_VLAN_TCI'), BigInt(tv), BigInt(tm));
    else {
      if (tm & 0x1fff) put(out, byName('OXM_OF_VLAN_VID'), BigInt(tv & 0x1fff), BigInt(tm & 0x1fff));
      if ((tm & 0xe000) && (tv & VLAN_CFI)) put(out, byName('OXM_OF_VLAN_PCP'), BigInt(tv >>> 13), 7n);
    }
  }
  const dlType = mk[W.DL_TYPE] === 0xffff ? v[W.DL_TYPE]! : -1;
  const ip4 = dlType === ETH.IP, ip6 = dlType === ETH.IPV6, arp = dlType === ETH.ARP || dlType === ETH.RARP;
  const simple = (nxm: string, oxm: string): void => {
    const e = pick(fmt, nxm, oxm), x = fv(m, e.def!);
    if (x) put(out, e, x.v, x.mk);
  };
  if (ip4) { simple('NXM_OF_IP_SRC', 'OXM_OF_IPV4_SRC'); simple('NXM_OF_IP_DST', 'OXM_OF_IPV4_DST'); }
  if (ip6) { simple('NXM_NX_IPV6_SRC', 'OXM_OF_IPV6_SRC'); simple('NXM_NX_IPV6_DST', 'OXM_OF_IPV6_DST'); }
  if (ip4 || ip6) {
    simple('NXM_OF_IP_PROTO', 'OXM_OF_IP_PROTO');
    if (fmt === 'nxm') simple('NXM_OF_IP_TOS', 'NXM_OF_IP_TOS'); else simple('OXM_OF_IP_DSCP', 'OXM_OF_IP_DSCP');
    simple('NXM_NX_IP_ECN', 'OXM_OF_IP_ECN');
    simple('NXM_NX_IP_TTL', 'NXM_NX_IP_TTL');
    const proto = mk[W.NW_PROTO] === 0xff ? v[W.NW_PROTO]! : -1;
    const l4 = new Map<number, [string, string, string, string]>([
      [PROTO.TCP, ['NXM_OF_TCP_SRC', 'OXM_OF_TCP_SRC', 'NXM_OF_TCP_DST', 'OXM_OF_TCP_DST']],
      [PROTO.UDP, ['NXM_OF_UDP_SRC', 'OXM_OF_UDP_SRC', 'NXM_OF_UDP_DST', 'OXM_OF_UDP_DST']],
      [PROTO.SCTP, ['OXM_OF_SCTP_SRC', 'OXM_OF_SCTP_SRC', 'OXM_OF_SCTP_DST', 'OXM_OF_SCTP_DST']],
    ]);
    if (ip4) l4.set(PROTO.ICMP, ['NXM_OF_ICMP_TYPE', 'OXM_OF_ICMPV4_TYPE', 'NXM_OF_ICMP_CODE', 'OXM_OF_ICMPV4_CODE']);
    else l4.set(PROTO.ICMPV6, ['NXM_NX_ICMPV6_TYPE', 'OXM_OF_ICMPV6_TYPE', 'NXM_NX_ICMPV6_CODE', 'OXM_OF_ICMPV6_CODE']);
    const names = l4.get(proto);
    if (names) { simple(names[0], names[1]); simple(names[2], names[3]); }
  }
  if (arp) {
    for (const [nxm, oxm] of [['NXM_OF_ARP_OP', 'OXM_OF_ARP_OP'], ['NXM_OF_ARP_SPA', 'OXM_OF_ARP_SPA'], ['NXM_OF_ARP_TPA', 'OXM_OF_ARP_TPA'],
      ['NXM_NX_ARP_SHA', 'OXM_OF_ARP_SHA'], ['NXM_NX_ARP_THA', 'OXM_OF_ARP_THA']]) simple(nxm!, oxm!);
  }
  if (fmt === 'oxm15') for (let i = 0; i < N_REGS / 2; i++) simple(`OXM_OF_PKT_REG${i}`, `OXM_OF_PKT_REG${i}`);
  else for (let i = 0; i < N_REGS; i++) simple(`NXM_NX_REG${i}`, `NXM_NX_REG${i}`);
  simple('NXM_NX_CONJ_ID', 'NXM_NX_CONJ_ID');
  const md = fv(m, f('OXM_OF_METADATA'));
  if (md) put(out, byName('OXM_OF_METADATA'), md.v, md.mk);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export { concat as concatBytes, bytesToBig };
