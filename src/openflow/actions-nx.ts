/**
 * Nicira vendor actions (OFPAT_VENDOR/EXPERIMENTER 0xffff, vendor 0x00002320, then a 16-bit
 * subtype; OVS nicira-ext.h and ofp-actions.c). The 10-byte prefix is type, len, vendor,
 * subtype; every action is a multiple of 8 bytes.
 *
 * One table (NX_ACTIONS, a Map: subtypes come from the peer) lists every subtype OVS knows,
 * with its size rule: `fixed` (exactly `min` bytes) or at least `min`. The few bvs executes
 * are decoded into OfAction by decodeNx; every other known one is length-checked and refused
 * with OFPBAC_BAD_VENDOR_TYPE naming it (OVS's code for a vendor action it does not know), so
 * turning one on later means giving it a case in decodeNx.
 */
import { PACKET_IN_REASON, type OfAction, type PacketInReason } from '../ofproto/actions.ts';
import { OFPP } from '../ofproto/flow.ts';
import type { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { Reader, Writer, headerOfSubField, splitOfsNbits, subFieldOf, writeProp } from './action-wire.ts';
import { decodeSetFieldTlv } from './set-field.ts';

export const NX_VENDOR_ID = 0x00002320;

export const NXAST = {
  RESUBMIT: 1, REG_MOVE: 6, REG_LOAD: 7, RESUBMIT_TABLE: 14, DEC_TTL: 18, CONTROLLER: 20,
  REG_LOAD2: 33, CONTROLLER2: 37, GROUP: 40,
} as const;

interface NxKind { name: string; min: number; fixed: boolean }
const nx = (name: string, min: number, fixed = true): NxKind => ({ name, min, fixed });
const NX_ACTIONS = new Map<number, NxKind>([
  [1, nx('resubmit', 16)], [2, nx('set_tunnel', 16)], [4, nx('set_queue', 16)], [5, nx('pop_queue', 16)],
  [6, nx('move (reg_move)', 24, false)], [7, nx('load (reg_load)', 24)], [8, nx('note', 16, false)],
  [9, nx('set_tunnel64', 24)], [10, nx('multipath', 32)], [12, nx('bundle', 32, false)], [13, nx('bundle_load', 32, false)],
  [14, nx('resubmit (with table)', 16)], [15, nx('output_reg', 24)], [16, nx('learn', 32, false)], [17, nx('exit', 16)],
  [18, nx('dec_ttl', 16)], [19, nx('fin_timeout', 16)], [20, nx('controller', 16)], [21, nx('dec_ttl (with controller ids)', 16, false)],
  [22, nx('write_metadata', 32)], [23, nx('push_mpls', 16)], [24, nx('pop_mpls', 16)], [25, nx('set_mpls_ttl', 16)],
  [26, nx('dec_mpls_ttl', 16)], [27, nx('push (stack push)', 24)], [28, nx('pop (stack pop)', 24)], [29, nx('sample', 24)],
  [30, nx('set_mpls_label', 16)], [31, nx('set_mpls_tc', 16)], [32, nx('output_reg2', 24, false)], [33, nx('load (reg_load2)', 16, false)],
  [34, nx('conjunction', 16)], [35, nx('ct', 24, false)], [36, nx('nat', 16, false)], [37, nx('controller2', 16, false)],
  [38, nx('sample2', 32)], [39, nx('output_trunc', 16)], [40, nx('group', 16)], [41, nx('sample3', 32)], [42, nx('clone', 16, false)],
  [43, nx('ct_clear', 16)], [44, nx('resubmit (with table, ct)', 16)], [45, nx('learn2', 40, false)], [46, nx('encap', 16, false)],
  [47, nx('decap', 16)], [48, nx('dec_nsh_ttl', 16)], [49, nx('check_pkt_larger', 24)], [50, nx('delete_field', 16, false)],
  [51, nx('sample4', 40, false)], [254, nx('debug_slow', 16)], [255, nx('debug_recirc', 16)],
]);

const REASON_BY_NUMBER = new Map<number, PacketInReason>(
  (Object.entries(PACKET_IN_REASON) as [PacketInReason, number][]).map(([k, v]) => [v, k]));

/** Decodes the NX action of `len` bytes at `off` (its vendor id already read). */
export function decodeNx(r: Reader, off: number, len: number): OfAction {
  const sub = r.u16(off + 8, 'NX action subtype');
  const kind = NX_ACTIONS.get(sub);
  if (!kind) throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', `unknown Nicira action subtype ${sub}`);
  if (len < kind.min || (kind.fixed && len !== kind.min)) {
    throw new OfpError('OFPBAC_BAD_LEN', `Nicira ${kind.name} action has length ${len}, wants ${kind.fixed ? '' : 'at least '}${kind.min}`);
  }
  switch (sub) {
    case NXAST.RESUBMIT: return { type: 'resubmit', port: r.u16(off + 10) };
    case NXAST.RESUBMIT_TABLE: {
      const port = r.u16(off + 10), table = r.u8(off + 12);
      if (r.u8(off + 13) | r.u16(off + 14)) throw new OfpError('OFPBAC_BAD_ARGUMENT', 'resubmit: padding is not zero');
      const a: OfAction = { type: 'resubmit' };
      if (port !== OFPP.IN_PORT) a.port = port;
      if (table !== 255) a.table = table;
      if (a.port === undefined && a.table === undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', 'resubmit to the same port and table');
      return a;
    }
    case NXAST.REG_MOVE: {
      const nBits = r.u16(off + 10), srcOfs = r.u16(off + 12), dstOfs = r.u16(off + 14);
      const src = subFieldOf(r.u32(off + 16), srcOfs, nBits, 'move source');
      const dst = subFieldOf(r.u32(off + 20), dstOfs, nBits, 'move destination');
      checkZero(r, off + 24, len - 24, 'move');
      if (!dst.field.writable) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `move: ${dst.field.name} is read-only`);
      return { type: 'move', src, dst };
    }
    case NXAST.REG_LOAD: {
      const { ofs, nBits } = splitOfsNbits(r.u16(off + 10));
      const dst = subFieldOf(r.u32(off + 12), ofs, nBits, 'load');
      const value = r.u64(off + 16);
      if (nBits < 64 && value >> BigInt(nBits) !== 0n) throw new OfpError('OFPBAC_BAD_ARGUMENT', `load: value 0x${value.toString(16)} does not fit in ${nBits} bits`);
      if (!dst.field.writable) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `load: ${dst.field.name} is read-only`);
      return { type: 'load', dst, value };
    }
    case NXAST.REG_LOAD2: {
      checkZero(r, off + 10, 6, 'reg_load2');
      return decodeSetFieldTlv(r, off + 16, off + len, 'reg_load2');
    }
    case NXAST.DEC_TTL: checkZero(r, off + 10, 6, 'dec_ttl'); return { type: 'dec_ttl' };
    case NXAST.CONTROLLER: {
      const maxLen = r.u16(off + 10), id = r.u16(off + 12), reason = reasonOf(r.u8(off + 14));
      return { type: 'controller', maxLen, reason, id, spelling: 'long' };
    }
    case NXAST.CONTROLLER2: return decodeController2(r, off, len);
    case NXAST.GROUP: return { type: 'group', id: r.u32(off + 12) };
    default:
      if (len % 8 !== 0) throw new OfpError('OFPBAC_BAD_LEN', `Nicira ${kind.name} action length ${len} is not a multiple of 8`);
      throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', `Nicira action ${kind.name} (subtype ${sub}) is not supported by bvs yet`);
  }
}

