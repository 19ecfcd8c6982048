/**
 * Bodies of the switch-level stats/multipart messages: desc, table stats and table features
 * (port stats and port desc are in msg-port.ts). The stats/multipart header itself (type,
 * flags, the MORE flag, splitting) is framing and lives in messages.ts.
 *
 * Table features (OpenFlow 1.3 §7.3.5.5): an array of entries, each a 64-byte head and
 * properties. Property payloads are lists of ids: instruction and action headers (type u16,
 * len u16, experimenter bytes), next-table ids (u8), OXM headers (u32, +4 for an experimenter
 * class). Decoding keeps the ids (experimenter bytes dropped); unknown property types are kept
 * as raw bytes.
 */
import { Reader, readProps, Writer, writeProp } from './bytes.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP15 } from './version.ts';

// ---- desc: five NUL-padded strings (1056 bytes).

export interface Desc { mfrDesc: string; hwDesc: string; swDesc: string; serialNum: string; dpDesc: string }
const DESC_FIELDS = [['mfrDesc', 256], ['hwDesc', 256], ['swDesc', 256], ['serialNum', 32], ['dpDesc', 256]] as const;

export function decodeDesc(_v: number, body: Uint8Array): Desc {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'desc reply');
  const d = {} as Desc;
  for (const [k, n] of DESC_FIELDS) d[k] = r.str(n);
  r.end();
  return d;
}
export function encodeDesc(_v: number, d: Desc): Uint8Array {
  const w = new Writer();
  for (const [k, n] of DESC_FIELDS) w.str(d[k], n);
  return w.finish();
}

// ---- table stats: 1.0 entries carry a name, wildcards and max_entries (64 bytes); 1.3+
// entries are 24 bytes (the rest moved to table features).

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
  /** 1.0 only. */
  name: string;
  wildcards: number;
  maxEntries: number;
}

export function decodeTableStatsReply(v: number, body: Uint8Array): { tables: TableStats[] } {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'table stats reply');
  const tables: TableStats[] = [];
  while (r.remaining > 0) {
    const tableId = r.u8(); r.skip(3);
    if (v === OFP10) {
      const name = r.str(32), wildcards = r.u32(), maxEntries = r.u32(), activeCount = r.u32();
      tables.push({ tableId, name, wildcards, maxEntries, activeCount, lookupCount: r.u64(), matchedCount: r.u64() });
    } else {
      const activeCount = r.u32();
      tables.push({ tableId, name: '', wildcards: 0, maxEntries: 0, activeCount, lookupCount: r.u64(), matchedCount: r.u64() });
    }
  }
  return { tables };
}

export function encodeTableStatsEntries(v: number, m: { tables: readonly TableStats[] }): Uint8Array[] {
  return m.tables.map((t) => {
    const w = new Writer().u8(t.tableId).pad(3);
    if (v === OFP10) w.str(t.name, 32).u32(t.wildcards).u32(t.maxEntries);
    return w.u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount).finish();
  });
}

// ---- table features.

/** OFPTFPT_* property types and the shape of their payloads. */
export const OFPTFPT = {
  INSTRUCTIONS: 0, INSTRUCTIONS_MISS: 1, NEXT_TABLES: 2, NEXT_TABLES_MISS: 3,
  WRITE_ACTIONS: 4, WRITE_ACTIONS_MISS: 5, APPLY_ACTIONS: 6, APPLY_ACTIONS_MISS: 7,
  MATCH: 8, WILDCARDS: 10, WRITE_SETFIELD: 12, WRITE_SETFIELD_MISS: 13,
  APPLY_SETFIELD: 14, APPLY_SETFIELD_MISS: 15,
} as const;
type PropShape = 'headers' | 'tables' | 'oxms';
const SHAPE: ReadonlyMap<number, PropShape> = new Map([
  [0, 'headers'], [1, 'headers'], [2, 'tables'], [3, 'tables'], [4, 'headers'], [5, 'headers'], [6, 'headers'],
  [7, 'headers'], [8, 'oxms'], [10, 'oxms'], [12, 'oxms'], [13, 'oxms'], [14, 'oxms'], [15, 'oxms'],
]);

