/**
 * A transaction's private view of one database: the committed tables overlaid with this
 * transaction's inserts, updates and deletes. Nothing here touches the committed state; the
 * overlay becomes a ChangeSet only after integrity.ts has validated it.
 * Neighbours: database.ts, row.ts, condition.ts.
 */
import { matches, pinnedUuid, type Condition } from './condition.ts';
import type { Database, Table } from './database.ts';
import { OvsdbError, OvsdbErrorTag } from './errors.ts';
import type { Row } from './row.ts';

export class TxnState {
  /** table -> uuid -> new row (null: deleted in this transaction). */
  readonly overlay = new Map<string, Map<string, Row | null>>();
  /** Uuids inserted by this transaction (not present in the committed state). */
  readonly inserted = new Set<string>();

  constructor(readonly db: Database) {}

  table(name: unknown): Table {
    const t = typeof name === 'string' ? this.db.table(name) : undefined;
    if (!t) throw new OvsdbError(OvsdbErrorTag.unknownTable, `No table named ${String(name)}.`);
    return t;
  }

  private ov(table: string): Map<string, Row | null> {
    let m = this.overlay.get(table);
    if (!m) this.overlay.set(table, (m = new Map()));
    return m;
  }

  get(table: string, uuid: string): Row | null {
    const o = this.overlay.get(table);
    if (o?.has(uuid)) return o.get(uuid)!;
    return this.db.table(table)?.rows.get(uuid) ?? null;
  }

  put(table: string, row: Row): void {
    this.ov(table).set(row.uuid, row);
  }

  remove(table: string, uuid: string): void {
    this.ov(table).set(uuid, null);
  }

  /** Rows of `table` visible to this transaction that satisfy `conds`. */
  select(table: Table, conds: readonly Condition[]): Row[] {
    const name = table.schema.name;
    const pinned = pinnedUuid(conds);
    if (pinned !== undefined) {
      const r = this.get(name, pinned);
      return r && matches(conds, r) ? [r] : [];
    }
    const out: Row[] = [];
    const o = this.overlay.get(name);
    for (const [uuid, r] of table.rows) if (!o?.has(uuid) && matches(conds, r)) out.push(r);
    if (o) for (const r of o.values()) if (r && matches(conds, r)) out.push(r);
    return out;
  }

  /** Number of rows the table will hold after this transaction. */
  count(table: Table): number {
    let n = table.rows.size;
    const o = this.overlay.get(table.schema.name);
    if (o) for (const [uuid, r] of o) n += (r ? 1 : 0) - (table.rows.has(uuid) ? 1 : 0);
    return n;
  }
}
