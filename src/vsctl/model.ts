/**
 * The Open_vSwitch data model over a Db snapshot: the root row, bridges, ports and interfaces
 * reachable from it (the way ovs-vsctl builds its cache), and record lookup by name for the
 * generic database commands (ovs-vsctl(8) "Database Commands": a record is a UUID or, per table,
 * a name: Bridge/Port/Interface/Mirror by name, Manager by target, Controller by its bridge's
 * name, Open_vSwitch by ".").
 *
 * Neighbours: db.ts, schema.ts, format.ts.
 */
import type { Db, Row } from './db.ts';
import { Uuid, UUID_RE, VsctlError, type Atom, type ColumnSchema, type Datum, type TableSchema } from './schema.ts';

export function atoms(row: Row, col: string): Atom[] {
  const d = row.cols.get(col);
  return d?.kind === 'set' ? d.atoms : [];
}

export function str(row: Row, col: string): string {
  const a = atoms(row, col)[0];
  return typeof a === 'string' ? a : '';
}

export function refs(db: Db, row: Row, col: string, table: string): Row[] {
  return atoms(row, col).flatMap((a) => {
    const r = a instanceof Uuid ? db.get(table, a) : undefined;
    return r === undefined ? [] : [r];
  });
}

export const set = (...xs: Atom[]): Datum => ({ kind: 'set', atoms: xs });

/** The Open_vSwitch row; with `create`, inserts it when the table is empty (as ovs-vsctl does). */
export function ovsRow(db: Db, create: boolean): Row | undefined {
  const r = db.rows('Open_vSwitch')[0];
  if (r !== undefined || !create) return r;
  return db.insert('Open_vSwitch');
}

export function bridges(db: Db): Row[] {
  const ovs = ovsRow(db, false);
  return ovs === undefined ? [] : refs(db, ovs, 'bridges', 'Bridge');
}

export function findBridge(db: Db, name: string): Row | undefined {
  return bridges(db).find((b) => str(b, 'name') === name);
}

export function mustBridge(db: Db, name: string): Row {
  const b = findBridge(db, name);
  if (b === undefined) throw new VsctlError(`no bridge named ${name}`);
  return b;
}

export function portsOf(db: Db, br: Row): Row[] {
  return refs(db, br, 'ports', 'Port');
}

export function ifacesOf(db: Db, port: Row): Row[] {
  return refs(db, port, 'interfaces', 'Interface');
}

export function findPort(db: Db, name: string): { port: Row; bridge: Row } | undefined {
  for (const bridge of bridges(db)) {
    const port = portsOf(db, bridge).find((p) => str(p, 'name') === name);
    if (port !== undefined) return { port, bridge };
  }
  return undefined;
}

export function findIface(db: Db, name: string): { iface: Row; port: Row; bridge: Row } | undefined {
  for (const bridge of bridges(db)) {
    for (const port of portsOf(db, bridge)) {
      const iface = ifacesOf(db, port).find((i) => str(i, 'name') === name);
      if (iface !== undefined) return { iface, port, bridge };
    }
  }
  return undefined;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const sortedNames = (rows: Row[]): string[] => rows.map((r) => str(r, 'name')).sort(byName);

// ---- generic lookup ----

/** Best unique match of `name` among `names`: exact, then case/`-`/`_`-insensitive, then prefix. */
function match(name: string, names: string[], what: (n: string) => string, multiple: (n: string) => string): string {
  if (names.includes(name)) return name;
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const exact = names.filter((n) => norm(n) === norm(name));
  if (exact.length === 1) return exact[0]!;
  const pre = names.filter((n) => norm(n).startsWith(norm(name)));
  if (pre.length === 1) return pre[0]!;
  throw new VsctlError(pre.length > 1 ? multiple(name) : what(name));
}

export function lookupTable(db: Db, name: string): TableSchema {
  const t = match(name, [...db.schema.tables.keys()], (n) => `unknown table "${n}"`, (n) => `multiple table names match "${n}"`);
  return db.table(t);
}

export function lookupColumn(t: TableSchema, name: string): ColumnSchema {
  const c = match(name, [...t.columns.keys()],
    (n) => `${t.name} does not contain a column whose name matches "${n}"`,
    (n) => `${t.name} contains more than one column whose name matches "${n}"`);
  return t.columns.get(c)!;
}

/** The row of `table` that `record` names, or undefined. */
export function findRecord(db: Db, table: TableSchema, record: string): Row | undefined {
  const rows = db.rows(table.name);
  if (UUID_RE.test(record)) return rows.find((r) => r.uuid.id === record.toLowerCase());
  switch (table.name) {
    case 'Open_vSwitch':
      return record === '.' ? rows[0] : undefined;
    case 'Controller': {
      const br = findBridge(db, record);
      const c = br === undefined ? [] : refs(db, br, 'controller', 'Controller');
      if (c.length > 1) throw new VsctlError(`multiple rows in Controller match "${record}"`);
      return c[0];
    }
    case 'Manager':
      return rows.find((r) => str(r, 'target') === record);
    default: {
      if (!table.columns.has('name')) return undefined;
      const named = rows.filter((r) => str(r, 'name') === record);
      if (named.length > 1) throw new VsctlError(`multiple rows in ${table.name} match "${record}"`);
      return named[0];
    }
  }
}

export function mustRecord(db: Db, table: TableSchema, record: string): Row {
  const r = findRecord(db, table, record);
  if (r === undefined) throw new VsctlError(`no row "${record}" in table ${table.name}`);
  return r;
}
