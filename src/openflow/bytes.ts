/**
 * Bounds-checked big-endian reading and growing writing for OpenFlow bodies.
 *
 * Invariant: a Reader never reads past its slice; any attempt throws OfpError (OFPBRC_BAD_LEN
 * unless the caller names another error, e.g. OFPBPC_BAD_LEN for properties), so a decoder
 * built on it cannot throw a RangeError whatever the input.
 */
import { OfpError, type OfpErrorName } from './errors.ts';

export class Reader {
  private readonly dv: DataView;
  off = 0;
  constructor(readonly b: Uint8Array, private readonly err: OfpErrorName = 'OFPBRC_BAD_LEN', readonly what = 'message') {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  get remaining(): number { return this.b.length - this.off; }
  need(n: number): void {
    if (n < 0 || this.remaining < n) {
      throw new OfpError(this.err, `${this.what}: ${n} bytes needed at offset ${this.off}, ${this.remaining} left`);
    }
  }
  /**
   * Without `at`, reads at the cursor and moves it; with `at`, reads at that absolute offset
   * and leaves the cursor alone (fixed layouts read by offset, as the structs in OVS's headers).
   */
  u8(at?: number, what?: string): number { return this.dv.getUint8(this.take(1, at, what)); }
  u16(at?: number, what?: string): number { return this.dv.getUint16(this.take(2, at, what)); }
  u32(at?: number, what?: string): number { return this.dv.getUint32(this.take(4, at, what)); }
  u64(at?: number, what?: string): bigint { return this.dv.getBigUint64(this.take(8, at, what)); }
  /** Checks that [off, off + n) lies inside the slice. */
  needAt(off: number, n: number, what = this.what): void {
    if (off < 0 || n < 0 || off + n > this.b.length) {
      throw new OfpError(this.err, `${what}: ${n} bytes needed at offset ${off}, ${this.b.length - off} left`);
    }
  }
  /** The n bytes at `off` (a view; the cursor does not move). */
  sliceAt(off: number, n: number, what = this.what): Uint8Array { this.needAt(off, n, what); return this.b.subarray(off, off + n); }
  private take(n: number, at: number | undefined, what: string | undefined): number {
    if (at !== undefined) { this.needAt(at, n, what); return at; }
    this.need(n);
    const o = this.off;
    this.off += n;
    return o;
  }
  skip(n: number): void { this.need(n); this.off += n; }
  bytes(n: number): Uint8Array { this.need(n); const s = this.b.subarray(this.off, this.off + n); this.off += n; return s; }
  rest(): Uint8Array { return this.bytes(this.remaining); }
  /** A MAC address as a 48-bit number. */
  mac(): number { const hi = this.u16(); return hi * 2 ** 32 + this.u32(); }
  /** A fixed-size, NUL-padded string field (names, descriptions). */
  str(n: number): string {
    const s = this.bytes(n);
    const end = s.indexOf(0);
    return Buffer.from(s.subarray(0, end < 0 ? n : end)).toString('latin1');
  }
  /** A sub-reader over the next n bytes (a property, an entry), consumed here. */
  sub(n: number, what = this.what): Reader { return new Reader(this.bytes(n), this.err, what); }
  /** The body must be fully consumed: trailing bytes are a length error too. */
  end(): void {
    if (this.remaining !== 0) throw new OfpError(this.err, `${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

export class Writer {
  private buf = new Uint8Array(64);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  private grow(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      nb.set(this.buf.subarray(0, at));
      this.buf = nb; this.dv = new DataView(nb.buffer);
    }
    this.len += n;
    return at;
  }
  // grow() may replace this.dv: take the offset first, then the view.
  u8(v: number): this { const at = this.grow(1); this.dv.setUint8(at, v); return this; }
  u16(v: number): this { const at = this.grow(2); this.dv.setUint16(at, v); return this; }
  u32(v: number): this { const at = this.grow(4); this.dv.setUint32(at, v >>> 0); return this; }
  u64(v: bigint): this { const at = this.grow(8); this.dv.setBigUint64(at, BigInt.asUintN(64, v)); return this; }
  pad(n: number): this { this.grow(n); return this; } // new bytes are zero
  bytes(b: Uint8Array): this { const at = this.grow(b.length); this.buf.set(b, at); return this; }
  mac(v: number): this { return this.u16(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32); }
  /** `s` NUL-padded to n bytes (cut to n: a field filled to the end reads back the same). */
  str(s: string, n: number): this {
    const at = this.grow(n);
    this.buf.set(Buffer.from(s, 'latin1').subarray(0, n), at);
    return this;
  }
  /** Zero bytes up to a multiple of 8 (OpenFlow's alignment of properties and entries). */
  align8(): this { return this.pad((8 - (this.len % 8)) % 8); }
  setU16(at: number, v: number): void { this.dv.setUint16(at, v); }
  finish(): Uint8Array { return this.buf.slice(0, this.len); }
}

/** The whole-bytes-to-8 padding of a length. */
export const pad8 = (n: number): number => (n + 7) & ~7;

/** One OpenFlow 1.4+ property (ofp_prop_header: type u16, length u16, then length - 4 bytes). */
export interface Prop { type: number; r: Reader }

/**
 * Splits the rest of `r` into properties. Each is padded to 8 bytes on the wire (the padding
 * is not counted in its length); a length under 4 or past the end is OFPBPC_BAD_LEN.
 */
export function readProps(r: Reader, what: string): Prop[] {
  const out: Prop[] = [];
  while (r.remaining > 0) {
    const p = new Reader(r.b.subarray(r.off), 'OFPBPC_BAD_LEN', `${what} property`);
    const type = p.u16(), len = p.u16();
    if (len < 4) throw new OfpError('OFPBPC_BAD_LEN', `${what} property of length ${len}`);
    p.need(len - 4);
    out.push({ type, r: new Reader(p.bytes(len - 4), 'OFPBPC_BAD_LEN', `${what} property ${type}`) });
    // The last property's padding may be missing (OVS accepts that too); otherwise skip it.
    r.skip(Math.min(pad8(len), r.remaining));
  }
  return out;
}

/** Writes one property: its header, `body`, and the zero padding to 8. */
export function writeProp(w: Writer, type: number, body: (w: Writer) => void): void {
  const at = w.len;
  w.u16(type).u16(0);
  body(w);
  w.setU16(at + 2, w.len - at);
  w.align8();
}
