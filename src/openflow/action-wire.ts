/**
 * Small pieces the action, instruction and message codecs share: a bounds-checked reader over a
 * message body, a growing writer, sub-field (NXM header + bit range) conversion, and the output
 * port rule. Every read past the end throws OfpError with the code the caller names, so no
 * decoder ever sees a RangeError from DataView.
 */
import type { SubField } from '../ofproto/actions.ts';
import { OFPP, PROTO, W } from '../ofproto/flow.ts';
import type { Match } from '../ofproto/match.ts';
import type { FieldDef } from '../ofproto/fields.ts';
import { OfpError, type OfpErrorName } from './errors.ts';
import { oxmFieldByHeader, oxmFieldByName, type OxmField } from './oxm.ts';

export class Reader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly err: OfpErrorName = 'OFPBRC_BAD_LEN') {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(off: number, n: number, what: string): void {
    if (off < 0 || off + n > this.bytes.length) throw new OfpError(this.err, `${what}: needs ${n} bytes at ${off}, has ${this.bytes.length - off}`);
  }
  u8(off: number, what = 'field'): number { this.need(off, 1, what); return this.dv.getUint8(off); }
  u16(off: number, what = 'field'): number { this.need(off, 2, what); return this.dv.getUint16(off); }
  u32(off: number, what = 'field'): number { this.need(off, 4, what); return this.dv.getUint32(off); }
  u64(off: number, what = 'field'): bigint { this.need(off, 8, what); return this.dv.getBigUint64(off); }
  slice(off: number, n: number, what = 'field'): Uint8Array { this.need(off, n, what); return this.bytes.subarray(off, off + n); }
}

/** Appends big-endian numbers and byte strings; `bytes()` returns what was written. */
export class Writer {
  private buf = new Uint8Array(64);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf);
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number): this { this.grow(1); this.dv.setUint8(this.len, v); this.len += 1; return this; }
  u16(v: number): this { this.grow(2); this.dv.setUint16(this.len, v); this.len += 2; return this; }
  u32(v: number): this { this.grow(4); this.dv.setUint32(this.len, v >>> 0); this.len += 4; return this; }
  u64(v: bigint): this { this.grow(8); this.dv.setBigUint64(this.len, BigInt.asUintN(64, v)); this.len += 8; return this; }
  zeros(n: number): this { this.grow(n); this.buf.fill(0, this.len, this.len + n); this.len += n; return this; }
  raw(b: Uint8Array): this { this.grow(b.length); this.buf.set(b, this.len); this.len += b.length; return this; }
  pad8(): this { return this.zeros((8 - (this.len % 8)) % 8); }
  /** Writes `v` as u16 at `at` (a length filled in afterwards). */
  patch16(at: number, v: number): this { this.dv.setUint16(at, v); return this; }
  bytes(): Uint8Array { return this.buf.slice(0, this.len); }
}

/** A 32-bit NXM/OXM header (no experimenter) as a table entry, or undefined. */
export function fieldOfHeader32(h: number): OxmField | undefined {
  const cls = h >>> 16, field = (h >>> 9) & 0x7f, len = h & 0xff;
  const f = oxmFieldByHeader(cls, field);
  return f && f.len === len && ((h >>> 8) & 1) === 0 ? f : undefined;
}

/**
 * The bvs SubField for a header and bit range (reg_move, reg_load, output_reg, copy_field).
 * An xreg range within one half becomes that register; a range across halves is refused.
 */
export function subFieldOf(h: number, ofs: number, nBits: number, what: string): SubField {
  const f = fieldOfHeader32(h);
  if (!f) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: unknown field header 0x${h.toString(16)}`);
  if (!f.def) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: ${f.name} (${f.ovsName}) is not supported by bvs yet`);
  if (nBits < 1 || ofs + nBits > 8 * f.len) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: bits ${ofs}..${ofs + nBits - 1} are outside ${f.name}`);
  let def: FieldDef = f.def;
  if (f.kind === 'xreg') {
    const hi = Number(def.name.slice(3));
    if (ofs >= 32) ofs -= 32;
    else if (ofs + nBits <= 32) def = oxmFieldByName(`NXM_NX_REG${hi + 1}`)!.def!;
    else throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: a range across both halves of ${f.ovsName} is not supported`);
  }
  if (f.kind === 'port32') throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: ${f.name} bit ranges are not supported (use NXM_OF_IN_PORT)`);
  if (ofs + nBits > def.bits) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: bits ${ofs}..${ofs + nBits - 1} are outside ${def.name} (${def.bits} bits)`);
  return { field: def, ofs, nBits };
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
  w.patch16(at + 2, w.len - at);
  w.pad8();
}

export function checkOutputPort(p: number): void {
  if (p < OFPP.MAX || (p >= OFPP.IN_PORT && p !== OFPP.NONE)) return;
  throw new OfpError('OFPBAC_BAD_OUT_PORT', `${p} is not a valid output port`);
}

/** ofs_nbits (reg_load, output_reg): offset << 6 | (n_bits - 1). */
export function splitOfsNbits(v: number): { ofs: number; nBits: number } {
  return { ofs: v >>> 6, nBits: (v & 0x3f) + 1 };
}
