/**
 * Monitors (RFC 7047 §4.1.5 monitor; ovsdb-server(7) §4.1.12-14 monitor_cond, monitor_cond_since).
 * A Monitor turns committed ChangeSets of one database into the wire form of its protocol version:
 *   v1 "table-updates":  {table: {uuid: {old?: row, new?: row}}}, modify: old = changed columns only
 *   v2/v3 "table-updates2": {table: {uuid: {initial|insert|modify: row} | {delete: null}}};
 *     insert/initial carry non-default columns, modify the per-column difference (sets: symmetric
 *     difference; maps: changed/added keys with new values, removed keys with old values; columns
 *     holding at most one value, scalars and optionals alike: the new value, ["set",[]] when emptied
 *     - the OVS IDL replaces those rather than XOR-ing them).
 * Conditions (monitor_cond) decide row visibility: a row entering the condition is an insert, one
 * leaving it a delete.
 * Neighbours: database.ts, condition.ts, datum.ts, row.ts, schema.ts.
 */
import { matches, parseWhere, type Condition } from './condition.ts';
import type { CommitEvent, Database } from './database.ts';
import { datumDiff, datumEquals, datumToJson, isDefault } from './datum.ts';
import { OvsdbError, OvsdbErrorTag, OvsdbSyntaxError } from './errors.ts';
import { columnType, type Row } from './row.ts';
import type { TableSchema } from './schema.ts';

export type MonitorVersion = 1 | 2 | 3;

interface Select {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

/** Rendered rows, per column list; entries die with their Row. Values are never mutated. */
const rowJsonCache = new WeakMap<Row, Map<string, Record<string, unknown>>>();

interface TableMonitor {
  schema: TableSchema;
  columns: string[];
  columnsKey: string;
  where: Condition[] | null;
  select: Select;
}

type TableUpdates = Record<string, Record<string, unknown>>;

function parseSelect(j: unknown): Select {
  const s = { initial: true, insert: true, delete: true, modify: true };
  if (j === undefined) return s;
  if (typeof j !== 'object' || j === null) throw new OvsdbSyntaxError(`"select" must be an object`);
  for (const k of Object.keys(s) as (keyof Select)[]) {
    const v = (j as Record<string, unknown>)[k];
    if (v !== undefined) {
      if (typeof v !== 'boolean') throw new OvsdbSyntaxError(`"select.${k}" must be a boolean`);
      s[k] = v;
    }
  }
  return s;
}

export class Monitor {
  readonly tables = new Map<string, TableMonitor>();
  private readonly createdAtSeq: number;

  /** Parses <monitor-requests> (one request object or an array of them per table). */
  constructor(
    readonly db: Database,
    readonly id: unknown,
    readonly version: MonitorVersion,
    requests: unknown,
  ) {
    this.createdAtSeq = db.appliedSeq;
    if (typeof requests !== 'object' || requests === null || Array.isArray(requests)) throw new OvsdbSyntaxError('monitor requests must be an object keyed by table name');
    for (const [tname, reqj] of Object.entries(requests)) {
      const table = db.table(tname);
      if (!table) throw new OvsdbError(OvsdbErrorTag.unknownTable, `No table named ${tname}.`);
      const reqs = Array.isArray(reqj) ? reqj : [reqj];
      const tm: TableMonitor = { schema: table.schema, columns: [], columnsKey: '', where: null, select: { initial: false, insert: false, delete: false, modify: false } };
      for (const r of reqs) {
        if (typeof r !== 'object' || r === null) throw new OvsdbSyntaxError(`monitor request for ${tname} must be an object`);
        const rr = r as Record<string, unknown>;
        const cols = rr.columns === undefined ? [...table.schema.columns.keys()] : rr.columns;
        if (!Array.isArray(cols)) throw new OvsdbSyntaxError(`"columns" for ${tname} must be an array`);
        for (const c of cols) {
          if (typeof c !== 'string' || !columnType(table.schema, c)) throw new OvsdbError(OvsdbErrorTag.unknownColumn, `No column ${String(c)} in table ${tname}.`);
          if (!tm.columns.includes(c)) tm.columns.push(c);
        }
        if (rr.where !== undefined) {
          if (version === 1) throw new OvsdbSyntaxError('"where" needs monitor_cond');
          tm.where = parseWhere(rr.where, table.schema);
        }
        const s = parseSelect(rr.select);
        for (const k of Object.keys(s) as (keyof Select)[]) tm.select[k] ||= s[k];
      }
      tm.columnsKey = `${tname}:${tm.columns.join(',')}`;
      this.tables.set(tname, tm);
    }
  }

  private visible(tm: TableMonitor, row: Row | null): boolean {
    return !!row && (!tm.where || matches(tm.where, row));
  }