/** `ids` for known types: instruction/action types, table ids, or OXM headers; `raw` otherwise. */
export interface TableFeatureProp { type: number; ids?: number[]; raw?: Uint8Array }

export interface TableFeatures {
  tableId: number;
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  /** 1.3 "config", 1.4+ "capabilities". */
  capabilities: number;
  maxEntries: number;
  /** 1.5 only: the command (OFPTFC_*) and features bits of a request. */
  command: number;
  features: number;
  props: TableFeatureProp[];
}

const TF_HEAD = 64;

function readIds(shape: PropShape, r: Reader): number[] {
  const ids: number[] = [];
  while (r.remaining > 0) {
    if (shape === 'tables') ids.push(r.u8());
    else if (shape === 'oxms') {
      const h = r.u32();
      if (h >>> 16 === 0xffff) r.skip(4); // experimenter OXM: its id follows
      ids.push(h);
    } else {
      const type = r.u16(), len = r.u16();
      if (len < 4) throw new OfpError('OFPBPC_BAD_LEN', `table features id of length ${len}`);
      r.skip(len - 4);
      ids.push(type);
    }
  }
  return ids;
}

function readTableFeatures(v: number, r: Reader): TableFeatures {
  const len = r.u16();
  if (len < TF_HEAD) throw new OfpError('OFPBRC_BAD_LEN', `table features entry of length ${len}`);
  const e = r.sub(len - 2, 'table features');
  const tableId = e.u8();
  let command = 0, features = 0;
  if (v >= OFP15) { command = e.u8(); features = e.u32(); } else e.skip(5);
  const name = e.str(32), metadataMatch = e.u64(), metadataWrite = e.u64(), capabilities = e.u32(), maxEntries = e.u32();
  const props = readProps(e, 'table features').map((p): TableFeatureProp => {
    const shape = SHAPE.get(p.type);
    return shape ? { type: p.type, ids: readIds(shape, p.r) } : { type: p.type, raw: p.r.rest() };
  });
  return { tableId, name, metadataMatch, metadataWrite, capabilities, maxEntries, command, features, props };
}

export function decodeTableFeatures(v: number, body: Uint8Array): { tables: TableFeatures[] } {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'table features');
  const tables: TableFeatures[] = [];
  while (r.remaining > 0) tables.push(readTableFeatures(v, r));
  return { tables };
}

function writeIds(w: Writer, shape: PropShape, ids: readonly number[]): void {
  for (const id of ids) {
    if (shape === 'tables') w.u8(id);
    else if (shape === 'oxms') { w.u32(id); if (id >>> 16 === 0xffff) w.u32(0); } // experimenter id (kept as 0)
    else w.u16(id).u16(4);
  }
}

export function encodeTableFeaturesEntry(v: number, t: TableFeatures): Uint8Array {
  const w = new Writer().u16(0).u8(t.tableId);
  if (v >= OFP15) w.u8(t.command).u32(t.features); else w.pad(5);
  w.str(t.name, 32).u64(t.metadataMatch).u64(t.metadataWrite).u32(t.capabilities).u32(t.maxEntries);
  for (const p of t.props) {
    const shape = SHAPE.get(p.type);
    writeProp(w, p.type, (b) => {
      if (shape && p.ids) writeIds(b, shape, p.ids); else if (p.raw) b.bytes(p.raw);
    });
  }
  w.setU16(0, w.len);
  return w.finish();
}

export function encodeTableFeaturesEntries(v: number, m: { tables: readonly TableFeatures[] }): Uint8Array[] {
  return m.tables.map((t) => encodeTableFeaturesEntry(v, t));
}
