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
 * bvs does not execute (MPLS, TTL copies, PBB) are length-checked and refused with
 * OFPBAC_BAD_TYPE naming them. A decoded list is then checked as OVS's ofpacts_verify does:
 * conjunction goes with note only (NXBAC_BAD_CONJUNCTION); write_metadata (1.0's NX action) only
 * ends a top-level list (an instruction elsewhere: OFPBIC_UNSUP_INST); 1.1+'s enqueue triple
 * set_queue, output, pop_queue folds back into enqueue.
 *
 * Encoding takes the flow's match where a choice depends on it (mod_tp_src has no OXM of its
 * own). An action a version cannot express (push_vlan in 1.0) throws OfpError.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { VLAN_CFI } from '../datapath/index.ts';
import { OFPP, W } from '../ofproto/flow.ts';
import { fieldByName } from '../ofproto/fields.ts';
import type { Match } from '../ofproto/match.ts';
import { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP15, type OfpVersion } from './version.ts';
import { checkOutputPort, headerOfSubField, NX_VENDOR_ID, subFieldOf, writableSubField } from './action-wire.ts';
import {
  NXAST, POP_QUEUE, decodeNx, encodeNx, encodeNxSimple, encodeRegLoad, encodeRegMove, encodeResubmit, type NxLists, type PopQueue,
} from './actions-nx.ts';
import { OF10_SET, OF11_SET, decodeClassicSet, encodeSetField, exactLen } from './actions-set.ts';
import { decodeSetFieldTlv, loadAsSetField } from './set-field.ts';
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

/** Known actions bvs refuses: type -> [name, exact length]. */
const OF11_REFUSED = new Map<number, [string, number]>([
  [11, ['copy_ttl_out', 8]], [12, ['copy_ttl_in', 8]], [13, ['set_mpls_label', 8]], [14, ['set_mpls_tc', 8]],
  [15, ['set_mpls_ttl', 8]], [16, ['dec_mpls_ttl', 8]], [19, ['push_mpls', 8]], [20, ['pop_mpls', 8]],
  [26, ['push_pbb', 8]], [27, ['pop_pbb', 8]],
]);

/**
 * Decodes the action list in [off, off + len) of `bytes`. `where` is the list's place: a
 * flow-mod's (or packet-out's) own list, or one nested in clone() or an apply-actions
 * instruction, where instructions are not allowed.
 */
export function decodeActions(version: OfpVersion, bytes: Uint8Array, off = 0, len = bytes.length - off, where: 'top' | 'nested' = 'top'): OfAction[] {
  const r = new Reader(bytes, 'OFPBAC_BAD_LEN', 'action list');
  r.needAt(off, len);
  const lists: NxLists = {
    decode: (o, n) => decodeActions(version, bytes, o, n, 'nested'),
    encode: () => { throw new Error('decode only'); },
  };
  const out: OfAction[] = [];
  const end = off + len;
  for (let at = off; at < end;) {
    if (end - at < 8) throw new OfpError('OFPBAC_BAD_LEN', `${end - at} bytes left over after the actions`);
    const alen = r.u16(at + 2);
    if (alen < 8 || alen % 8 !== 0 || at + alen > end) throw new OfpError('OFPBAC_BAD_LEN', `action of length ${alen} (${end - at} bytes left)`);
    const a = decodeOne(version, r, at, alen, lists);
    if (a.type === POP_QUEUE.type) foldEnqueue(out);
    else out.push(a);
    at += alen;
  }
  return verifyList(version, out, where);
}

/** set_queue:Q, output:P, pop_queue (OVS's 1.1+ enqueue) becomes enqueue:P:Q; a lone pop_queue is refused. */
function foldEnqueue(out: OfAction[]): void {
  const q = out[out.length - 2], o = out[out.length - 1];
  if (q?.type !== 'set_queue' || o?.type !== 'output' || o.maxLen !== undefined) {
    throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', 'Nicira action pop_queue is not supported by bvs yet (only after set_queue, output)');
  }
  out.splice(out.length - 2, 2, { type: 'enqueue', port: o.port, queue: q.queue });
}

function verifyList(version: OfpVersion, out: OfAction[], where: 'top' | 'nested'): OfAction[] {
  if (out.some((a) => a.type === 'conjunction') && out.some((a) => a.type !== 'conjunction' && a.type !== 'note')) {
    throw new OfpError('NXBAC_BAD_CONJUNCTION', 'conjunction may be used along with note but not any other kind of action');
  }
  const wm = out.findIndex((a) => a.type === 'write_metadata');
  if (wm >= 0 && (where === 'nested' || version !== OFP10)) throw new OfpError('OFPBIC_UNSUP_INST', 'write_metadata instruction not allowed here');
  if (wm >= 0 && wm !== out.length - 1) throw new OfpError('OFPBAC_UNSUPPORTED_ORDER', 'invalid instruction ordering: apply_actions must appear before write_metadata');
  return out;
}

