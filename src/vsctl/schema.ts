/**
 * The client's view of an OVSDB schema and of column values (RFC 7047 §3.2 <type>, §5.1
 * <value>), as `bvs vsctl` needs them: a column's type decides how a command-line value is
 * parsed and how a value is printed.
 *
 * Values in memory are a Datum: a list of atoms (a scalar is a one-atom set) or of key/value
 * pairs (a map). Datums are kept in OVSDB's canonical order (sorted, no duplicates), so two
 * equal values compare equal and print in the order ovs-vsctl prints them.
 *
 * Neighbours: src/ovsdb's public surface (the schema types and parser, shared with the
 * server). Used by client.ts (wire), format.ts (text), db.ts (rows).
 */
import {
  OvsdbSchemaError, parseSchema,
  type AtomicType, type BaseType as OvsdbBaseType, type ColumnSchema as OvsdbColumnSchema,
  type ColumnType as OvsdbColumnType, type DatabaseSchema, type TableSchema as OvsdbTableSchema,
} from '../ovsdb/index.ts';

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

/**
 * An atom in memory. Unlike the server's Atom (src/ovsdb/schema.ts: a uuid is a plain string,
 * the column type says which strings are uuids), the client keeps row references as Uuid,
 * because a uuid-name of this transaction must stay distinct from a committed row's UUID.
 */
export type Atom = string | number | boolean | Uuid;
export type { AtomicType };

/*
 * The schema types are the server's (src/ovsdb/schema.ts), with the client's Atom in `enum`.
 * A client table also lists "_uuid" among its columns (ovs-vsctl accepts it in
 * list/find/get), which the server's schema parser leaves out.
 */
export type BaseType = OvsdbBaseType<Atom>;
export type ColumnType = OvsdbColumnType<Atom>;
export type ColumnSchema = OvsdbColumnSchema<Atom>;
export type TableSchema = OvsdbTableSchema<Atom>;

export interface DbSchema {
  name: string;
  tables: Map<string, TableSchema>;
}

/** A value: atoms (set or scalar) or pairs (map), canonical order. */
export type Datum = { kind: 'set'; atoms: Atom[] } | { kind: 'map'; pairs: [Atom, Atom][] };

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const UUID_COLUMN: ColumnSchema = {
  name: '_uuid', type: { key: { type: 'uuid' }, min: 1, max: 1 }, ephemeral: false, mutable: false,
};

/** The server's base type with its enum as client atoms, in canonical order (defaultDatum
 *  takes the first member). */
function clientBase(b: OvsdbBaseType): BaseType {
  const { enum: members, ...rest } = b;
  if (members === undefined) return rest;
  const atoms = members.map((a): Atom => (b.type === 'uuid' ? new Uuid(String(a)) : a));
  return { ...rest, enum: atoms.sort(compareAtoms) };
}

/**
 * Parses a schema as get_schema returns it (RFC 7047 §3.2), with the server's parser (so a
 * malformed schema is refused the same way on both sides). One difference is kept on purpose:
 * isRoot is what the table says, while the server, as OVS, treats every table as root when
 * none is.
 */
export function parseDbSchema(j: unknown): DbSchema {
  let s: DatabaseSchema;
  try {
    s = parseSchema(j);
  } catch (e) {
    if (e instanceof OvsdbSchemaError) throw new VsctlError(`schema: ${e.message}`, { cause: e });
    throw e;
  }
  const raw = s.json.tables as Record<string, { isRoot?: unknown }>;
  const tables = new Map<string, TableSchema>();
  for (const t of s.tables.values()) {
    const columns = new Map<string, ColumnSchema>([['_uuid', UUID_COLUMN]]);
    for (const c of t.columns.values()) {
      const { key, value, ...bounds } = c.type;
      const type: ColumnType = value === undefined ? { ...bounds, key: clientBase(key) } : { ...bounds, key: clientBase(key), value: clientBase(value) };
      columns.set(c.name, { ...c, type });
    }
    tables.set(t.name, { ...t, columns, isRoot: raw[t.name]?.isRoot === true });
  }
  return { name: s.name, tables };
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
