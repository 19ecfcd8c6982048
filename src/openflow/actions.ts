/**
 * OpenFlow action lists, to and from bvs's OfAction[] (src/ofproto/actions.ts).
 *
 * Every action is type (16), len (16, a multiple of 8, at least 8), then its body. The
 * numbering differs: OpenFlow 1.0 has OFPAT10_* (output 0, set_vlan_vid 1, ... enqueue 11);
 * 1.1+ renumbers (output 0, the deprecated set_* 1-10, group 22, dec_nw_ttl 24, set_field 25;
 * 1.5 adds copy_field 28, meter 29). 0xffff is the vendor/experimenter action; Nicira's are in
 * actions-nx.ts, and no other vendor is known (OFPBAC_BAD_VENDOR).
 *
 * Decoding maps each wire action onto the OfAction that ovs-ofctl's text for it would parse to
 * (`spelling` records which wire form it came in, so a decode-encode-decode is stable). Actions
 * bvs does not execute (enqueue, set_queue, MPLS, TTL copies, PBB) are length-checked and
 * refused with OFPBAC_BAD_TYPE naming them.
 *
 * Encoding takes the flow's match where a choice depends on it (mod_tp_src has no OXM of its
 * own). An action a version cannot express (push_vlan in 1.0) throws OfpError.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { VLAN_CFI } from '../datapath/index.ts';
import { OFPP, W } from '../ofproto/flow.ts';
import { fieldByName } from '../ofproto/fields.ts';
import type { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP15, type OfpVersion } from './version.ts';
import { Reader, Writer, checkOutputPort, headerOfSubField, subFieldOf } from './action-wire.ts';
import {
  NX_VENDOR_ID, NXAST, decodeNx, encodeController, encodeNxSimple, encodeRegLoad, encodeRegMove, encodeResubmit,
} from './actions-nx.ts';
import { decodeSetFieldTlv, loadAsSetField, setFieldTlv } from './set-field.ts';
import { portFromOf11, portToOf11 } from './oxm.ts';

export interface ActionContext {
  /** The flow's match, for encodings that depend on it (mod_tp_src, mod_vlan_* in OpenFlow 1.2+). */
  match?: Match;
  /**
   * Whether the packet has a VLAN tag at this point of the list (OVS's flow_has_vlan): from the
   * match, then push_vlan/pop_vlan. Filled in by encodeActions/encodeInstructions.
   */
  vlan?: { has: boolean };
}

/** A fresh context for one action list: the VLAN state starts from the match. */
export function startContext(ctx: ActionContext): ActionContext {
  const m = ctx.match;
  const has = m !== undefined && (m.mask[W.VLAN_TCI]! & VLAN_CFI) !== 0 && (m.value[W.VLAN_TCI]! & VLAN_CFI) !== 0;
  return { ...ctx, vlan: { has } };
}

/** ovs-ofctl's mod_* names of the classic set actions, with the field each sets. */
const OF10_SET = new Map<number, [string, string, number]>([
  [4, ['mod_dl_src', 'dl_src', 16]], [5, ['mod_dl_dst', 'dl_dst', 16]], [6, ['mod_nw_src', 'nw_src', 8]],
  [7, ['mod_nw_dst', 'nw_dst', 8]], [8, ['mod_nw_tos', 'nw_tos', 8]], [9, ['mod_tp_src', 'tp_src', 8]], [10, ['mod_tp_dst', 'tp_dst', 8]],
]);
/** 1.1+: the same, renumbered (3..10), plus set_nw_ecn (8) and set_nw_ttl (23). */
const OF11_SET = new Map<number, [string, string, number]>([
  [3, ['mod_dl_src', 'dl_src', 16]], [4, ['mod_dl_dst', 'dl_dst', 16]], [5, ['mod_nw_src', 'nw_src', 8]],
  [6, ['mod_nw_dst', 'nw_dst', 8]], [7, ['mod_nw_tos', 'nw_tos', 8]], [8, ['mod_nw_ecn', 'nw_ecn', 8]],
  [9, ['mod_tp_src', 'tp_src', 8]], [10, ['mod_tp_dst', 'tp_dst', 8]], [23, ['mod_nw_ttl', 'nw_ttl', 8]],
]);
/** Known actions bvs refuses: type -> [name, length rule (exact; negative: at least)]. */
const OF10_REFUSED = new Map<number, [string, number]>([[11, ['enqueue', 16]]]);
const OF11_REFUSED = new Map<number, [string, number]>([
  [11, ['copy_ttl_out', 8]], [12, ['copy_ttl_in', 8]], [13, ['set_mpls_label', 8]], [14, ['set_mpls_tc', 8]],
  [15, ['set_mpls_ttl', 8]], [16, ['dec_mpls_ttl', 8]], [19, ['push_mpls', 8]], [20, ['pop_mpls', 8]], [21, ['set_queue', 8]],
  [26, ['push_pbb', 8]], [27, ['pop_pbb', 8]],
]);

