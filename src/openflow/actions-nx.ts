/**
 * Nicira vendor actions (OFPAT_VENDOR/EXPERIMENTER 0xffff, vendor 0x00002320, then a 16-bit
 * subtype; OVS nicira-ext.h and ofp-actions.c). The 10-byte prefix is type, len, vendor,
 * subtype; every action is a multiple of 8 bytes.
 *
 * One table (NX_ACTIONS, a Map: subtypes come from the peer) lists every subtype OVS knows,
 * with its size rule: `fixed` (exactly `min` bytes) or at least `min`. The ones bvs executes
 * are decoded into OfAction by decodeNx (learn in nx-learn.ts, multipath and bundle in
 * nx-hash.ts, controller and dec_ttl in nx-controller.ts); every other known one is
 * length-checked and refused with OFPBAC_BAD_VENDOR_TYPE naming it (OVS's code for a vendor
 * action it does not know), so turning one on later means giving it a case in decodeNx.
 *
 * clone() holds an action list: decodeNx and encodeNx take the list codec as a callback
 * (NxLists), so this file does not import actions.ts, its caller.
 *
 * NXAST_POP_QUEUE has no OfAction of its own: OpenFlow 1.1+ carries enqueue as set_queue,
 * output, pop_queue (OVS encode_ENQUEUE), and decodeActions folds that triple back into one
 * enqueue; decodeNx hands it up as POP_QUEUE.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { OFPP } from '../ofproto/flow.ts';
import type { Match } from '../ofproto/match.ts';
import type { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import {
  actionHeaderAt, checkOutputPort, checkZero, headerOfSubField, nxFinish, nxStart, splitOfsNbits, subFieldOf, writableSubField,
} from './action-wire.ts';
import { decodeController, decodeDecTtlIds, encodeController, encodeDecTtlIds } from './nx-controller.ts';
import { decodeBundle, decodeMultipath, encodeBundle, encodeMultipath } from './nx-hash.ts';
import { decodeLearn, encodeLearn } from './nx-learn.ts';
import { decodeSetFieldTlv } from './set-field.ts';
import { OFP10, type OfpVersion } from './version.ts';

export { NX_VENDOR_ID } from './action-wire.ts';

export const NXAST = {
  RESUBMIT: 1, SET_QUEUE: 4, POP_QUEUE: 5, REG_MOVE: 6, REG_LOAD: 7, NOTE: 8, MULTIPATH: 10, BUNDLE: 12, BUNDLE_LOAD: 13,
  RESUBMIT_TABLE: 14, OUTPUT_REG: 15, LEARN: 16, DEC_TTL: 18, CONTROLLER: 20, DEC_TTL_CNT_IDS: 21, WRITE_METADATA: 22,
  STACK_PUSH: 27, STACK_POP: 28, OUTPUT_REG2: 32, REG_LOAD2: 33, CONJUNCTION: 34, CONTROLLER2: 37, OUTPUT_TRUNC: 39,
  GROUP: 40, CLONE: 42, LEARN2: 45,
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

/** NXAST_POP_QUEUE, handed up for decodeActions to fold into an enqueue. */
export const POP_QUEUE = { type: 'pop_queue' } as const;
export type PopQueue = typeof POP_QUEUE;

/** The nested-list codec clone() uses: actions.ts's, with the same version. */
export interface NxLists {
  decode(off: number, len: number): OfAction[];
  encode(w: Writer, actions: readonly OfAction[]): void;
}

