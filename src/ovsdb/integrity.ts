/**
 * Commit-time checks of a transaction (RFC 7047 §3.2, §4.1.3): garbage collection of non-root rows
 * that lost their last strong reference, weak reference cleanup, referential integrity of strong
 * references, column size constraints, maxRows and unique indexes. On success the overlay is turned
 * into a ChangeSet with fresh _version uuids; on failure an OvsdbError is thrown and nothing has
 * been changed (the committed Database is only read here).
 * Order matters: GC first (it deletes rows), then weak refs (deleted targets vanish from weak
 * columns), then the strong-reference checks, then constraints on the final rows.
 * Neighbours: txn-state.ts, database.ts, datum.ts, row.ts.
 */
import { checkSize, datumEquals, newUuid, refChanges, refsOf, type Datum } from './datum.ts';
import type { ChangeSet, RowChange } from './database.ts';
import { OvsdbConstraintError, OvsdbReferentialIntegrityError } from './errors.ts';
import { Row } from './row.ts';
import type { TableSchema } from './schema.ts';
import type { TxnState } from './txn-state.ts';

function strongRefs(t: TableSchema, row: Row): { table: string; uuid: string; column: string }[] {
  const out: { table: string; uuid: string; column: string }[] = [];
  for (const c of t.columns.values()) {
    if (c.type.key.refType !== 'strong' && c.type.value?.refType !== 'strong') continue;
    for (const r of refsOf(row.cols[c.name], c.type, 'strong')) out.push({ ...r, column: c.name });
  }
  return out;
}