/** Decodes the action list in [off, off + len) of `bytes`. */
export function decodeActions(version: OfpVersion, bytes: Uint8Array, off = 0, len = bytes.length - off): OfAction[] {
  const r = new Reader(bytes, 'OFPBAC_BAD_LEN');
  r.need(off, len, 'action list');
  const out: OfAction[] = [];
  const end = off + len;
  for (let at = off; at < end;) {
    if (end - at < 8) throw new OfpError('OFPBAC_BAD_LEN', `${end - at} bytes left over after the actions`);
    const alen = r.u16(at + 2);
    if (alen < 8 || alen % 8 !== 0 || at + alen > end) throw new OfpError('OFPBAC_BAD_LEN', `action of length ${alen} (${end - at} bytes left)`);
    out.push(decodeOne(version, r, at, alen));
    at += alen;
  }
  return out;
}

function exact(len: number, want: number, name: string): void {
  if (len !== want) throw new OfpError('OFPBAC_BAD_LEN', `${name} action has length ${len}, wants ${want}`);
}

function decodeOne(version: OfpVersion, r: Reader, at: number, len: number): OfAction {
  const type = r.u16(at);
  if (type === 0xffff) {
    const vendor = r.u32(at + 4);
    if (vendor !== NX_VENDOR_ID) throw new OfpError('OFPBAC_BAD_VENDOR', `unknown action vendor 0x${vendor.toString(16)}`);
    return decodeNx(r, at, len);
  }
  return version === OFP10 ? decodeOf10(r, at, len, type) : decodeOf11(version, r, at, len, type);
}

function output(port: number, maxLen: number): OfAction {
  checkOutputPort(port);
  if (port === OFPP.CONTROLLER) return { type: 'controller', maxLen, reason: 'action', id: 0, spelling: 'short' };
  return { type: 'output', port };
}

function classicSet(r: Reader, at: number, len: number, spec: [string, string, number]): OfAction {
  const [spelling, name, want] = spec;
  exact(len, want, spelling);
  const field = fieldByName(name)!;
  let value: bigint;
  if (name === 'dl_src' || name === 'dl_dst') value = (BigInt(r.u16(at + 4)) << 32n) | BigInt(r.u32(at + 6));
  else if (name === 'nw_src' || name === 'nw_dst') value = BigInt(r.u32(at + 4));
  else if (name === 'tp_src' || name === 'tp_dst') value = BigInt(r.u16(at + 4));
  else value = BigInt(r.u8(at + 4));
  if (name === 'nw_tos' && (value & 3n) !== 0n) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${spelling}: ${value} has ECN bits set`);
  if (name === 'nw_ecn' && value > 3n) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${spelling}: ${value} is more than 3`);
  return { type: 'set_field', field, value, spelling };
}

