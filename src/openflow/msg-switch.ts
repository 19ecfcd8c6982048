/**
 * Bodies of the switch-level messages: hello, error, echo, features, switch config, role
 * (request/reply/status), async config (1.3 masks, 1.4+ properties) and table-mod.
 * Every decoder consumes the whole body or throws OfpError (OFPBRC_BAD_LEN by default).
 */
import { Reader, readProps, Writer, writeProp } from './bytes.ts';
import {
  encodeErrorCode, errorName, NXET_VENDOR, NXVC_VENDOR_ERROR, OfpError, OFPET12_EXPERIMENTER, type OfpErrorName,
} from './errors.ts';
import { readPorts, writePort, type OfpPort } from './msg-port.ts';
import { OFP10, OFP13 } from './version.ts';

/** An empty body ("void" in OVS's ofp-msgs.h): anything after the header is a length error. */
export function decodeEmpty(what: string): (v: number, body: Uint8Array) => Record<never, never> {
  return (_v, body) => { new Reader(body, 'OFPBRC_BAD_LEN', what).end(); return {}; };
}
export const encodeEmpty = (): Uint8Array => new Uint8Array(0);

// ---- hello: elements (type u16, length u16, data, padded to 8). Type 1 is the version bitmap
// (OpenFlow 1.3.1 §7.5.1): bit n of word w set means version 32w + n is supported.

const OFPHET_VERSIONBITMAP = 1;
export interface Hello { /** The peer's bitmap as versions, or undefined if it sent none. */ versions?: number[] }

export function decodeHello(_v: number, body: Uint8Array): Hello {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'hello');
  let versions: number[] | undefined;
  // Unknown element types are ignored (the spec asks a receiver to skip them).
  for (const el of readProps(r, 'hello')) {
    if (el.type !== OFPHET_VERSIONBITMAP) continue;
    versions = [];
    // ofp_header.version is 8 bits: words past the 8th name no version and are skipped.
    for (let word = 0; el.r.remaining >= 4; word++) {
      const bits = el.r.u32();
      if (word >= 8) continue;
      for (let bit = 0; bit < 32; bit++) if (bits & (1 << bit)) versions.push(word * 32 + bit);
    }
  }
  return versions === undefined ? {} : { versions };
}

export function encodeHello(_v: number, m: Hello): Uint8Array {
  if (m.versions === undefined) return new Uint8Array(0);
  const words = new Array<number>(Math.floor(Math.max(...m.versions, 0) / 32) + 1).fill(0);
  for (const v of m.versions) words[v >> 5]! |= 1 << (v & 31);
  const w = new Writer();
  writeProp(w, OFPHET_VERSIONBITMAP, (b) => { for (const x of words) b.u32(x); });
  return w.finish();
}

// ---- error: type u16, code u16, data (the offending message's first bytes, or hello text).

export interface ErrorMsg {
  /** The OVS name where the (vendor, type, code) is known; encode uses it when present. */
  name?: OfpErrorName;
  errType: number;
  code: number;
  vendor: number;
  data: Uint8Array;
}

export function decodeError(v: number, body: Uint8Array): ErrorMsg {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'error');
  const errType = r.u16(), code = r.u16();
  let t = { vendor: 0, type: errType, code };
  if (errType === NXET_VENDOR && code === NXVC_VENDOR_ERROR) t = { vendor: r.u32(), type: r.u16(), code: r.u16() };
  else if (errType === OFPET12_EXPERIMENTER && v !== OFP10) t = { vendor: r.u32(), type: code, code: 0 };
  const name = errorName(v, t);
  return { ...(name ? { name } : {}), errType: t.type, code: t.code, vendor: t.vendor, data: r.rest() };
}

export function encodeError(v: number, m: ErrorMsg | { name: OfpErrorName; data: Uint8Array }): Uint8Array {
  const w = new Writer();
  if (m.name !== undefined) {
    const e = encodeErrorCode(m.name, v);
    w.u16(e.type).u16(e.code).bytes(e.extra);
  } else {
    // No name: the triplet as received. Standard where that reads back as itself; otherwise
    // inside NXET_VENDOR (any version accepts it) or, for a 1.2+ code-less one, experimenter.
    const e = m as ErrorMsg;
    const looksWrapped = (e.errType === NXET_VENDOR && e.code === NXVC_VENDOR_ERROR)
      || (e.errType === OFPET12_EXPERIMENTER && v !== OFP10);
    if (e.vendor === 0 && !looksWrapped) w.u16(e.errType).u16(e.code);
    else if (v !== OFP10 && e.vendor !== 0 && e.code === 0) w.u16(OFPET12_EXPERIMENTER).u16(e.errType).u32(e.vendor);
    else w.u16(NXET_VENDOR).u16(NXVC_VENDOR_ERROR).u32(e.vendor).u16(e.errType).u16(e.code);
  }
  return w.bytes(m.data).finish();
}

// ---- echo request/reply: arbitrary data, echoed.

export interface Echo { data: Uint8Array }
export const decodeEcho = (_v: number, body: Uint8Array): Echo => ({ data: body.slice() });
export const encodeEcho = (_v: number, m: Echo): Uint8Array => m.data;

// ---- features reply: 1.0 has actions and the ports; 1.3+ has auxiliary_id and no ports.

export interface FeaturesReply {
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  /** 1.3+: 0 on the main connection. */
  auxiliaryId: number;
  capabilities: number;
  /** 1.0: the OFPAT_* bitmap; 0 in later versions. */
  actions: number;
  /** 1.0 only: later versions send ports in port desc replies. */
  ports: OfpPort[];
}