function decodeOne(version: OfpVersion, r: Reader, at: number, len: number, lists: NxLists): OfAction | PopQueue {
  const type = r.u16(at);
  if (type === 0xffff) {
    const vendor = r.u32(at + 4);
    if (vendor !== NX_VENDOR_ID) throw new OfpError('OFPBAC_BAD_VENDOR', `unknown action vendor 0x${vendor.toString(16)}`);
    return decodeNx(version, r, at, len, lists);
  }
  return version === OFP10 ? decodeOf10(r, at, len, type) : decodeOf11(version, r, at, len, type);
}

function output(port: number, maxLen: number): OfAction {
  checkOutputPort(port);
  if (port === OFPP.CONTROLLER) return { type: 'controller', maxLen, reason: 'action', id: 0, spelling: 'short' };
  return { type: 'output', port };
}

/** set_vlan_vid (1) and set_vlan_pcp (2): the same numbers in 1.0 and 1.1+. */
function vlanSet(r: Reader, at: number, len: number, type: 1 | 2): OfAction {
  const name = type === 1 ? 'set_vlan_vid' : 'set_vlan_pcp';
  exactLen(len, 8, name);
  const v = type === 1 ? r.u16(at + 4) : r.u8(at + 4);
  const max = type === 1 ? 0xfff : 7;
  if (v > max) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${name}: ${v} is more than ${max}`);
  return type === 1 ? { type: 'mod_vlan_vid', vid: v } : { type: 'mod_vlan_pcp', pcp: v };
}

function refused(spec: [string, number] | undefined, len: number, type: number): never {
  if (!spec) throw new OfpError('OFPBAC_BAD_TYPE', `unknown action type ${type}`);
  exactLen(len, spec[1], spec[0]);
  throw new OfpError('OFPBAC_BAD_TYPE', `action ${spec[0]} is not supported by bvs yet`);
}

function decodeOf10(r: Reader, at: number, len: number, type: number): OfAction {
  switch (type) {
    case 0: exactLen(len, 8, 'output'); return output(r.u16(at + 4), r.u16(at + 6));
    case 1: case 2: return vlanSet(r, at, len, type);
    case 3: exactLen(len, 8, 'strip_vlan'); return { type: 'pop_vlan', spelling: 'strip_vlan' };
    case 11: {
      exactLen(len, 16, 'enqueue');
      const port = r.u16(at + 4);
      // OVS decode_OFPAT_RAW10_ENQUEUE: a physical port, IN_PORT or LOCAL.
      if (port >= OFPP.MAX && port !== OFPP.IN_PORT && port !== OFPP.LOCAL) throw new OfpError('OFPBAC_BAD_OUT_PORT', `enqueue to port ${port}`);
      return { type: 'enqueue', port, queue: r.u32(at + 12) };
    }
    default: break;
  }
  const set = OF10_SET.get(type);
  if (set) return decodeClassicSet(r, at, len, set);
  return refused(undefined, len, type);
}

function decodeOf11(version: OfpVersion, r: Reader, at: number, len: number, type: number): OfAction {
  switch (type) {
    case 0: {
      exactLen(len, 16, 'output');
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
      exactLen(len, 8, 'push_vlan');
      const tpid = r.u16(at + 4);
      if (tpid !== 0x8100 && tpid !== 0x88a8) throw new OfpError('OFPBAC_BAD_ARGUMENT', `push_vlan: ethertype 0x${tpid.toString(16)}`);
      return { type: 'push_vlan', tpid };
    }
    case 18: exactLen(len, 8, 'pop_vlan'); return { type: 'pop_vlan', spelling: 'pop_vlan' };
    case 21: exactLen(len, 8, 'set_queue'); return { type: 'set_queue', queue: r.u32(at + 4) };
    case 22: exactLen(len, 8, 'group'); return { type: 'group', id: r.u32(at + 4) };
    case 24: exactLen(len, 8, 'dec_nw_ttl'); return { type: 'dec_ttl' };
    case 25: return decodeSetFieldTlv(r, at + 4, at + len, 'set_field', version >= OFP15);
    case 28: {
      if (version < OFP15) break;
      if (len < 24) throw new OfpError('OFPBAC_BAD_LEN', `copy_field action has length ${len}, wants at least 24`);
      const nBits = r.u16(at + 4), srcOfs = r.u16(at + 6), dstOfs = r.u16(at + 8);
      const src = subFieldOf(r.u32(at + 12), srcOfs, nBits, 'copy_field source');
      return { type: 'move', src, dst: writableSubField(r.u32(at + 16), dstOfs, nBits, 'copy_field destination') };
    }
    case 29: if (version >= OFP15) { exactLen(len, 8, 'meter'); return { type: 'meter', id: r.u32(at + 4) }; } break;
    default: break;
  }
  const set = OF11_SET.get(type);
  if (set) return decodeClassicSet(r, at, len, set);
  return refused(OF11_REFUSED.get(type), len, type);
}

// ---- Encoding

export function encodeActions(version: OfpVersion, actions: readonly OfAction[], ctx: ActionContext = {}): Uint8Array {
  const w = new Writer();
  const c = startContext(ctx);
  for (const a of actions) encodeOne(version, w, a, c);
  return w.finish();
}

/** Writes one action; goto_table (and write_metadata in 1.1+) is an instruction (instructions.ts). */
export function encodeOne(version: OfpVersion, w: Writer, a: OfAction, ctx: ActionContext): void {
  const v10 = version === OFP10;
  const lists: NxLists = {
    decode: () => { throw new Error('encode only'); },
    // A clone's changes stay inside it: its list gets a copy of the VLAN state.
    encode: (w2, as) => { const c = { ...ctx, vlan: { has: ctx.vlan?.has ?? false } }; for (const x of as) encodeOne(version, w2, x, c); },
  };
  if (encodeNx(version, w, a, ctx.match, lists)) return;
  switch (a.type) {
    case 'output':
      if (v10) w.u16(0).u16(8).u16(a.port).u16(0);
      else w.u16(0).u16(16).u32(portToOf11(a.port)).u16(0).pad(6);
      return;
    case 'controller': // the short form (encodeNx wrote every other)
      if (v10) w.u16(0).u16(8).u16(OFPP.CONTROLLER).u16(a.maxLen);
      else w.u16(0).u16(16).u32(portToOf11(OFPP.CONTROLLER)).u16(a.maxLen).pad(6);
      return;
    case 'mod_vlan_vid': case 'mod_vlan_pcp': {
      if (v10) {
        if (a.type === 'mod_vlan_vid') w.u16(1).u16(8).u16(a.vid).pad(2); else w.u16(2).u16(8).u8(a.pcp).pad(3);
        return;
      }
      // As OVS for 1.2+: set_field, after a push_vlan when the packet may have no tag yet
      // (1.0's set_vlan_* push one when needed).
      const vlan = ctx.vlan ?? { has: false };
      if (!vlan.has) w.u16(17).u16(8).u16(0x8100).pad(2);
      vlan.has = true;
      const sf: OfAction = a.type === 'mod_vlan_vid'
        ? { type: 'set_field', field: fieldByName('vlan_vid')!, value: BigInt(a.vid | VLAN_CFI), spelling: 'set_field' }
        : { type: 'set_field', field: fieldByName('dl_vlan_pcp')!, value: BigInt(a.pcp), spelling: 'set_field' };
      return encodeSetField(version, w, sf, ctx);
    }
    case 'pop_vlan':
      w.u16(v10 ? 3 : 18).u16(8).pad(4);
      if (ctx.vlan) ctx.vlan.has = false;
      return;
    case 'push_vlan':
      if (v10) throw new OfpError('OFPBAC_BAD_TYPE', 'push_vlan has no OpenFlow 1.0 form');
      w.u16(17).u16(8).u16(a.tpid).pad(2);
      if (ctx.vlan) ctx.vlan.has = true;
      return;
    case 'group':
      if (v10) return encodeNxSimple(w, NXAST.GROUP, a.id);
      w.u16(22).u16(8).u32(a.id);
      return;
    case 'dec_ttl':
      if (v10) return encodeNxSimple(w, NXAST.DEC_TTL);
      w.u16(24).u16(8).pad(4);
      return;
    case 'resubmit': return encodeResubmit(w, a);
    case 'goto_table': throw new OfpError('OFPBAC_BAD_TYPE', 'goto_table is an instruction (OpenFlow 1.1+), not an action');
    case 'move':
      if (version >= OFP15) {
        const s = headerOfSubField(a.src, ctx.match), d = headerOfSubField(a.dst, ctx.match);
        w.u16(28).u16(24).u16(a.src.nBits).u16(s.ofs).u16(d.ofs).pad(2).u32(s.header).u32(d.header).pad(4);
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
    case 'set_queue':
      if (v10) return encodeNxSimple(w, NXAST.SET_QUEUE, a.queue);
      w.u16(21).u16(8).u32(a.queue);
      return;
    case 'enqueue':
      if (v10) {
        w.u16(11).u16(16).u16(a.port).pad(6).u32(a.queue);
        return;
      }
      // OVS encode_ENQUEUE for 1.1+: set_queue, output (max_len 65535), pop_queue.
      w.u16(21).u16(8).u32(a.queue);
      w.u16(0).u16(16).u32(portToOf11(a.port)).u16(0xffff).pad(6);
      return encodeNxSimple(w, NXAST.POP_QUEUE);
    default: throw new OfpError('OFPBAC_BAD_TYPE', `${a.type} has no OpenFlow form`);
  }
}

