/**
 * The database as one `bvs vsctl` run sees it: a snapshot of every table, changed in memory by
 * the commands, then turned into one RFC 7047 transaction.
 *
 * How ovs-vsctl does it, and so how this does it (notes/ovsdb-clients.md):
 * - every command of one invocation runs against the same snapshot and sees the changes of the
 *   commands before it (`add-port br0 p1 -- set Interface p1 type=internal`);
 * - the changes commit as ONE transaction, so a failing command changes nothing;
 * - optimistic concurrency: for each updated row the transaction first `wait`s (timeout 0) for
 *   the old values of the columns it changes; when another client changed them meanwhile the
 *   server answers "timed out" and the caller reloads and reruns every command;
 * - rows become garbage when their last strong reference goes (del-br only edits
 *   Open_vSwitch.bridges): collecting them is the server's job (RFC 7047 §3.2 isRoot).
 *
 * New rows get a `uuid-name` ("bvs_rowN") and are referenced as ["named-uuid", name] until commit.
 *
 * Neighbours: client.ts (load/commit), schema.ts.
 */
import type { OvsdbClient } from './client.ts';
import {
  canonical, datumEquals, datumFromWire, datumToWire, defaultDatum, Uuid, VsctlError,
  type Datum, type DbSchema, type TableSchema,
} from './schema.ts';

export interface Row {
  readonly table: TableSchema;
  readonly uuid: Uuid;
  readonly cols: Map<string, Datum>;
  /** Committed values of changed columns (existing rows only). */
  readonly orig: Map<string, Datum>;
  readonly isNew: boolean;
  deleted: boolean;
}

export class Db {
  readonly #tables = new Map<string, Map<string, Row>>();
  readonly #inserted: Row[] = [];
  #nextName = 1;

  constructor(readonly schema: DbSchema) {
    for (const t of schema.tables.keys()) this.#tables.set(t, new Map());
  }

  /** Reads every row of every table in one transaction of selects. */
  static async load(client: OvsdbClient, schema: DbSchema): Promise<Db> {
    const db = new Db(schema);
    const names = [...schema.tables.keys()];
    const res = await client.transact(schema.name, names.map((table) => ({ op: 'select', table, where: [] })));
    names.forEach((tname, i) => {
      const ts = schema.tables.get(tname)!;
      const r = res[i] as { rows?: Record<string, unknown>[]; error?: string; details?: string };
      if (r.error !== undefined) throw new VsctlError(`reading table ${tname}: ${r.error}${r.details ? `: ${r.details}` : ''}`);
      for (const raw of r.rows ?? []) {
        const cols = new Map<string, Datum>();
        for (const [cname, cs] of ts.columns) {
          if (raw[cname] !== undefined) cols.set(cname, datumFromWire(raw[cname], cs.type));
          else cols.set(cname, defaultDatum(cs.type));
        }
        const uuid = (cols.get('_uuid') as { atoms: Uuid[] }).atoms[0]!;
        db.#tables.get(tname)!.set(uuid.id, { table: ts, uuid, cols, orig: new Map(), isNew: false, deleted: false });
      }
    });
    return db;
  }

  table(name: string): TableSchema {
    const t = this.schema.tables.get(name);
    if (t === undefined) throw new VsctlError(`the database has no table ${name}`);
    return t;
  }

  hasTable(name: string): boolean {
    return this.schema.tables.has(name);
  }

  /** Live rows of a table, in UUID order (new rows last, in creation order). */
  rows(table: string): Row[] {
    return [...(this.#tables.get(table)?.values() ?? [])].filter((r) => !r.deleted);
  }

  /** The row `ref` names in `table`, if it exists and is not deleted. */
  get(table: string, ref: Uuid): Row | undefined {
    const r = this.#tables.get(table)?.get(ref.id);
    return r === undefined || r.deleted ? undefined : r;
  }

  /** A new row; `uuid` is its uuid-name when a `@name` reference already stands for it. */
  insert(table: string, values: Record<string, Datum> = {}, uuid = new Uuid(`bvs_row${this.#nextName++}`, true)): Row {
    const ts = this.table(table);
    const cols = new Map<string, Datum>();
    for (const [cname, cs] of ts.columns) cols.set(cname, defaultDatum(cs.type));
    cols.set('_uuid', { kind: 'set', atoms: [uuid] });
    const row: Row = { table: ts, uuid, cols, orig: new Map(), isNew: true, deleted: false };
    for (const [k, v] of Object.entries(values)) this.set(row, k, v);
    this.#tables.get(table)!.set(uuid.id, row);
    this.#inserted.push(row);
    return row;
  }

  set(row: Row, column: string, value: Datum): void {
    if (!row.table.columns.has(column)) throw new VsctlError(`${row.table.name} does not contain a column whose name matches "${column}"`);
    if (!row.isNew && !row.orig.has(column)) row.orig.set(column, row.cols.get(column)!);
    row.cols.set(column, canonical(value));
  }

  delete(row: Row): void {
    row.deleted = true;
  }

  /** True when committing would change something. */
  get changed(): boolean {
    if (this.#inserted.some((r) => !r.deleted)) return true;
    for (const t of this.#tables.values()) {
      for (const r of t.values()) {
        if (r.isNew) continue;
        if (r.deleted) return true;
        for (const [c, old] of r.orig) if (!datumEquals(old, r.cols.get(c)!)) return true;
      }
    }
    return false;
  }

  /** The transaction's operations: inserts (in creation order), then waits + updates, deletes. */
  ops(): unknown[] {
    const ops: unknown[] = [];
    for (const r of this.#inserted) {
      if (r.deleted) continue;
      const row: Record<string, unknown> = {};
      for (const [c, v] of r.cols) {
        if (c === '_uuid') continue;
        const t = r.table.columns.get(c)!.type;
        if (!datumEquals(v, defaultDatum(t))) row[c] = datumToWire(v, t);
      }
      ops.push({ op: 'insert', table: r.table.name, 'uuid-name': r.uuid.id, row });
    }
    for (const t of this.#tables.values()) {
      for (const r of t.values()) {
        if (r.isNew) continue;
        const where = [['_uuid', '==', ['uuid', r.uuid.id]]];
        if (r.deleted) {
          ops.push({ op: 'delete', table: r.table.name, where });
          continue;
        }
        const changed = [...r.orig].filter(([c, old]) => !datumEquals(old, r.cols.get(c)!)).map(([c]) => c);
        if (changed.length === 0) continue;
        const type = (c: string) => r.table.columns.get(c)!.type;
        const before: Record<string, unknown> = {};
        const after: Record<string, unknown> = {};
        for (const c of changed) {
          before[c] = datumToWire(r.orig.get(c)!, type(c));
          after[c] = datumToWire(r.cols.get(c)!, type(c));
        }
        ops.push({ op: 'wait', table: r.table.name, where, columns: changed, until: '==', rows: [before], timeout: 0 });
        ops.push({ op: 'update', table: r.table.name, where, row: after });
      }
    }
    return ops;
  }
}
