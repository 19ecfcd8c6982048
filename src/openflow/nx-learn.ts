/**
 * NXAST_LEARN and NXAST_LEARN2 (OVS nicira-ext.h "Action structure for NXAST_LEARN",
 * ofp-actions.c decode_LEARN_specs / encode_LEARN), to and from bvs's LearnAction.
 *
 *   learn (32 bytes, then specs): idle_timeout, hard_timeout, priority, cookie (u64), flags,
 *     table_id, pad (zero), fin_idle_timeout, fin_hard_timeout
 *   learn2 (40 bytes): learn's 32, then limit (u32), result_dst_ofs, pad2 (zero), and with
 *     NX_LEARN_F_WRITE_RESULT a result field header before the specs
 *
 * A flow_mod_spec is a u16 header (src_type 0x2000: immediate, else a field; dst_type 0x1800:
 * match 0, load 0x0800, output 0x1000; n_bits the low 11 bits), then the source (a field header
 * and offset, or the immediate value right-aligned in 2 * ceil(n_bits / 16) bytes), then for
 * match and load the destination field header and offset. A zero header or the action's end
 * ends the list; what follows must be zero.
 *
 * bvs has no learn limit and no result field: learn2 decodes only without them (OVS sends
 * learn2 only for those) and is refused by name otherwise. The learned match must meet each
 * field's prerequisites from the specs before it (OVS learn_check: OFPBAC_MATCH_INCONSISTENT).
 */
import type { LearnAction, SubField } from '../ofproto/actions.ts';
import { Match } from '../ofproto/match.ts';
import type { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { checkZero, headerOfSubField, subFieldOf, writableSubField } from './action-wire.ts';
import { matchMeetsPrereq } from './match.ts';
import { bigToBytes, bytesToBig } from './oxm.ts';

const F = { SEND_FLOW_REM: 1, DELETE_LEARNED: 2, WRITE_RESULT: 4 } as const;
const SRC_IMMEDIATE = 0x2000;
const DST = { MATCH: 0, LOAD: 0x0800, OUTPUT: 0x1000, MASK: 0x1800 } as const;
const N_BITS_MASK = 0x07ff;

const immBytes = (nBits: number): number => 2 * Math.ceil(nBits / 16);

export function decodeLearn(r: Reader, o: number, len: number, v2: boolean): LearnAction {
  const what = v2 ? 'learn2' : 'learn';
  const flags = r.u16(o + 24), table = r.u8(o + 26);
  if (r.u8(o + 27) !== 0) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: pad is not zero`);
  if (table === 0xff) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: table 255`);
  const allowed = F.SEND_FLOW_REM | F.DELETE_LEARNED | (v2 ? F.WRITE_RESULT : 0);
  if (flags & ~allowed) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: unknown flags 0x${flags.toString(16)}`);
  let at = o + 32;
  if (v2) {
    checkZero(r, o + 38, 2, 'learn2');
    if (r.u32(o + 32) !== 0 || flags & F.WRITE_RESULT) {
      throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', 'learn2 with limit or result_dst is not supported by bvs yet');
    }
    if (r.u16(o + 36) !== 0) throw new OfpError('OFPBAC_BAD_ARGUMENT', 'learn2: result_dst_ofs without a result field');
    at = o + 40;
  }
  const a: LearnAction = {
    type: 'learn', table, priority: r.u16(o + 14), idleTimeout: r.u16(o + 10), hardTimeout: r.u16(o + 12),
    finIdleTimeout: r.u16(o + 28), finHardTimeout: r.u16(o + 30), cookie: r.u64(o + 16),
    sendFlowRem: (flags & F.SEND_FLOW_REM) !== 0, deleteLearned: (flags & F.DELETE_LEARNED) !== 0, specs: [],
  };
  const end = o + len;
  const learned = new Match();
  while (end - at >= 2) {
    const h = r.u16(at, 'learn spec');
    if (h === 0) break;
    at += 2;
    const nBits = h & N_BITS_MASK, dstType = h & DST.MASK, imm = (h & SRC_IMMEDIATE) !== 0;
    if (dstType === DST.MASK || (dstType === DST.OUTPUT && imm)) throw new OfpError('OFPBAC_BAD_ARGUMENT', `learn: spec header 0x${h.toString(16)}`);
    const need = (imm ? immBytes(nBits) : 6) + (dstType === DST.OUTPUT ? 0 : 6);
    if (end - at < need) throw new OfpError('OFPBAC_BAD_LEN', `learn: spec needs ${need} bytes, ${end - at} left`);
    let src: SubField | undefined, value: bigint | undefined;
    if (imm) {
      value = bytesToBig(r.sliceAt(at, immBytes(nBits)), 0, immBytes(nBits)) & ((1n << BigInt(nBits)) - 1n);
      at += immBytes(nBits);
    } else {
      src = subFieldOf(r.u32(at), r.u16(at + 4), nBits, 'learn source');
      at += 6;
    }
    if (dstType === DST.OUTPUT) {
      a.specs.push({ kind: 'output', src: src! });
      continue;
    }
    const load = dstType === DST.LOAD;
    const dst = (load ? writableSubField : subFieldOf)(r.u32(at), r.u16(at + 4), nBits, 'learn destination');
    at += 6;
    if (dst.field.name === 'conj_id') throw new OfpError('OFPBAC_BAD_ARGUMENT', 'learn: conj_id cannot be matched');
    if (!matchMeetsPrereq(learned, dst.field.prereq)) {
      throw new OfpError('OFPBAC_MATCH_INCONSISTENT', `learn: ${dst.field.name} needs ${dst.field.prereq} matched by an earlier spec`);
    }
    if (!load && value !== undefined) learned.setMasked(dst.field, value << BigInt(dst.ofs), ((1n << BigInt(nBits)) - 1n) << BigInt(dst.ofs));
    const kind = load ? 'load' : 'match';
    a.specs.push(src ? { kind, dst, src } : { kind, dst, value: value! });
  }
  checkZero(r, at, end - at, 'learn (after the specs)', 'OFPBAC_BAD_ARGUMENT');
  return a;
}

/** The body after the NX prefix (NXAST_LEARN: bvs never needs learn2). */
export function encodeLearn(w: Writer, a: LearnAction): void {
  const flags = (a.sendFlowRem ? F.SEND_FLOW_REM : 0) | (a.deleteLearned ? F.DELETE_LEARNED : 0);
  w.u16(a.idleTimeout).u16(a.hardTimeout).u16(a.priority).u64(a.cookie).u16(flags).u8(a.table).u8(0)
    .u16(a.finIdleTimeout).u16(a.finHardTimeout);
  const field = (sf: SubField): void => {
    const { header, ofs } = headerOfSubField(sf);
    w.u32(header).u16(ofs);
  };
  for (const s of a.specs) {
    const nBits = s.kind === 'output' ? s.src.nBits : s.dst.nBits;
    const dstType = s.kind === 'output' ? DST.OUTPUT : s.kind === 'load' ? DST.LOAD : DST.MATCH;
    const imm = s.kind !== 'output' && s.src === undefined;
    w.u16(nBits | dstType | (imm ? SRC_IMMEDIATE : 0));
    if (s.kind === 'output') field(s.src);
    else if (s.src) field(s.src);
    else w.bytes(bigToBytes(s.value!, immBytes(nBits)));
    if (s.kind !== 'output') field(s.dst);
  }
}