export function decodeFeaturesReply(v: number, body: Uint8Array): FeaturesReply {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'features reply');
  const datapathId = r.u64(), nBuffers = r.u32(), nTables = r.u8();
  const auxiliaryId = v === OFP10 ? 0 : r.u8();
  r.skip(v === OFP10 ? 3 : 2);
  const capabilities = r.u32();
  const word = r.u32(); // 1.0: actions; 1.1+: reserved
  const ports = v === OFP10 ? readPorts(v, r) : [];
  r.end();
  return { datapathId, nBuffers, nTables, auxiliaryId, capabilities, actions: v === OFP10 ? word : 0, ports };
}

export function encodeFeaturesReply(v: number, m: FeaturesReply): Uint8Array {
  const w = new Writer().u64(m.datapathId).u32(m.nBuffers).u8(m.nTables);
  if (v === OFP10) {
    w.pad(3).u32(m.capabilities).u32(m.actions);
    for (const p of m.ports) writePort(v, w, p);
  } else {
    w.u8(m.auxiliaryId).pad(2).u32(m.capabilities).u32(0);
  }
  return w.finish();
}

// ---- switch config (get-config reply, set-config): flags u16, miss_send_len u16.

export interface SwitchConfig { flags: number; missSendLen: number }
export function decodeSwitchConfig(_v: number, body: Uint8Array): SwitchConfig {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'switch config');
  const m = { flags: r.u16(), missSendLen: r.u16() };
  r.end();
  return m;
}
export const encodeSwitchConfig = (_v: number, m: SwitchConfig): Uint8Array =>
  new Writer().u16(m.flags).u16(m.missSendLen).finish();

// ---- role request/reply (1.2+): role u32, pad 4, generation_id u64. Role status (1.4+):
// role u32, reason u8, pad 3, generation_id u64, properties.

export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;
export interface RoleMsg { role: number; generationId: bigint }
export function decodeRole(_v: number, body: Uint8Array): RoleMsg {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'role');
  const role = r.u32(); r.skip(4);
  const generationId = r.u64(); r.end();
  return { role, generationId };
}
export const encodeRole = (_v: number, m: RoleMsg): Uint8Array =>
  new Writer().u32(m.role).pad(4).u64(m.generationId).finish();

export interface RoleStatus extends RoleMsg { reason: number }
export function decodeRoleStatus(_v: number, body: Uint8Array): RoleStatus {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'role status');
  const role = r.u32(), reason = r.u8(); r.skip(3);
  const generationId = r.u64();
  readProps(r, 'role status'); // checked for framing; bvs sends and reads none
  return { role, reason, generationId };
}
export const encodeRoleStatus = (_v: number, m: RoleStatus): Uint8Array =>
  new Writer().u32(m.role).u8(m.reason).pad(3).u64(m.generationId).finish();

// ---- async config. 1.3 (and NXT_SET_ASYNC_CONFIG): three pairs of u32 masks, [0] for
// master/equal, [1] for slave. 1.4+: properties (type, length 8, mask), each naming one mask;
// a set may carry only some of them.

export const ASYNC_KINDS = ['packetIn', 'portStatus', 'flowRemoved', 'roleStatus', 'tableStatus', 'requestForward'] as const;
export type AsyncKind = typeof ASYNC_KINDS[number];
export interface AsyncConfig {
  master: Partial<Record<AsyncKind, number>>;
  slave: Partial<Record<AsyncKind, number>>;
}

export function decodeAsync(v: number, body: Uint8Array): AsyncConfig {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'async config');
  const cfg: AsyncConfig = { master: {}, slave: {} };
  if (v <= OFP13) {
    for (const k of ASYNC_KINDS.slice(0, 3)) { cfg.master[k] = r.u32(); cfg.slave[k] = r.u32(); }
    r.end();
    return cfg;
  }
  for (const p of readProps(r, 'async config')) {
    // Property type 2k is kind k for slaves, 2k + 1 for masters; experimenter ones are refused.
    const kind = p.type < 12 ? ASYNC_KINDS[p.type >> 1] : undefined;
    if (kind === undefined) throw new OfpError('OFPBPC_BAD_TYPE', `async config property ${p.type}`);
    const mask = p.r.u32(); p.r.end();
    (p.type & 1 ? cfg.master : cfg.slave)[kind] = mask;
  }
  return cfg;
}

export function encodeAsync(v: number, m: AsyncConfig): Uint8Array {
  const w = new Writer();
  if (v <= OFP13) {
    for (const k of ASYNC_KINDS.slice(0, 3)) w.u32(m.master[k] ?? 0).u32(m.slave[k] ?? 0);
    return w.finish();
  }
  ASYNC_KINDS.forEach((k, i) => {
    const s = m.slave[k], ma = m.master[k];
    if (s !== undefined) writeProp(w, 2 * i, (b) => b.u32(s));
    if (ma !== undefined) writeProp(w, 2 * i + 1, (b) => b.u32(ma));
  });
  return w.finish();
}

// ---- table-mod (1.1+): table_id u8, pad 3, config u32; 1.4+ adds properties (eviction,
// vacancy), which bvs checks for framing and ignores.

export interface TableMod { tableId: number; config: number }
export function decodeTableMod(v: number, body: Uint8Array): TableMod {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'table mod');
  const tableId = r.u8(); r.skip(3);
  const config = r.u32();
  if (v <= OFP13) r.end(); else readProps(r, 'table mod');
  return { tableId, config };
}
export const encodeTableMod = (_v: number, m: TableMod): Uint8Array =>
  new Writer().u8(m.tableId).pad(3).u32(m.config).finish();