/** Decodes the NX action of `len` bytes at `o` (its vendor id already read). */
export function decodeNx(version: OfpVersion, r: Reader, o: number, len: number, lists: NxLists): OfAction | PopQueue {
  const sub = r.u16(o + 8, 'NX action subtype');
  const kind = NX_ACTIONS.get(sub);
  if (!kind || (version !== OFP10 && sub === NXAST.SET_QUEUE)) throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', `unknown Nicira action subtype ${sub}`);
  if (len < kind.min || (kind.fixed && len !== kind.min)) {
    throw new OfpError('OFPBAC_BAD_LEN', `Nicira ${kind.name} action has length ${len}, wants ${kind.fixed ? '' : 'at least '}${kind.min}`);
  }
  switch (sub) {
    case NXAST.RESUBMIT: return { type: 'resubmit', port: r.u16(o + 10) };
    case NXAST.RESUBMIT_TABLE: {
      const port = r.u16(o + 10), table = r.u8(o + 12);
      checkZero(r, o + 13, 3, 'resubmit', 'OFPBAC_BAD_ARGUMENT');
      const a: OfAction = { type: 'resubmit' };
      if (port !== OFPP.IN_PORT) a.port = port;
      if (table !== 255) a.table = table;
      if (a.port === undefined && a.table === undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', 'resubmit to the same port and table');
      return a;
    }
    case NXAST.REG_MOVE: {
      const nBits = r.u16(o + 10), srcOfs = r.u16(o + 12), dstOfs = r.u16(o + 14);
      const src = subFieldOf(r.u32(o + 16), srcOfs, nBits, 'move source');
      const dst = writableSubField(r.u32(o + 20), dstOfs, nBits, 'move destination');
      checkZero(r, o + 24, len - 24, 'move');
      return { type: 'move', src, dst };
    }
    case NXAST.REG_LOAD: {
      const { ofs, nBits } = splitOfsNbits(r.u16(o + 10));
      const dst = writableSubField(r.u32(o + 12), ofs, nBits, 'load');
      const value = r.u64(o + 16);
      if (nBits < 64 && value >> BigInt(nBits) !== 0n) throw new OfpError('OFPBAC_BAD_ARGUMENT', `load: value 0x${value.toString(16)} does not fit in ${nBits} bits`);
      return { type: 'load', dst, value };
    }
    case NXAST.REG_LOAD2:
      checkZero(r, o + 10, 6, 'reg_load2');
      return decodeSetFieldTlv(r, o + 16, o + len, 'reg_load2');
    case NXAST.DEC_TTL: checkZero(r, o + 10, 6, 'dec_ttl'); return { type: 'dec_ttl' };
    case NXAST.DEC_TTL_CNT_IDS: return decodeDecTtlIds(r, o, len);
    case NXAST.CONTROLLER: case NXAST.CONTROLLER2: return decodeController(r, o, len, sub === NXAST.CONTROLLER2);
    case NXAST.GROUP: return { type: 'group', id: r.u32(o + 12) };
    case NXAST.NOTE: return { type: 'note', data: r.sliceAt(o + 10, len - 10).slice() };
    case NXAST.OUTPUT_REG: {
      const { ofs, nBits } = splitOfsNbits(r.u16(o + 10));
      checkZero(r, o + 18, 6, 'output_reg', 'OFPBAC_BAD_ARGUMENT');
      return { type: 'output_reg', src: subFieldOf(r.u32(o + 12), ofs, nBits, 'output_reg') };
    }
    case NXAST.OUTPUT_REG2: {
      const { ofs, nBits } = splitOfsNbits(r.u16(o + 10));
      const src = subFieldOf(actionHeaderAt(r, o + 14, 'output_reg2'), ofs, nBits, 'output_reg2');
      checkZero(r, o + 18, len - 18, 'output_reg2', 'NXBRC_MUST_BE_ZERO');
      return { type: 'output_reg', src };
    }
    case NXAST.OUTPUT_TRUNC: {
      const port = r.u16(o + 10), maxLen = r.u32(o + 12);
      checkOutputPort(port);
      if (port === OFPP.CONTROLLER || port === OFPP.TABLE) {
        throw new OfpError('OFPBAC_BAD_OUT_PORT', `output_trunc to port ${port}`);
      }
      if (maxLen < 14) throw new OfpError('OFPBAC_BAD_ARGUMENT', `output_trunc: max_len ${maxLen} is less than an Ethernet header`);
      return { type: 'output', port, maxLen };
    }
    case NXAST.STACK_PUSH: case NXAST.STACK_POP: {
      const push = sub === NXAST.STACK_PUSH;
      const what = push ? 'stack push' : 'stack pop';
      const header = actionHeaderAt(r, o + 12, what);
      const sf = (push ? subFieldOf : writableSubField)(header, r.u16(o + 10), r.u16(o + 16), what);
      checkZero(r, o + 18, len - 18, what, 'NXBRC_MUST_BE_ZERO');
      return push ? { type: 'stack_push', src: sf } : { type: 'stack_pop', dst: sf };
    }
    case NXAST.CONJUNCTION: {
      const clause = r.u8(o + 10), n = r.u8(o + 11);
      if (n < 2 || n > 64 || clause >= n) throw new OfpError('NXBAC_BAD_CONJUNCTION', `conjunction: clause ${clause + 1} of ${n}`);
      return { type: 'conjunction', id: r.u32(o + 12), clause: clause + 1, nClauses: n };
    }
    case NXAST.WRITE_METADATA: {
      checkZero(r, o + 10, 6, 'write_metadata', 'NXBRC_MUST_BE_ZERO');
      const value = r.u64(o + 16), mask = r.u64(o + 24);
      return { type: 'write_metadata', value: value & mask, mask };
    }
    case NXAST.SET_QUEUE: return { type: 'set_queue', queue: r.u32(o + 12) };
    case NXAST.POP_QUEUE: return POP_QUEUE;
    case NXAST.CLONE: return { type: 'clone', actions: lists.decode(o + 16, len - 16) };
    case NXAST.MULTIPATH: return decodeMultipath(r, o);
    case NXAST.BUNDLE: case NXAST.BUNDLE_LOAD: return decodeBundle(r, o, len, sub === NXAST.BUNDLE_LOAD);
    case NXAST.LEARN: case NXAST.LEARN2: return decodeLearn(r, o, len, sub === NXAST.LEARN2);
    default:
      if (len % 8 !== 0) throw new OfpError('OFPBAC_BAD_LEN', `Nicira ${kind.name} action length ${len} is not a multiple of 8`);
      throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', `Nicira action ${kind.name} (subtype ${sub}) is not supported by bvs yet`);
  }
}

/** Writes the NX action for `a` when it is one of the extension kinds; false when it is not. */
export function encodeNx(version: OfpVersion, w: Writer, a: OfAction, match: Match | undefined, lists: NxLists): boolean {
  const start = (sub: number): number => nxStart(w, sub);
  let at: number;
  switch (a.type) {
    case 'note': at = start(NXAST.NOTE); w.bytes(a.data); break;
    case 'output_reg': {
      const { header, ofs } = headerOfSubField(a.src, match);
      at = start(NXAST.OUTPUT_REG);
      w.u16((ofs << 6) | (a.src.nBits - 1)).u32(header).u16(0xffff);
      break;
    }
    case 'output':
      if (a.maxLen === undefined) return false;
      at = start(NXAST.OUTPUT_TRUNC);
      w.u16(a.port).u32(a.maxLen);
      break;
    case 'stack_push': case 'stack_pop': {
      const sf = a.type === 'stack_push' ? a.src : a.dst;
      const { header, ofs } = headerOfSubField(sf, match);
      at = start(a.type === 'stack_push' ? NXAST.STACK_PUSH : NXAST.STACK_POP);
      w.u16(ofs).u32(header).u16(sf.nBits);
      break;
    }
    case 'conjunction': at = start(NXAST.CONJUNCTION); w.u8(a.clause - 1).u8(a.nClauses).u32(a.id); break;
    case 'clone': at = start(NXAST.CLONE); w.pad(6); lists.encode(w, a.actions); break;
    case 'write_metadata':
      if (version !== OFP10) throw new OfpError('OFPBIC_UNSUP_INST', 'write_metadata is an instruction in OpenFlow 1.1+, not an action');
      at = start(NXAST.WRITE_METADATA);
      w.pad(6).u64(a.value).u64(a.mask);
      break;
    case 'multipath': at = start(NXAST.MULTIPATH); encodeMultipath(w, a, match); break;
    case 'bundle': at = start(a.dst ? NXAST.BUNDLE_LOAD : NXAST.BUNDLE); encodeBundle(w, a, match); break;
    case 'learn': at = start(NXAST.LEARN); encodeLearn(w, a); break;
    case 'dec_ttl':
      if (!a.ids) return false;
      at = start(NXAST.DEC_TTL_CNT_IDS);
      encodeDecTtlIds(w, a.ids);
      break;
    case 'controller': {
      const c2 = a.userdata !== undefined || a.pause === true;
      // The plain form is output to CONTROLLER (actions.ts); "long" keeps NXAST_CONTROLLER.
      if (!c2 && a.spelling === 'short' && a.reason === 'action' && a.id === 0) return false;
      at = start(c2 ? NXAST.CONTROLLER2 : NXAST.CONTROLLER);
      encodeController(w, a, c2);
      break;
    }
    default: return false;
  }
  nxFinish(w, at);
  return true;
}

export function encodeResubmit(w: Writer, a: Extract<OfAction, { type: 'resubmit' }>): void {
  if (a.table === undefined && a.port !== undefined) {
    const at = nxStart(w, NXAST.RESUBMIT);
    w.u16(a.port).pad(4);
    return nxFinish(w, at);
  }
  const at = nxStart(w, NXAST.RESUBMIT_TABLE);
  w.u16(a.port ?? OFPP.IN_PORT).u8(a.table ?? 255).pad(3);
  nxFinish(w, at);
}

export function encodeRegLoad(w: Writer, a: Extract<OfAction, { type: 'load' }>, match?: Match): void {
  const { header, ofs } = headerOfSubField(a.dst, match);
  const at = nxStart(w, NXAST.REG_LOAD);
  w.u16((ofs << 6) | (a.dst.nBits - 1)).u32(header).u64(a.value);
  nxFinish(w, at);
}

export function encodeRegMove(w: Writer, a: Extract<OfAction, { type: 'move' }>, match?: Match): void {
  const s = headerOfSubField(a.src, match), d = headerOfSubField(a.dst, match);
  const at = nxStart(w, NXAST.REG_MOVE);
  w.u16(a.src.nBits).u16(s.ofs).u16(d.ofs).u32(s.header).u32(d.header);
  nxFinish(w, at);
}

/** NXAST_DEC_TTL, NXAST_GROUP and NXAST_POP_QUEUE: the argument-less (or one-number) forms. */
export function encodeNxSimple(w: Writer, sub: typeof NXAST.DEC_TTL | typeof NXAST.GROUP | typeof NXAST.POP_QUEUE | typeof NXAST.SET_QUEUE, arg = 0): void {
  const at = nxStart(w, sub);
  if (sub === NXAST.GROUP || sub === NXAST.SET_QUEUE) w.pad(2).u32(arg); else w.pad(6);
  nxFinish(w, at);
}