export function checkAndBuildChanges(st: TxnState): ChangeSet {
  const db = st.db;
  const delta = new Map<string, number>();
  const tableOf = new Map<string, string>();
  const work: string[] = [];
  /** References added by this transaction (only these can point at missing rows). */
  const added: { from: string; table: string; column: string; uuid: string; target: string }[] = [];
  const diff = (tname: string, uuid: string, old: Row | null, row: Row | null): void => {
    for (const c of db.table(tname)!.schema.columns.values()) {
      if (c.type.key.refType !== 'strong' && c.type.value?.refType !== 'strong') continue;
      refChanges(c.type, old?.cols[c.name] ?? null, row?.cols[c.name] ?? null, 'strong', (table, target, sign) => {
        delta.set(target, (delta.get(target) ?? 0) + sign);
        tableOf.set(target, table);
        work.push(target);
        if (sign > 0) added.push({ from: tname, table, column: c.name, uuid, target });
      });
    }
  };
  for (const [tname, o] of st.overlay) {
    const committed = db.table(tname)!.rows;
    for (const [uuid, row] of o) {
      const old = committed.get(uuid) ?? null;
      diff(tname, uuid, old, row);
      if (row && !old) {
        tableOf.set(uuid, tname);
        work.push(uuid);
      }
    }
  }
  const account = (tname: string, row: Row, sign: -1): void => {
    for (const r of strongRefs(db.table(tname)!.schema, row)) {
      delta.set(r.uuid, (delta.get(r.uuid) ?? 0) + sign);
      tableOf.set(r.uuid, r.table);
      work.push(r.uuid);
    }
  };

  // Strong references must point at existing rows, checked before garbage collection as
  // ovsdb-server does (a dangling reference from a row that GC would remove is still an error).
  // Only added references can dangle: a kept reference whose target is deleted shows up below as
  // a deleted row with references left.
  for (const a of added) {
    if (!st.get(a.table, a.target)) {
      throw new OvsdbReferentialIntegrityError(`Table ${a.from} column ${a.column} row ${a.uuid} references nonexistent row ${a.target} in table ${a.table}.`);
    }
  }

  // Garbage collection (RFC 7047 §3.2 isRoot): cascade through rows that reach zero references.
  while (work.length) {
    const uuid = work.pop()!;
    const tname = tableOf.get(uuid)!;
    const ts = db.table(tname)!.schema;
    if (ts.isRoot) continue;
    const row = st.get(tname, uuid);
    if (!row) continue;
    if ((db.refCount.get(uuid) ?? 0) + (delta.get(uuid) ?? 0) === 0) {
      st.remove(tname, uuid);
      account(tname, row, -1);
    }
  }

  // Weak references (RFC 7047 §3.2 refType): references to rows that do not exist after the
  // transaction are removed, from changed rows and from unchanged rows pointing at deleted ones.
  const deletedByTable = new Map<string, Set<string>>();
  for (const [tname, o] of st.overlay) {
    for (const [uuid, row] of o) if (!row && db.table(tname)!.rows.has(uuid)) {
      let s = deletedByTable.get(tname);
      if (!s) deletedByTable.set(tname, (s = new Set()));
      s.add(uuid);
    }
  }
  for (const table of db.tables.values()) {
    const weakCols = [...table.schema.columns.values()].filter((c) => c.type.key.refType === 'weak' || c.type.value?.refType === 'weak');
    if (!weakCols.length) continue;
    const touchesDeleted = weakCols.some((c) => deletedByTable.has(c.type.key.refTable ?? '') || deletedByTable.has(c.type.value?.refTable ?? ''));
    const candidates = new Map<string, Row>();
    const o = st.overlay.get(table.schema.name);
    if (o) for (const [u, r] of o) if (r) candidates.set(u, r);
    if (touchesDeleted) for (const [u, r] of table.rows) if (!o?.has(u)) candidates.set(u, r);
    for (const row of candidates.values()) {
      let cols: Record<string, Datum> | undefined;
      for (const c of weakCols) {
        const d = row.cols[c.name];
        const keep = (i: number): boolean => {
          const kt = c.type.key.refType === 'weak' ? c.type.key.refTable : undefined;
          const vt = c.type.value?.refType === 'weak' ? c.type.value.refTable : undefined;
          if (kt && !st.get(kt, d.keys[i] as string)) return false;
          if (vt && !st.get(vt, d.values![i] as string)) return false;
          return true;
        };
        const idx = d.keys.map((_, i) => i).filter(keep);
        if (idx.length === d.keys.length) continue;
        cols ??= { ...row.cols };
        cols[c.name] = d.values ? { keys: idx.map((i) => d.keys[i]), values: idx.map((i) => d.values![i]) } : { keys: idx.map((i) => d.keys[i]) };
      }
      if (cols) st.put(table.schema.name, new Row(row.uuid, row.version, cols));
    }
  }

  // Deleted rows must have no references left.
  for (const [tname, o] of st.overlay) {
    for (const [uuid, row] of o) {
      if (!row) {
        const n = (db.refCount.get(uuid) ?? 0) + (delta.get(uuid) ?? 0);
        if (n > 0 && db.table(tname)!.rows.has(uuid)) {
          throw new OvsdbReferentialIntegrityError(`cannot delete ${tname} row ${uuid} because of ${n} remaining reference(s)`);
        }
      }
    }
  }

  // Column sizes (weak ref removal can push a column below min), maxRows, unique indexes.
  const changes: ChangeSet = new Map();
  for (const [tname, o] of st.overlay) {
    const table = db.table(tname)!;
    const ts = table.schema;
    const m = new Map<string, RowChange>();
    const seen = table.indexes.map(() => new Map<string, string>());
    for (const [uuid, row] of o) {
      const old = table.rows.get(uuid) ?? null;
      if (!row) {
        if (old) m.set(uuid, { old, new: null });
        continue;
      }
      for (const c of ts.columns.values()) checkSize(row.cols[c.name], c.type, `${tname} column ${c.name}`);
      table.indexes.forEach((ix, i) => {
        const key = table.indexKey(i, row.cols);
        const other = seen[i].get(key) ?? ix.get(key);
        if (other !== undefined && other !== uuid && (seen[i].has(key) || !o.has(other))) {
          const cols = ts.indexes[i].join(', ');
          const shown = ts.indexes[i].map((c) => {
            const d = row.cols[c];
            return d.keys.length === 1 && !d.values ? String(d.keys[0]) : JSON.stringify(d.keys);
          });
          const otherHow = !seen[i].has(key) ? 'existed in the database before this transaction and was not modified by this transaction' : table.rows.has(other) ? 'was modified by this transaction' : 'was inserted by this transaction';
          throw new OvsdbConstraintError(
            `Transaction causes multiple rows in "${tname}" table to have identical values (${shown.join(', ')}) for index on column${ts.indexes[i].length > 1 ? 's' : ''} "${cols}".  First row, with UUID ${uuid}, was ${old ? 'modified' : 'inserted'} by this transaction.  Second row, with UUID ${other}, ${otherHow}.`,
          );
        }
        seen[i].set(key, uuid);
      });
      if (old && sameData(ts, old, row)) continue;
      m.set(uuid, { old, new: new Row(uuid, newUuid(), row.cols) });
    }
    if (ts.maxRows !== Infinity && st.count(table) > ts.maxRows) {
      throw new OvsdbConstraintError(`transaction causes "${tname}" table to contain ${st.count(table)} rows, greater than the schema-defined limit of ${ts.maxRows} row(s)`);
    }
    if (m.size) changes.set(tname, m);
  }
  return changes;
}

function sameData(ts: TableSchema, a: Row, b: Row): boolean {
  for (const c of ts.columns.keys()) if (!datumEquals(a.cols[c], b.cols[c])) return false;
  return true;
}