  private fullRow(tm: TableMonitor, row: Row, nonDefaultOnly: boolean): Record<string, unknown> {
    // Rows are immutable, so their rendering for a given column list can be shared by every
    // monitor asking for the same columns (each ovs-vsctl run asks for the same ones).
    const key = `${nonDefaultOnly ? 'n' : 'a'}:${tm.columnsKey}`;
    let per = rowJsonCache.get(row);
    const hit = per?.get(key);
    if (hit) return hit;
    const out = this.renderRow(tm, row, nonDefaultOnly);
    if (!per) rowJsonCache.set(row, (per = new Map()));
    if (per.size < 8) per.set(key, out);
    return out;
  }

  private renderRow(tm: TableMonitor, row: Row, nonDefaultOnly: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of tm.columns) {
      const t = columnType(tm.schema, c)!;
      const d = row.get(c);
      if (nonDefaultOnly && isDefault(d, t)) continue;
      out[c] = datumToJson(d, t);
    }
    return out;
  }

  /** The reply's initial contents. */
  initial(): TableUpdates {
    const out: TableUpdates = {};
    for (const [tname, tm] of this.tables) {
      if (!tm.select.initial) continue;
      const rows: Record<string, unknown> = {};
      for (const row of this.db.table(tname)!.rows.values()) {
        if (!this.visible(tm, row)) continue;
        rows[row.uuid] = this.version === 1 ? { new: this.fullRow(tm, row, false) } : { initial: this.fullRow(tm, row, true) };
      }
      if (Object.keys(rows).length) out[tname] = rows;
    }
    return out;
  }

  /** The update for one commit, or null if nothing this monitor watches changed. */
  update(e: CommitEvent): TableUpdates | null {
    // Already part of initial() (applied before this monitor existed, published after).
    if (e.seq <= this.createdAtSeq) return null;
    const changes = e.changes;
    let out: TableUpdates | null = null;
    for (const [tname, tm] of this.tables) {
      const ch = changes.get(tname);
      if (!ch) continue;
      const rows: Record<string, unknown> = {};
      for (const [uuid, { old, new: nw }] of ch) {
        const ov = this.visible(tm, old);
        const nv = this.visible(tm, nw);
        let u: unknown;
        if (!ov && nv) {
          if (tm.select.insert) u = this.version === 1 ? { new: this.fullRow(tm, nw!, false) } : { insert: this.fullRow(tm, nw!, true) };
        } else if (ov && !nv) {
          if (tm.select.delete) u = this.version === 1 ? { old: this.fullRow(tm, old!, false) } : { delete: null };
        } else if (ov && nv && tm.select.modify) {
          u = this.modify(tm, old!, nw!);
        }
        if (u) rows[uuid] = u;
      }
      if (Object.keys(rows).length) (out ??= {})[tname] = rows;
    }
    return out;
  }

  private modify(tm: TableMonitor, old: Row, nw: Row): unknown {
    const diff: Record<string, unknown> = {};
    let changed = false;
    for (const c of tm.columns) {
      const a = old.get(c);
      const b = nw.get(c);
      if (datumEquals(a, b)) continue;
      changed = true;
      const t = columnType(tm.schema, c)!;
      if (this.version === 1) diff[c] = datumToJson(a, t);
      else if (t.max === 1 && !t.value) diff[c] = datumToJson(b, t); // at most one element: the new value, as ovsdb-server sends it
      else diff[c] = datumToJson(datumDiff(a, b), t);
    }
    if (!changed) return undefined;
    return this.version === 1 ? { old: diff, new: this.fullRow(tm, nw, false) } : { modify: diff };
  }

  /**
   * monitor_cond_change: replaces the conditions (and optionally columns) and returns the
   * table-updates2 that move the client from the old visible set to the new one.
   */
  changeConditions(requests: unknown): TableUpdates {
    if (typeof requests !== 'object' || requests === null) throw new OvsdbSyntaxError('monitor_cond_change requests must be an object');
    const out: TableUpdates = {};
    for (const [tname, reqj] of Object.entries(requests)) {
      const tm = this.tables.get(tname);
      if (!tm) throw new OvsdbSyntaxError(`${tname} is not monitored`);
      const r = (Array.isArray(reqj) ? reqj[0] : reqj) as Record<string, unknown> | undefined;
      if (!r || r.where === undefined) continue;
      const before = new Set<string>();
      for (const row of this.db.table(tname)!.rows.values()) if (this.visible(tm, row)) before.add(row.uuid);
      tm.where = parseWhere(r.where, tm.schema);
      const rows: Record<string, unknown> = {};
      for (const row of this.db.table(tname)!.rows.values()) {
        const now = this.visible(tm, row);
        if (now && !before.has(row.uuid)) rows[row.uuid] = { insert: this.fullRow(tm, row, true) };
        if (!now && before.has(row.uuid)) rows[row.uuid] = { delete: null };
      }
      if (Object.keys(rows).length) out[tname] = rows;
    }
    return out;
  }
}
