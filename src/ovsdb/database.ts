/**
 * The committed state of one database: tables of Rows, unique indexes, and inbound strong
 * reference counts (for garbage collection, RFC 7047 §3.2 "isRoot").
 *
 * Invariants, true between commits:
 * - `refCount.get(u)` is the number of strong references (counting multiplicity) that committed
 *   rows hold to row u; absent means 0.
 * - each index maps the JSON of a row's indexed columns to that row's uuid, and is unique.
 * - changes arrive only through `apply()`, already validated by transaction.ts (or read back from
 *   the journal, which only ever holds validated commits).
 * Neighbours: row.ts, datum.ts, schema.ts. Used by transaction.ts, storage.ts, monitor.ts.
 */
import { applyDiff, datumFromJson, newUuid, refChanges, type Datum } from './datum.ts';
import { OvsdbStorageError } from './errors.ts';
import { defaultColumns, Row } from './row.ts';
import type { DatabaseSchema, TableSchema } from './schema.ts';

export interface RowChange {
  old: Row | null;
  new: Row | null;
}
/** table name -> row uuid -> change. Only tables/rows that changed appear. */
export type ChangeSet = Map<string, Map<string, RowChange>>;

export interface CommitEvent {
  db: Database;
  changes: ChangeSet;
  comment?: string;
  /** The `appliedSeq` this change got in apply(). */
  seq: number;
}

export class Table {
  readonly rows = new Map<string, Row>();
  /** One map per schema index: key JSON -> uuid. */
  readonly indexes: Map<string, string>[];
  constructor(readonly schema: TableSchema) {
    this.indexes = schema.indexes.map(() => new Map());
  }
  indexKey(i: number, cols: Readonly<Record<string, Datum>>): string {
    return JSON.stringify(this.schema.indexes[i].map((c) => cols[c]));
  }
}

export class Database {
  readonly tables = new Map<string, Table>();
  readonly refCount = new Map<string, number>();
  /**
   * Changes applied so far. Readers see a change at apply() but hear of it at publish() (after it
   * is durable); a monitor created in between records this number and skips events up to it, so
   * it never reports a row both in its initial contents and as an insert.
   */
  appliedSeq = 0;
  private listeners = new Set<(e: CommitEvent) => void>();

  constructor(readonly schema: DatabaseSchema) {
    for (const t of schema.tables.values()) this.tables.set(t.name, new Table(t));
  }

  get name(): string {
    return this.schema.name;
  }

  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  /** Installs validated changes. Does not notify; call `publish` once the change is durable. */
  apply(changes: ChangeSet): number {
    this.appliedSeq++;
    for (const [tname, rows] of changes) {
      const table = this.tables.get(tname)!;
      for (const [uuid, ch] of rows) {
        this.countRefs(table.schema, ch.old, ch.new);
        if (ch.old) {
          table.indexes.forEach((ix, i) => {
            const k = table.indexKey(i, ch.old!.cols);
            if (ix.get(k) === uuid) ix.delete(k);
          });
        }
        if (ch.new) {
          table.rows.set(uuid, ch.new);
        } else {
          table.rows.delete(uuid);
        }
      }
    }
    // Index inserts after all removals, so swapping keys between two rows works.
    for (const [tname, rows] of changes) {
      const table = this.tables.get(tname)!;
      if (!table.indexes.length) continue;
      for (const [uuid, ch] of rows) if (ch.new) table.indexes.forEach((ix, i) => ix.set(table.indexKey(i, ch.new!.cols), uuid));
    }
    return this.appliedSeq;
  }

  private countRefs(t: TableSchema, old: Row | null, row: Row | null): void {
    for (const c of t.columns.values()) {
      if (c.type.key.refType !== 'strong' && c.type.value?.refType !== 'strong') continue;
      refChanges(c.type, old?.cols[c.name] ?? null, row?.cols[c.name] ?? null, 'strong', (_t, uuid, sign) => {
        const n = (this.refCount.get(uuid) ?? 0) + sign;
        if (n === 0) this.refCount.delete(uuid);
        else this.refCount.set(uuid, n);
      });
    }
  }

  /** Subscribes to committed (durable) changes; returns the unsubscribe function. */
  subscribe(fn: (e: CommitEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  publish(changes: ChangeSet, seq: number, comment?: string): void {
    for (const fn of [...this.listeners]) fn({ db: this, changes, comment, seq });
  }

  /**
   * Builds the ChangeSet for one journal record (OVS standalone format: {table: {uuid: null |
   * {column: value}}}; a row object either creates the row from defaults or overwrites the listed
   * columns of the existing row). Throws OvsdbStorageError on a record that does not fit the schema.
   */
  changesFromRecord(rec: Record<string, unknown>): ChangeSet {
    const isDiff = rec._is_diff === true;
    const changes: ChangeSet = new Map();
    for (const [tname, rowsJson] of Object.entries(rec)) {
      if (tname.startsWith('_')) continue;
      const table = this.tables.get(tname);
      if (!table || typeof rowsJson !== 'object' || rowsJson === null) throw new OvsdbStorageError(`journal names unknown table ${tname}`);
      const m = new Map<string, RowChange>();
      for (const [uuid, rj] of Object.entries(rowsJson as Record<string, unknown>)) {
        const old = table.rows.get(uuid) ?? null;
        if (rj === null) {
          m.set(uuid, { old, new: null });
          continue;
        }
        const cols = old ? { ...old.cols } : defaultColumns(table.schema);
        for (const [cname, vj] of Object.entries(rj as Record<string, unknown>)) {
          const c = table.schema.columns.get(cname);
          if (!c) throw new OvsdbStorageError(`journal names unknown column ${tname}.${cname}`);
          try {
            const d = datumFromJson(vj, c.type, `${tname}.${cname}`, undefined, true);
            const scalar = c.type.max === 1 && !c.type.value; // scalars and optionals: new value
            cols[cname] = isDiff && old && !scalar ? applyDiff(cols[cname], d) : d;
          } catch (err) {
            throw new OvsdbStorageError(`journal value for ${tname}.${cname} does not parse`, { cause: err });
          }
        }
        m.set(uuid, { old, new: new Row(uuid, newUuid(), cols) });
      }
      changes.set(tname, m);
    }
    return changes;
  }
}
