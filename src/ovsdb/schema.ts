/**
 * Database schemas (RFC 7047 §3.2): parsing the JSON schema into typed tables/columns/base types.
 * The original JSON is kept verbatim: get_schema returns it and the journal's first record is it.
 * Neighbours: errors.ts, atoms are described here but parsed in datum.ts.
 */
import { OvsdbSchemaError } from './errors.ts';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
/** An atom in memory: uuids are lowercase strings (the column type says which strings are uuids). */
export type Atom = string | number | boolean;

/*
 * The schema types take the in-memory atom type of `enum` as a parameter (default: the
 * server's Atom): the vsctl client shares these types but keeps uuids as its Uuid class.
 */
export interface BaseType<A = Atom> {
  type: AtomicType;
  enum?: A[];
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface ColumnType<A = Atom> {
  key: BaseType<A>;
  value?: BaseType<A>;
  min: number;
  /** Infinity for "unlimited". */
  max: number;
}

export interface ColumnSchema<A = Atom> {
  name: string;
  type: ColumnType<A>;
  ephemeral: boolean;
  mutable: boolean;
}

export interface TableSchema<A = Atom> {
  name: string;
  columns: Map<string, ColumnSchema<A>>;
  isRoot: boolean;
  maxRows: number;
  indexes: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  tables: Map<string, TableSchema>;
  json: Record<string, unknown>;
}

const ATOMIC: readonly string[] = ['integer', 'real', 'boolean', 'string', 'uuid'];
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(where: string, msg: string): never {
  throw new OvsdbSchemaError(`${where}: ${msg}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEnumAtoms(type: AtomicType, j: unknown, where: string): Atom[] {
  const raw = Array.isArray(j) && j[0] === 'set' ? (j[1] as unknown[]) : [j];
  if (!Array.isArray(raw)) fail(where, 'bad enum');
  return raw.map((a) => {
    if (type === 'integer' && Number.isInteger(a)) return a as number;
    if (type === 'real' && typeof a === 'number') return a;
    if (type === 'boolean' && typeof a === 'boolean') return a;
    if (type === 'string' && typeof a === 'string') return a;
    if (type === 'uuid' && Array.isArray(a) && a[0] === 'uuid') return String(a[1]).toLowerCase();
    return fail(where, `enum member ${JSON.stringify(a)} is not a ${type}`);
  });
}

function parseBase(j: unknown, where: string): BaseType {
  if (typeof j === 'string') {
    if (!ATOMIC.includes(j)) fail(where, `unknown atomic type "${j}"`);
    return { type: j as AtomicType };
  }
  if (!isObj(j) || typeof j.type !== 'string' || !ATOMIC.includes(j.type)) fail(where, 'bad base type');
  const b: BaseType = { type: j.type as AtomicType };
  if (j.enum !== undefined) b.enum = parseEnumAtoms(b.type, j.enum, where);
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength'] as const) {
    if (j[k] !== undefined) {
      if (typeof j[k] !== 'number') fail(where, `${k} must be a number`);
      b[k] = j[k] as number;
    }
  }
  if (j.refTable !== undefined) {
    if (b.type !== 'uuid') fail(where, 'refTable on a non-uuid type');
    b.refTable = String(j.refTable);
    b.refType = j.refType === 'weak' ? 'weak' : 'strong';
  }
  return b;
}

export function parseColumnType(j: unknown, where: string): ColumnType {
  if (typeof j === 'string') return { key: parseBase(j, where), min: 1, max: 1 };
  if (!isObj(j)) fail(where, 'bad column type');
  const t: ColumnType = { key: parseBase(j.key, where), min: 1, max: 1 };
  if (j.value !== undefined) t.value = parseBase(j.value, where);
  if (j.min !== undefined) {
    if (j.min !== 0 && j.min !== 1) fail(where, 'min must be 0 or 1');
    t.min = j.min as number;
  }
  if (j.max !== undefined) {
    if (j.max === 'unlimited') t.max = Infinity;
    else if (Number.isInteger(j.max) && (j.max as number) >= 1) t.max = j.max as number;
    else fail(where, 'max must be a positive integer or "unlimited"');
  }
  if (t.min > t.max) fail(where, 'min > max');
  return t;
}

/** Parses an RFC 7047 §3.2 schema. Throws OvsdbSchemaError naming the offending table/column. */
export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObj(json)) throw new OvsdbSchemaError('schema must be a JSON object');
  if (typeof json.name !== 'string' || !ID_RE.test(json.name)) fail('schema', 'bad or missing "name"');
  if (typeof json.version !== 'string') fail('schema', 'missing "version"');
  if (!isObj(json.tables)) fail('schema', 'missing "tables"');
  const tables = new Map<string, TableSchema>();
  let anyRoot = false;
  for (const [tname, tj] of Object.entries(json.tables)) {
    if (!ID_RE.test(tname) || tname.startsWith('_')) fail(tname, 'bad table name');
    if (!isObj(tj) || !isObj(tj.columns)) fail(tname, 'table needs "columns"');
    const columns = new Map<string, ColumnSchema>();
    for (const [cname, cj] of Object.entries(tj.columns)) {
      const where = `${tname}.${cname}`;
      if (!ID_RE.test(cname) || cname.startsWith('_')) fail(where, 'bad column name');
      if (!isObj(cj)) fail(where, 'bad column');
      columns.set(cname, {
        name: cname,
        type: parseColumnType(cj.type, where),
        ephemeral: cj.ephemeral === true,
        mutable: cj.mutable !== false,
      });
    }
    const indexes = ((tj.indexes as unknown[]) ?? []).map((ix) => {
      if (!Array.isArray(ix) || ix.length === 0) fail(tname, 'bad index');
      for (const c of ix) if (!columns.has(String(c))) fail(tname, `index names unknown column ${c}`);
      return ix.map(String);
    });
    if (tj.isRoot === true) anyRoot = true;
    tables.set(tname, {
      name: tname,
      columns,
      isRoot: tj.isRoot === true,
      maxRows: typeof tj.maxRows === 'number' ? tj.maxRows : Infinity,
      indexes,
    });
  }
  // RFC 7047 §3.2 (and OVS): a schema where no table is root treats every table as root.
  if (!anyRoot) for (const t of tables.values()) t.isRoot = true;
  for (const t of tables.values()) {
    for (const c of t.columns.values()) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable && !tables.has(b.refTable)) fail(`${t.name}.${c.name}`, `refTable ${b.refTable} does not exist`);
      }
    }
  }
  return { name: json.name as string, version: json.version as string, tables, json };
}

/** The _Server database schema (ovsdb-server(5)); only the Database table. */
export const SERVER_SCHEMA_JSON = {
  name: '_Server',
  version: '1.2.0',
  tables: {
    Database: {
      columns: {
        name: { type: 'string' },
        model: { type: { key: { type: 'string', enum: ['set', ['standalone', 'clustered', 'relay']] } } },
        connected: { type: 'boolean' },
        leader: { type: 'boolean' },
        schema: { type: { key: { type: 'string' }, min: 0, max: 1 } },
        cid: { type: { key: { type: 'uuid' }, min: 0, max: 1 } },
        sid: { type: { key: { type: 'uuid' }, min: 0, max: 1 } },
        index: { type: { key: { type: 'integer' }, min: 0, max: 1 } },
      },
      isRoot: true,
    },
  },
} as const;