function reasonOf(n: number): PacketInReason {
  const r = REASON_BY_NUMBER.get(n);
  if (r === undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', `controller: packet-in reason ${n} is not supported by bvs`);
  return r;
}

function checkZero(r: Reader, off: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) if (r.u8(off + i, what) !== 0) throw new OfpError('NXBAC_MUST_BE_ZERO', `${what}: padding is not zero`);
}

/**
 * NXAST_CONTROLLER2: 16-byte header, then properties (type, len, value, padded to 8):
 * max_len(0), controller_id(1), reason(2), userdata(3), pause(4), meter_id(5). meter_id is
 * refused (bvs has no controller meter).
 */
function decodeController2(r: Reader, off: number, len: number): OfAction {
  checkZero(r, off + 10, 6, 'controller2');
  const a: OfAction = { type: 'controller', maxLen: 0xffff, reason: 'action', id: 0, spelling: 'long' };
  let at = off + 16;
  const end = off + len;
  while (at < end) {
    const t = r.u16(at, 'controller2 property'), plen = r.u16(at + 2, 'controller2 property');
    if (plen < 4 || at + plen > end) throw new OfpError('OFPBAC_BAD_LEN', `controller2 property ${t} has length ${plen}`);
    // OVS writes a 16-bit property with 2 bytes of padding inside (length 8) and reads any
    // length that holds the value (ofpprop_parse_u16); the others are exact.
    const size = t === 0 || t === 1 ? 6 : t === 2 ? 5 : t === 5 ? 8 : t === 4 ? 4 : -1;
    const ok = t === 0 || t === 1 ? plen === 6 || plen === 8 : size < 0 || plen === size;
    if (!ok) throw new OfpError('OFPBAC_BAD_LEN', `controller2 property ${t} has length ${plen}, wants ${size}`);
    if (t === 0) a.maxLen = r.u16(at + 4);
    else if (t === 1) a.id = r.u16(at + 4);
    else if (t === 2) a.reason = reasonOf(r.u8(at + 4));
    else if (t === 3) a.userdata = r.slice(at + 4, plen - 4, 'controller2 userdata').slice();
    else if (t === 4) a.pause = true;
    else if (t === 5) throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', 'controller2 with meter_id is not supported by bvs yet');
    else throw new OfpError('OFPBAC_BAD_ARGUMENT', `controller2: unknown property ${t}`);
    at += (plen + 7) & ~7;
  }
  if (at !== end) throw new OfpError('OFPBAC_BAD_LEN', 'controller2 properties overrun the action');
  return a;
}