/** set_vlan_vid (1) and set_vlan_pcp (2): the same numbers in 1.0 and 1.1+. */
function vlanSet(r: Reader, at: number, len: number, type: 1 | 2): OfAction {
  const name = type === 1 ? 'set_vlan_vid' : 'set_vlan_pcp';
  exact(len, 8, name);
  const v = type === 1 ? r.u16(at + 4) : r.u8(at + 4);
  const max = type === 1 ? 0xfff : 7;
  if (v > max) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${name}: ${v} is more than ${max}`);
  return type === 1 ? { type: 'mod_vlan_vid', vid: v } : { type: 'mod_vlan_pcp', pcp: v };
}

function refused(spec: [string, number] | undefined, len: number, type: number): never {
  if (!spec) throw new OfpError('OFPBAC_BAD_TYPE', `unknown action type ${type}`);
  exact(len, spec[1], spec[0]);
  throw new OfpError('OFPBAC_BAD_TYPE', `action ${spec[0]} is not supported by bvs yet`);
}

function decodeOf10(r: Reader, at: number, len: number, type: number): OfAction {
  switch (type) {
    case 0: exact(len, 8, 'output'); return output(r.u16(at + 4), r.u16(at + 6));
    case 1: case 2: return vlanSet(r, at, len, type);
    case 3: exact(len, 8, 'strip_vlan'); return { type: 'pop_vlan', spelling: 'strip_vlan' };
    default: break;
  }
  const set = OF10_SET.get(type);
  if (set) return classicSet(r, at, len, set);
  return refused(OF10_REFUSED.get(type), len, type);
}

function decodeOf11(version: OfpVersion, r: Reader, at: number, len: number, type: number): OfAction {
  switch (type) {
    case 0: {
      exact(len, 16, 'output');
      const p = portFromOf11(r.u32(at + 4));
      if (p === undefined) throw new OfpError('OFPBAC_BAD_OUT_PORT', `output to port 0x${r.u32(at + 4).toString(16)}`);
      return output(p, r.u16(at + 8));
    }
    case 1: case 2: {
      // 1.1's set_vlan_vid/pcp do not push a tag (OVS: push_vlan_if_needed only for 1.0's).
      const a = vlanSet(r, at, len, type);
      if (a.type === 'mod_vlan_vid') return { type: 'set_field', field: fieldByName('vlan_vid')!, value: BigInt(a.vid | VLAN_CFI), spelling: 'set_field' };
      if (a.type === 'mod_vlan_pcp') return { type: 'set_field', field: fieldByName('dl_vlan_pcp')!, value: BigInt(a.pcp), spelling: 'set_field' };
      return a;
    }
    case 17: {
      exact(len, 8, 'push_vlan');
      const tpid = r.u16(at + 4);
      if (tpid !== 0x8100 && tpid !== 0x88a8) throw new OfpError('OFPBAC_BAD_ARGUMENT', `push_vlan: ethertype 0x${tpid.toString(16)}`);
      return { type: 'push_vlan', tpid };
    }
    case 18: exact(len, 8, 'pop_vlan'); return { type: 'pop_vlan', spelling: 'pop_vlan' };
    case 22: exact(len, 8, 'group'); return { type: 'group', id: r.u32(at + 4) };
    case 24: exact(len, 8, 'dec_nw_ttl'); return { type: 'dec_ttl' };
    case 25: return decodeSetFieldTlv(r, at + 4, at + len, 'set_field', version >= OFP15);
    case 28: {
      if (version < OFP15) break;
      if (len < 24) throw new OfpError('OFPBAC_BAD_LEN', `copy_field action has length ${len}, wants at least 24`);
      const nBits = r.u16(at + 4), srcOfs = r.u16(at + 6), dstOfs = r.u16(at + 8);
      const src = subFieldOf(r.u32(at + 12), srcOfs, nBits, 'copy_field source');
      const dst = subFieldOf(r.u32(at + 16), dstOfs, nBits, 'copy_field destination');
      if (!dst.field.writable) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `copy_field: ${dst.field.name} is read-only`);
      return { type: 'move', src, dst };
    }
    case 29: if (version >= OFP15) { exact(len, 8, 'meter'); return { type: 'meter', id: r.u32(at + 4) }; } break;
    default: break;
  }
  const set = OF11_SET.get(type);
  if (set) return classicSet(r, at, len, set);
  return refused(OF11_REFUSED.get(type), len, type);
}

// ---- Encoding

export function encodeActions(version: OfpVersion, actions: readonly OfAction[], ctx: ActionContext = {}): Uint8Array {
  const w = new Writer();
  const c = startContext(ctx);
  for (const a of actions) encodeOne(version, w, a, c);
  return w.bytes();
}

/** Writes one action; goto_table is an instruction, not an action (see instructions.ts). */
export function encodeOne(version: OfpVersion, w: Writer, a: OfAction, ctx: ActionContext): void {
  const v10 = version === OFP10;
  switch (a.type) {
    case 'output':
      if (v10) w.u16(0).u16(8).u16(a.port).u16(0);
      else w.u16(0).u16(16).u32(portToOf11(a.port)).u16(0).zeros(6);
      return;
    case 'controller':
      if (a.spelling === 'long' || a.reason !== 'action' || a.id !== 0) return encodeController(w, a);
      if (v10) w.u16(0).u16(8).u16(OFPP.CONTROLLER).u16(a.maxLen);
      else w.u16(0).u16(16).u32(portToOf11(OFPP.CONTROLLER)).u16(a.maxLen).zeros(6);
      return;
    case 'mod_vlan_vid': case 'mod_vlan_pcp': {
      if (v10) {
        if (a.type === 'mod_vlan_vid') w.u16(1).u16(8).u16(a.vid).zeros(2); else w.u16(2).u16(8).u8(a.pcp).zeros(3);
        return;
      }
      // As OVS for 1.2+: set_field, after a push_vlan when the packet may have no tag yet
      // (1.0's set_vlan_* push one when needed).
      const vlan = ctx.vlan ?? { has: false };
      if (!vlan.has) w.u16(17).u16(8).u16(0x8100).zeros(2);
      vlan.has = true;
      const sf: OfAction = a.type === 'mod_vlan_vid'
        ? { type: 'set_field', field: fieldByName('vlan_vid')!, value: BigInt(a.vid | VLAN_CFI), spelling: 'set_field' }
        : { type: 'set_field', field: fieldByName('dl_vlan_pcp')!, value: BigInt(a.pcp), spelling: 'set_field' };
      return encodeSetField(version, w, sf, ctx);
    }
    case 'pop_vlan':
      w.u16(v10 ? 3 : 18).u16(8).zeros(4);
      if (ctx.vlan) ctx.vlan.has = false;
      return;
    case 'push_vlan':
      if (v10) throw new OfpError('OFPBAC_BAD_TYPE', 'push_vlan has no OpenFlow 1.0 form');
      w.u16(17).u16(8).u16(a.tpid).zeros(2);
      if (ctx.vlan) ctx.vlan.has = true;
      return;
    case 'group':
      if (v10) return encodeNxSimple(w, NXAST.GROUP, a.id);
      w.u16(22).u16(8).u32(a.id);
      return;
    case 'dec_ttl':
      if (v10) return encodeNxSimple(w, NXAST.DEC_TTL);
      w.u16(24).u16(8).zeros(4);
      return;
    case 'resubmit': return encodeResubmit(w, a);
    case 'goto_table': throw new OfpError('OFPBAC_BAD_TYPE', 'goto_table is an instruction (OpenFlow 1.1+), not an action');
    case 'move':
      if (version >= OFP15) {
        const s = headerOfSubField(a.src, ctx.match), d = headerOfSubField(a.dst, ctx.match);
        w.u16(28).u16(24).u16(a.src.nBits).u16(s.ofs).u16(d.ofs).zeros(2).u32(s.header).u32(d.header).zeros(4);
        return;
      }
      return encodeRegMove(w, a, ctx.match);
    case 'load':
      if (version >= OFP15) return encodeSetField(version, w, loadAsSetField(a), ctx);
      if (a.dst.nBits > 64) return encodeSetField(version, w, loadAsSetField(a), ctx);
      return encodeRegLoad(w, a, ctx.match);
    case 'set_field': return encodeSetField(version, w, a, ctx);
    // OFPAT_METER from 1.5; before, the meter instruction (instructions.ts); nothing in 1.0 (as OVS).
    case 'meter': if (version >= OFP15) w.u16(29).u16(8).u32(a.id); return;
  }
}

/** The runs of 1-bits of `mask`, low to high, each at most 64 bits. */
function maskRuns(mask: bigint): { ofs: number; nBits: number }[] {
  const out: { ofs: number; nBits: number }[] = [];
  for (let ofs = 0; mask >> BigInt(ofs) !== 0n;) {
    if (((mask >> BigInt(ofs)) & 1n) === 0n) { ofs++; continue; }
    let n = 0;
    while (n < 64 && ((mask >> BigInt(ofs + n)) & 1n) === 1n) n++;
    out.push({ ofs, nBits: n });
    ofs += n;
  }
  return out;
}

function encodeSetField(version: OfpVersion, w: Writer, a: Extract<OfAction, { type: 'set_field' }>, ctx: ActionContext): void {
  if (version === OFP10 && a.mask === undefined) {
    const classic = [...OF10_SET].find(([, s]) => s[1] === a.field.name);
    if (classic) {
      const [type, [, name, len]] = classic;
      w.u16(type).u16(len);
      if (name === 'dl_src' || name === 'dl_dst') w.u16(Number(a.value >> 32n)).u32(Number(a.value & 0xffffffffn)).zeros(6);
      else if (name === 'nw_src' || name === 'nw_dst') w.u32(Number(a.value));
      else if (name === 'tp_src' || name === 'tp_dst') w.u16(Number(a.value)).zeros(2);
      else w.u8(Number(a.value)).zeros(3);
      return;
    }
  }
  if (version === OFP10 || (a.mask !== undefined && version < OFP15)) {
    // As OVS: one reg_load per contiguous run of the mask (a reg_load carries 64 bits at most).
    const mask = a.mask ?? (1n << BigInt(a.field.bits)) - 1n;
    for (const { ofs, nBits } of maskRuns(mask)) {
      const value = (a.value >> BigInt(ofs)) & ((1n << BigInt(nBits)) - 1n);
      encodeRegLoad(w, { type: 'load', dst: { field: a.field, ofs, nBits }, value }, ctx.match);
    }
    return;
  }
  const tlv = setFieldTlv(a, ctx.match);
  const at = w.len;
  w.u16(25).u16(0).raw(tlv).pad8();
  w.patch16(at + 2, w.len - at);
}
