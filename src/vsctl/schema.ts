/**
 * The client's view of an OVSDB schema and of column values (RFC 7047 §3.2 <type>, §5.1
 * <value>), as `bvs vsctl` needs them: a column's type decides how a command-line value is
 * parsed and how a value is printed.
 *
 * Values in memory are a Datum: a list of atoms (a scalar is a one-atom set) or of key/value
 * pairs (a map). Datums are kept in OVSDB's canonical order (sorted, no duplicates), so two
 * equal values compare equal and print in the order ovs-vsctl prints them.
 *
 * Neighbours: none (leaf). Used by client.ts (wire), format.ts (text), db.ts (rows).
 */

export class VsctlError extends Error {
  override name = 'VsctlError';
  /** Exit status: 1 for errors, 2 for "does not exist" answers (br-exists). */
  readonly exitCode: number;
  constructor(message: string, opts: { cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** A row reference: a committed row's UUID, or a row inserted by this transaction (uuid-name). */
export class Uuid {
  constructor(readonly id: string, readonly named = false) {}
  toString(): string {
    return this.id;
  }
}

export type Atom = string | number | boolean | Uuid;
export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';

export interface BaseType {
  type: AtomicType;
  enum?: Atom[];
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  /** Infinity for "unlimited". */
  max: number;
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  mutable: boolean;
}

export interface TableSchema {
  name: string;
  columns: Map<string, ColumnSchema>;
  isRoot: boolean;
  indexes: string[][];
}

export interface DbSchema {
  name: string;
  tables: Map<string, TableSchema>;
}

/** A value: atoms (set or scalar) or pairs (map), canonical order. */
export type Datum = { kind: 'set'; atoms: Atom[] } | { kind: 'map'; pairs: [Atom, Atom][] };

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseBase(j: unknown, where: string): BaseType {
  if (typeof j === 'string') return { type: j as AtomicType };
  if (typeof j !== 'object' || j === null) throw new VsctlError(`schema: bad base type at ${where}`);
  const o = j as Record<string, unknown>;
  const b: BaseType = { type: o.type as AtomicType };
  if (o.enum !== undefined) b.enum = atomsFromWire(o.enum, b).sort(compareAtoms);
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) {
    if (typeof o[k] === 'number') b[k] = o[k] as number;
  }
  if (typeof o.refTable === 'string') b.refTable = o.refTable;
  if (o.refType === 'weak' || o.refType === 'strong') b.refType = o.refType;
  else if (b.refTable !== undefined) b.refType = 'strong';
  return b;
}

function parseColumnType(j: unknown, where: string): ColumnType {
  if (typeof j === 'string') return { key: { type: j as AtomicType }, min: 1, max: 1 };
  const o = j as Record<string, unknown>;
  const t: ColumnType = {
    key: parseBase(o.key, `${where}.key`),
    min: typeof o.min === 'number' ? o.min : 1,
    max: o.max === 'unlimited' ? Infinity : typeof o.max === 'number' ? o.max : 1,
  };
  if (o.value !== undefined) t.value = parseBase(o.value, `${where}.value`);
  return t;
}

/** Parses a schema as get_schema returns it (RFC 7047 §3.2). */
export function parseDbSchema(j: unknown): DbSchema {
  const o = j as { name: string; tables: Record<string, { columns: Record<string, { type: unknown; mutable?: boolean }>; isRoot?: boolean; indexes?: string[][] }> };
  const tables = new Map<string, TableSchema>();
  for (const [tname, t] of Object.entries(o.tables)) {
    const columns = new Map<string, ColumnSchema>();
    columns.set('_uuid', { name: '_uuid', type: { key: { type: 'uuid' }, min: 1, max: 1 }, mutable: false });
    for (const [cname, c] of Object.entries(t.columns)) {
      columns.set(cname, { name: cname, type: parseColumnType(c.type, `${tname}.${cname}`), mutable: c.mutable !== false });
    }
    tables.set(tname, { name: tname, columns, isRoot: t.isRoot === true, indexes: t.indexes ?? [] });
  }
  return { name: o.name, tables };
}

export const isMap = (t: ColumnType): boolean => t.value !== undefined;

// ---- canonical order (ovsdb_atom_compare_3way) ----

export function compareAtoms(a: Atom, b: Atom): number {
  if (a instanceof Uuid && b instanceof Uuid) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : 1;
}

export function atomEquals(a: Atom, b: Atom): boolean {
  if (a instanceof Uuid || b instanceof Uuid) return a instanceof Uuid && b instanceof Uuid && a.id === b.id && a.named === b.named;
  return a === b;
}

/** Sorts and removes duplicates (for maps, a later pair with the same key wins). */
export function canonical(d: Datum): Datum {
  if (d.kind === 'set') {
    const atoms = [...d.atoms].sort(compareAtoms).filter((a, i, arr) => i === 0 || !atomEquals(a, arr[i - 1]!));
    return { kind: 'set', atoms };
  }
  const byKey: [Atom, Atom][] = [];
  for (const p of d.pairs) {
    const i = byKey.findIndex(([k]) => atomEquals(k, p[0]));
    if (i >= 0) byKey[i] = p;
    else byKey.push(p);
  }
  return { kind: 'map', pairs: byKey.sort((x, y) => compareAtoms(x[0], y[0])) };
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'set' && b.kind === 'set') {
    return a.atoms.length === b.atoms.length && a.atoms.every((x, i) => atomEquals(x, b.atoms[i]!));
  }
  const pa = (a as { pairs: [Atom, Atom][] }).pairs, pb = (b as { pairs: [Atom, Atom][] }).pairs;
  return pa.length === pb.length && pa.every(([k, v], i) => atomEquals(k, pb[i]![0]) && atomEquals(v, pb[i]![1]));
}

export function emptyDatum(t: ColumnType): Datum {
  return isMap(t) ? { kind: 'map', pairs: [] } : { kind: 'set', atoms: [] };
}

/** The default value of a column (RFC 7047 §5.1): the type's zero for a scalar, else empty. */
export function defaultDatum(t: ColumnType): Datum {
  if (t.min === 0 || isMap(t)) return emptyDatum(t);
  const zero: Record<AtomicType, Atom> = { integer: 0, real: 0, boolean: false, string: '', uuid: new Uuid('00000000-0000-0000-0000-000000000000') };
  return { kind: 'set', atoms: [t.key.enum?.[0] ?? zero[t.key.type]] };
}

// ---- wire (RFC 7047 §5.1) ----

function atomFromWire(j: unknown, b: BaseType): Atom {
  if (Array.isArray(j) && (j[0] === 'uuid' || j[0] === 'named-uuid')) return new Uuid(String(j[1]), j[0] === 'named-uuid');
  if (typeof j === 'string' || typeof j === 'number' || typeof j === 'boolean') return j;
  throw new VsctlError(`unexpected ${b.type} value ${JSON.stringify(j)} from the server`);
}

function atomsFromWire(j: unknown, b: BaseType): Atom[] {
  if (Array.isArray(j) && j[0] === 'set') return (j[1] as unknown[]).map((a) => atomFromWire(a, b));
  return [atomFromWire(j, b)];
}

export function datumFromWire(j: unknown, t: ColumnType): Datum {
  if (isMap(t)) {
    if (!Array.isArray(j) || j[0] !== 'map') throw new VsctlError(`expected a map from the server, got ${JSON.stringify(j)}`);
    return canonical({ kind: 'map', pairs: (j[1] as unknown[][]).map(([k, v]) => [atomFromWire(k, t.key), atomFromWire(v, t.value!)]) });
  }
  return canonical({ kind: 'set', atoms: atomsFromWire(j, t.key) });
}

export function atomToWire(a: Atom): unknown {
  return a instanceof Uuid ? [a.named ? 'named-uuid' : 'uuid', a.id] : a;
}

export function datumToWire(d: Datum, t: ColumnType): unknown {
  if (d.kind === 'map') return ['map', d.pairs.map(([k, v]) => [atomToWire(k), atomToWire(v)])];
  if (t.min === 1 && t.max === 1 && d.atoms.length === 1) return atomToWire(d.atoms[0]!);
  return ['set', d.atoms.map(atomToWire)];
}