/** The 10-byte NX prefix with a length patched in by `finish`. */
function nxStart(w: Writer, sub: number): number {
  const at = w.len;
  w.u16(0xffff).u16(0).u32(NX_VENDOR_ID).u16(sub);
  return at;
}
function finish(w: Writer, at: number): void {
  w.pad8();
  w.patch16(at + 2, w.len - at);
}

export function encodeResubmit(w: Writer, a: Extract<OfAction, { type: 'resubmit' }>): void {
  if (a.table === undefined && a.port !== undefined) {
    const at = nxStart(w, NXAST.RESUBMIT);
    w.u16(a.port).zeros(4);
    return finish(w, at);
  }
  const at = nxStart(w, NXAST.RESUBMIT_TABLE);
  w.u16(a.port ?? OFPP.IN_PORT).u8(a.table ?? 255).zeros(3);
  finish(w, at);
}

export function encodeController(w: Writer, a: Extract<OfAction, { type: 'controller' }>): void {
  if (a.userdata || a.pause) return encodeController2(w, a);
  const at = nxStart(w, NXAST.CONTROLLER);
  w.u16(a.maxLen).u16(a.id).u8(PACKET_IN_REASON[a.reason]).u8(0);
  finish(w, at);
}

/** NXAST_CONTROLLER2 with the properties that differ from the defaults, as OVS writes it. */
function encodeController2(w: Writer, a: Extract<OfAction, { type: 'controller' }>): void {
  const at = nxStart(w, NXAST.CONTROLLER2);
  w.zeros(6);
  const prop = (type: number, write: () => void): void => writeProp(w, type, write);
  if (a.maxLen !== 0xffff) prop(0, () => w.u16(a.maxLen).zeros(2));
  if (a.id !== 0) prop(1, () => w.u16(a.id).zeros(2));
  if (a.reason !== 'action') prop(2, () => w.u8(PACKET_IN_REASON[a.reason]));
  if (a.userdata) prop(3, () => w.raw(a.userdata!));
  if (a.pause) prop(4, () => {});
  finish(w, at);
}

export function encodeRegLoad(w: Writer, a: Extract<OfAction, { type: 'load' }>, match?: Match): void {
  const { header, ofs } = headerOfSubField(a.dst, match);
  const at = nxStart(w, NXAST.REG_LOAD);
  w.u16((ofs << 6) | (a.dst.nBits - 1)).u32(header).u64(a.value);
  finish(w, at);
}

export function encodeRegMove(w: Writer, a: Extract<OfAction, { type: 'move' }>, match?: Match): void {
  const s = headerOfSubField(a.src, match), d = headerOfSubField(a.dst, match);
  const at = nxStart(w, NXAST.REG_MOVE);
  w.u16(a.src.nBits).u16(s.ofs).u16(d.ofs).u32(s.header).u32(d.header);
  finish(w, at);
}

export function encodeNxSimple(w: Writer, sub: typeof NXAST.DEC_TTL | typeof NXAST.GROUP, arg = 0): void {
  const at = nxStart(w, sub);
  if (sub === NXAST.GROUP) w.zeros(2).u32(arg); else w.zeros(6);
  finish(w, at);
}
