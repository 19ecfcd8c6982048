/**
 * Small pieces the action codecs share: sub-field (NXM header + bit range) conversion, the
 * ofs_nbits packing, and the output port rule. Bytes are read and written with bytes.ts.
 */
import type { SubField } from '../ofproto/actions.ts';
import { OFPP, PROTO, W } from '../ofproto/flow.ts';
import type { Match } from '../ofproto/match.ts';
import type { FieldDef } from '../ofproto/fields.ts';
import type { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { oxmFieldByHeader, oxmFieldByName, type OxmField } from './oxm.ts';

/** A 32-bit NXM/OXM header (no experimenter) as a table entry, or undefined. */
export function fieldOfHeader32(h: number): OxmField | undefined {
  const cls = h >>> 16, field = (h >>> 9) & 0x7f, len = h & 0xff;
  const f = oxmFieldByHeader(cls, field);
  return f && f.len === len && ((h >>> 8) & 1) === 0 ? f : undefined;
}

/**
 * The bvs SubField for a header and bit range (reg_move, reg_load, output_reg, stack, learn...).
 * The register views (xreg, xxreg) have FieldDefs of their own, so a range keeps its field.
 */
export function subFieldOf(h: number, ofs: number, nBits: number, what: string): SubField {
  const f = fieldOfHeader32(h);
  if (!f) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: unknown field header 0x${h.toString(16)}`);
  if (!f.def) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: ${f.name} (${f.ovsName}) is not supported by bvs yet`);
  if (f.kind === 'port32') throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: ${f.name} bit ranges are not supported (use NXM_OF_IN_PORT)`);
  const def: FieldDef = f.def;
  if (nBits < 1 || ofs + nBits > def.bits) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: bits ${ofs}..${ofs + nBits - 1} are outside ${def.name} (${def.bits} bits)`);
  return { field: def, ofs, nBits };
}

/** A sub-field that an action writes: refused (OFPBAC_BAD_SET_ARGUMENT) when read-only. */
export function writableSubField(h: number, ofs: number, nBits: number, what: string): SubField {
  const sf = subFieldOf(h, ofs, nBits, what);
  if (!sf.field.writable) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `${what}: ${sf.field.name} is read-only`);
  return sf;
}

/**
 * The 32-bit header and offset that name a bvs SubField on the wire (the field's `nxm` name).
 * tp_src/tp_dst have none of their own (NXM_OF_TCP_SRC and NXM_OF_UDP_SRC both read as them):
 * the flow's nw_proto picks, as OVS requires the header to agree with the match.
 */
export function headerOfSubField(sf: SubField, match?: Match): { header: number; ofs: number } {
  let name = sf.field.nxm;
  if ((sf.field.name === 'tp_src' || sf.field.name === 'tp_dst') && match && match.mask[W.NW_PROTO] === 0xff) {
    const dir = sf.field.name === 'tp_src' ? 'SRC' : 'DST';
    const l4 = new Map<number, string>([[PROTO.TCP, `NXM_OF_TCP_${dir}`], [PROTO.UDP, `NXM_OF_UDP_${dir}`], [PROTO.SCTP, `OXM_OF_SCTP_${dir}`]]);
    name = l4.get(match.value[W.NW_PROTO]!) ?? name;
  }
  const e = oxmFieldByName(name);
  if (!e || !e.def || e.experimenter !== undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${sf.field.name} has no NXM header`);
  const ofs = sf.ofs + sf.field.shift - e.def.shift;
  return { header: ((e.cls << 16) | (e.field << 9) | e.len) >>> 0, ofs };
}

/** OVS ofpact_check_output_port: a physical port or a reserved port that can be output to. */
/** An OpenFlow property (type 16, length 16 with the header, value, zeros to 8): `write` writes the value. */
export function writeProp(w: Writer, type: number, write: () => void): void {
  const at = w.len;
  w.u16(type).u16(0);
  write();
  w.setU16(at + 2, w.len - at);
  w.align8();
}

export function checkOutputPort(p: number): void {
  if (p < OFPP.MAX || (p >= OFPP.IN_PORT && p !== OFPP.NONE)) return;
  throw new OfpError('OFPBAC_BAD_OUT_PORT', `${p} is not a valid output port`);
}

/** ofs_nbits (reg_load, output_reg): offset << 6 | (n_bits - 1). */
export function splitOfsNbits(v: number): { ofs: number; nBits: number } {
  return { ofs: v >>> 6, nBits: (v & 0x3f) + 1 };
}

// ---- The Nicira vendor action frame (nicira-ext.h): type 0xffff, len, vendor, subtype (10 bytes)

export const NX_VENDOR_ID = 0x00002320;

/** Writes the 10-byte NX prefix; `nxFinish` pads to 8 and patches the length in. */
export function nxStart(w: Writer, sub: number): number {
  const at = w.len;
  w.u16(0xffff).u16(0).u32(NX_VENDOR_ID).u16(sub);
  return at;
}
export function nxFinish(w: Writer, at: number): void {
  w.align8();
  w.setU16(at + 2, w.len - at);
}

/** Bytes that must be zero (OVS: is_all_zeros), refused with `err` naming `what`. */
export function checkZero(r: Reader, off: number, n: number, what: string, err: 'NXBAC_MUST_BE_ZERO' | 'NXBRC_MUST_BE_ZERO' | 'OFPBAC_BAD_ARGUMENT' = 'NXBAC_MUST_BE_ZERO'): void {
  const b = r.sliceAt(off, n, what);
  if (b.some((x) => x !== 0)) throw new OfpError(err, `${what}: reserved bytes are not zero`);
}

/**
 * The OXM/NXM header inside an action that may carry a 64-bit experimenter one (output_reg2,
 * stack): experimenter fields are refused, as bvs supports none of them.
 */
export function actionHeaderAt(r: Reader, off: number, what: string): number {
  const h = r.u32(off, what);
  if (h >>> 16 !== 0xffff) return h;
  throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: experimenter field 0x${r.u32(off + 4, what).toString(16)} is not supported by bvs`);
}
