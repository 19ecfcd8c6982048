/**
 * OpenFlow 1.0's fixed 40-byte ofp_match (OpenFlow 1.0 §5.2.3): a wildcards word, then every
 * field at a fixed offset; nw_src/nw_dst wildcard the low N bits (N in a 6-bit count, 32 or
 * more: all). The representable matches are a small subset of bvs's: no registers, metadata,
 * IPv6 addresses, ARP hardware addresses, TTL or ECN, and no masks except IPv4 prefixes.
 *
 * Decoding follows OVS (ofputil_match_from_ofp10_match, then ofputil_normalize_match): fields
 * whose prerequisites the match does not pin are dropped rather than refused (OpenFlow 1.0 has
 * no prerequisite error; OVS only logs), nw_tos keeps its DSCP bits, dl_vlan 0xffff
 * (OFP_VLAN_NONE) means untagged. Encoding throws OfpError for a match it cannot carry.
 */
import { VLAN_CFI } from '../datapath/index.ts';
import { ETH, PROTO, W } from '../ofproto/flow.ts';
import { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';

export const OF10_MATCH_LEN = 40;

const FW = {
  IN_PORT: 1 << 0, DL_VLAN: 1 << 1, DL_SRC: 1 << 2, DL_DST: 1 << 3, DL_TYPE: 1 << 4, NW_PROTO: 1 << 5,
  TP_SRC: 1 << 6, TP_DST: 1 << 7, NW_SRC_SHIFT: 8, NW_DST_SHIFT: 14, DL_VLAN_PCP: 1 << 20, NW_TOS: 1 << 21,
  ALL: (1 << 22) - 1,
} as const;
const OFP_VLAN_NONE = 0xffff;

/** 0..63 wildcarded low bits -> a netmask (32 or more: none). */
function wcbitsToMask(n: number): number {
  n &= 0x3f;
  return n >= 32 ? 0 : (0xffffffff << n) >>> 0;
}

/** A netmask -> wildcarded low bits, or -1 when it is no prefix. */
function maskToWcbits(m: number): number {
  if (m === 0) return 32;
  const inv = (~m) >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return 32 - Math.clz32(inv) === 0 ? 0 : 32 - Math.clz32(inv);
}

export function decodeOf10Match(bytes: Uint8Array, off = 0): Match {
  if (bytes.length - off < OF10_MATCH_LEN) throw new OfpError('OFPBMC_BAD_LEN', `ofp_match needs ${OF10_MATCH_LEN} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + off, OF10_MATCH_LEN);
  const fw = dv.getUint32(0) & FW.ALL;
  const m = new Match();
  const v = m.value, mk = m.mask;
  const exact = (bit: number, word: number, val: number, full: number): void => {
    if (fw & bit) return;
    mk[word] = full;
    v[word] = val;
  };
  exact(FW.IN_PORT, W.IN_PORT, dv.getUint16(4), 0xffffffff);
  if (!(fw & FW.DL_SRC)) setMac(m, W.DL_SRC, bytes, off + 6);
  if (!(fw & FW.DL_DST)) setMac(m, W.DL_DST, bytes, off + 12);
  const dlVlan = dv.getUint16(18), pcp = dv.getUint8(20);
  if (!(fw & FW.DL_VLAN) && dlVlan === OFP_VLAN_NONE) {
    mk[W.VLAN_TCI] = 0xffff; // untagged: with or without a PCP, as OVS (older OVS did the same)
    v[W.VLAN_TCI] = 0;
  } else {
    let tm = 0;
    if (!(fw & FW.DL_VLAN_PCP)) tm |= 0xe000 | VLAN_CFI;
    if (!(fw & FW.DL_VLAN)) tm |= 0x0fff | VLAN_CFI;
    mk[W.VLAN_TCI] = tm;
    v[W.VLAN_TCI] = ((dlVlan & 0xfff) | ((pcp << 13) & 0xe000) | VLAN_CFI) & tm;
  }
  exact(FW.DL_TYPE, W.DL_TYPE, dv.getUint16(22), 0xffff);
  if (!(fw & FW.NW_TOS)) { mk[W.NW_TOS] = 0xfc; v[W.NW_TOS] = dv.getUint8(24) & 0xfc; }
  exact(FW.NW_PROTO, W.NW_PROTO, dv.getUint8(25), 0xff);
  const srcMask = wcbitsToMask(fw >>> FW.NW_SRC_SHIFT), dstMask = wcbitsToMask(fw >>> FW.NW_DST_SHIFT);
  mk[W.NW_SRC] = srcMask; v[W.NW_SRC] = (dv.getUint32(28) & srcMask) >>> 0;
  mk[W.NW_DST] = dstMask; v[W.NW_DST] = (dv.getUint32(32) & dstMask) >>> 0;
  exact(FW.TP_SRC, W.TP_SRC, dv.getUint16(36), 0xffff);
  exact(FW.TP_DST, W.TP_DST, dv.getUint16(38), 0xffff);
  normalize(m);
  return m;
}

function setMac(m: Match, word: number, b: Uint8Array, at: number): void {
  m.mask[word] = 0xffff;
  m.mask[word + 1] = 0xffffffff;
  m.value[word] = (b[at]! << 8) | b[at + 1]!;
  m.value[word + 1] = ((b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!) >>> 0;
}

/**
 * OVS ofputil_normalize_match: wildcard what the match's dl_type/nw_proto make meaningless.
 * ICMP type/code live in tp_src/tp_dst, so ICMP (and ICMPv6) keep them.
 */
function normalize(m: Match): void {
  const t = m.mask[W.DL_TYPE] === 0xffff ? m.value[W.DL_TYPE]! : 0;
  const proto = m.value[W.NW_PROTO]!;
  const ip4 = t === ETH.IP, ip6 = t === ETH.IPV6, arp = t === ETH.ARP || t === ETH.RARP;
  const tp = (ip4 && (proto === PROTO.TCP || proto === PROTO.UDP || proto === PROTO.SCTP || proto === PROTO.ICMP))
    || (ip6 && (proto === PROTO.TCP || proto === PROTO.UDP || proto === PROTO.SCTP || proto === PROTO.ICMPV6));
  const clear = (word: number): void => { m.mask[word] = 0; m.value[word] = 0; };
  if (!ip4 && !arp) { clear(W.NW_SRC); clear(W.NW_DST); }
  if (!tp) { clear(W.TP_SRC); clear(W.TP_DST); }
  if (!ip4 && !ip6 && !arp) clear(W.NW_PROTO);
  if (!ip4 && !ip6) clear(W.NW_TOS);
  // ICMP type and code are 8-bit fields in the low byte of tp_src/tp_dst (as parse.ts holds them).
  const icmp = (ip4 && proto === PROTO.ICMP) || (ip6 && proto === PROTO.ICMPV6);
  for (const w of [W.TP_SRC, W.TP_DST]) if (icmp && m.mask[w] === 0xffff && m.value[w]! <= 0xff) m.mask[w] = 0xff;
}

export function encodeOf10Match(m: Match): Uint8Array {
  const out = new Uint8Array(OF10_MATCH_LEN);
  const dv = new DataView(out.buffer);
  const v = m.value, mk = m.mask;
  let fw = 0;
  const field = (bit: number, word: number, write: () => void): void => {
    if (mk[word] === 0) fw |= bit; else write();
  };
  field(FW.IN_PORT, W.IN_PORT, () => dv.setUint16(4, v[W.IN_PORT]! & 0xffff));
  const mac = (bit: number, word: number, at: number): void => {
    if (mk[word] === 0 && mk[word + 1] === 0) { fw |= bit; return; }
    dv.setUint16(at, v[word]! & 0xffff);
    dv.setUint32(at + 2, v[word + 1]!);
  };
  mac(FW.DL_SRC, W.DL_SRC, 6);
  mac(FW.DL_DST, W.DL_DST, 12);
  const tm = mk[W.VLAN_TCI]!, tv = v[W.VLAN_TCI]!;
  if (tm === 0) fw |= FW.DL_VLAN | FW.DL_VLAN_PCP;
  else if ((tm & VLAN_CFI) && !(tv & VLAN_CFI)) dv.setUint16(18, OFP_VLAN_NONE);
  else {
    if (!(tm & 0x0fff)) fw |= FW.DL_VLAN; else dv.setUint16(18, tv & 0xfff);
    if (!(tm & 0xe000)) fw |= FW.DL_VLAN_PCP; else dv.setUint8(20, tv >>> 13);
  }
  field(FW.DL_TYPE, W.DL_TYPE, () => dv.setUint16(22, v[W.DL_TYPE]!));
  if ((mk[W.NW_TOS]! & 0xfc) === 0) fw |= FW.NW_TOS; else dv.setUint8(24, v[W.NW_TOS]! & 0xfc);
  field(FW.NW_PROTO, W.NW_PROTO, () => dv.setUint8(25, v[W.NW_PROTO]!));
  const sb = maskToWcbits(mk[W.NW_SRC]!), db = maskToWcbits(mk[W.NW_DST]!);
  fw |= (Math.max(sb, 0) << FW.NW_SRC_SHIFT) | (Math.max(db, 0) << FW.NW_DST_SHIFT);
  dv.setUint32(28, v[W.NW_SRC]!);
  dv.setUint32(32, v[W.NW_DST]!);
  field(FW.TP_SRC, W.TP_SRC, () => dv.setUint16(36, v[W.TP_SRC]!));
  field(FW.TP_DST, W.TP_DST, () => dv.setUint16(38, v[W.TP_DST]!));
  dv.setUint32(0, fw >>> 0);
  if (sb < 0 || db < 0) throw new OfpError('OFPBMC_BAD_FIELD', 'OpenFlow 1.0 matches IPv4 addresses only by prefix');
  verifyEncoding(m, decodeOf10Match(out), 'OpenFlow 1.0');
  return out;
}

/**
 * The encoding decoded back must be the match itself, or the format cannot carry it. One
 * tolerance: a match on "no VLAN" (VLAN_CFI matched as 0) means vlan_tci == 0 whatever other
 * TCI bits it masks; OXM and OpenFlow 1.0 carry it as such (as OVS does). Likewise in_port is
 * one 16-bit field whether its word mask is 0xffff or all ones.
 */
export function verifyEncoding(want: Match, got: Match, format: string): void {
  if (canon(got).equals(canon(want))) return;
  throw new OfpError('OFPBMC_BAD_FIELD', `this match cannot be expressed in ${format} (a field it matches, or the mask on one, has no ${format} form)`);
}

function canon(m: Match): Match {
  const c = m.clone();
  if ((m.mask[W.VLAN_TCI]! & VLAN_CFI) !== 0 && m.value[W.VLAN_TCI] === 0) c.mask[W.VLAN_TCI] = 0xffff;
  if (m.mask[W.IN_PORT] === 0xffff) c.mask[W.IN_PORT] = 0xffffffff;
  return c;
}
