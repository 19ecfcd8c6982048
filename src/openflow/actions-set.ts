/**
 * Field-setting actions in each version's form: the classic mod_* actions (OpenFlow 1.0
 * OFPAT10_SET_*, 1.1 OFPAT11_SET_*), OFPAT_SET_FIELD (1.2+) and NXAST_REG_LOAD, to and from
 * bvs's set_field. Encoding follows OVS encode_SET_FIELD: OpenFlow 1.5 sends set_field only;
 * 1.0 a classic action where there is one, else reg_loads; 1.2-1.4 set_field for a whole field
 * and reg_loads (one per contiguous run of the mask, 64 bits at most each) for part of one.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { fieldByName } from '../ofproto/fields.ts';
import type { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { encodeRegLoad } from './actions-nx.ts';
import { setFieldTlv } from './set-field.ts';
import { OFP10, OFP15, type OfpVersion } from './version.ts';
import type { ActionContext } from './actions.ts';

type SetSpec = [spelling: string, field: string, len: number];

/** ovs-ofctl's mod_* names of the classic set actions, with the field each sets. */
export const OF10_SET = new Map<number, SetSpec>([
  [4, ['mod_dl_src', 'dl_src', 16]], [5, ['mod_dl_dst', 'dl_dst', 16]], [6, ['mod_nw_src', 'nw_src', 8]],
  [7, ['mod_nw_dst', 'nw_dst', 8]], [8, ['mod_nw_tos', 'nw_tos', 8]], [9, ['mod_tp_src', 'tp_src', 8]], [10, ['mod_tp_dst', 'tp_dst', 8]],
]);
/** 1.1+: the same, renumbered (3..10), plus set_nw_ecn (8) and set_nw_ttl (23). */
export const OF11_SET = new Map<number, SetSpec>([
  [3, ['mod_dl_src', 'dl_src', 16]], [4, ['mod_dl_dst', 'dl_dst', 16]], [5, ['mod_nw_src', 'nw_src', 8]],
  [6, ['mod_nw_dst', 'nw_dst', 8]], [7, ['mod_nw_tos', 'nw_tos', 8]], [8, ['mod_nw_ecn', 'nw_ecn', 8]],
  [9, ['mod_tp_src', 'tp_src', 8]], [10, ['mod_tp_dst', 'tp_dst', 8]], [23, ['mod_nw_ttl', 'nw_ttl', 8]],
]);

export function exactLen(len: number, want: number, name: string): void {
  if (len !== want) throw new OfpError('OFPBAC_BAD_LEN', `${name} action has length ${len}, wants ${want}`);
}

/** A classic set action of `len` bytes at `at` as set_field (spelled as ovs-ofctl prints it). */
export function decodeClassicSet(r: Reader, at: number, len: number, spec: SetSpec): OfAction {
  const [spelling, name, want] = spec;
  exactLen(len, want, spelling);
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

export function encodeSetField(version: OfpVersion, w: Writer, a: Extract<OfAction, { type: 'set_field' }>, ctx: ActionContext): void {
  if (version === OFP10 && a.mask === undefined) {
    const classic = [...OF10_SET].find(([, s]) => s[1] === a.field.name);
    if (classic) {
      const [type, [, name, len]] = classic;
      w.u16(type).u16(len);
      if (name === 'dl_src' || name === 'dl_dst') w.u16(Number(a.value >> 32n)).u32(Number(a.value & 0xffffffffn)).pad(6);
      else if (name === 'nw_src' || name === 'nw_dst') w.u32(Number(a.value));
      else if (name === 'tp_src' || name === 'tp_dst') w.u16(Number(a.value)).pad(2);
      else w.u8(Number(a.value)).pad(3);
      return;
    }
  }
  if (version === OFP10 || (a.mask !== undefined && version < OFP15)) {
    const mask = a.mask ?? (1n << BigInt(a.field.bits)) - 1n;
    for (const { ofs, nBits } of maskRuns(mask)) {
      const value = (a.value >> BigInt(ofs)) & ((1n << BigInt(nBits)) - 1n);
      encodeRegLoad(w, { type: 'load', dst: { field: a.field, ofs, nBits }, value }, ctx.match);
    }
    return;
  }
  const tlv = setFieldTlv(a, ctx.match);
  const at = w.len;
  w.u16(25).u16(0).bytes(tlv).align8();
  w.setU16(at + 2, w.len - at);
}
