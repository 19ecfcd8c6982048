/**
 * Where-clauses and mutations (RFC 7047 §5.1 <condition>, <mutation>).
 * Conditions are parsed once against a table schema and then evaluated per row; mutations are
 * parsed once and applied to a row's columns, producing new datums (rows are never edited in place).
 * Neighbours: datum.ts, schema.ts, errors.ts, row.ts.
 */
import { OvsdbConstraintError, OvsdbError, OvsdbErrorTag, OvsdbSyntaxError } from './errors.ts';
import {
  checkAtom,
  checkSize,
  datumEquals,
  datumFromJson,
  datumIncludes,
  findKey,
  makeDatum,
  type Datum,
  type NamedUuidResolver,
} from './datum.ts';
import type { Atom, ColumnType, TableSchema } from './schema.ts';
import { columnType, type Row } from './row.ts';

const FUNCTIONS = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'] as const;
type Fn = (typeof FUNCTIONS)[number];

export type Condition = { literal: boolean } | { column: string; fn: Fn; arg: Datum };

function unknownColumn(table: TableSchema, c: unknown): OvsdbError {
  return new OvsdbError(OvsdbErrorTag.unknownColumn, `No column ${String(c)} in table ${table.name}.`);
}

export function parseWhere(j: unknown, table: TableSchema, named?: NamedUuidResolver): Condition[] {
  if (!Array.isArray(j)) throw new OvsdbSyntaxError(`"where" must be an array of conditions`);
  return j.map((c) => {
    // ovsdb-server(7) §4.1.12 (monitor_cond): a condition may be a bare boolean.
    if (c === true || c === false) return { literal: c };
    if (!Array.isArray(c) || c.length !== 3 || typeof c[0] !== 'string' || typeof c[1] !== 'string') {
      throw new OvsdbSyntaxError(`Parse error in condition ${JSON.stringify(c)}`);
    }
    const t = columnType(table, c[0]);
    if (!t) throw unknownColumn(table, c[0]);
    const fn = c[1] as Fn;
    if (!FUNCTIONS.includes(fn)) throw new OvsdbSyntaxError(`unknown function "${c[1]}" in condition ${JSON.stringify(c)}`);
    const ordered = fn !== '==' && fn !== '!=' && fn !== 'includes' && fn !== 'excludes';
    if (ordered && (t.value || t.max !== 1 || (t.key.type !== 'integer' && t.key.type !== 'real'))) {
      throw new OvsdbSyntaxError(`Type mismatch: "${fn}" operator may not be used with column ${c[0]} of type ${t.key.type}`);
    }
    return { column: c[0], fn, arg: datumFromJson(c[2], t, `condition on ${c[0]}`, named, true) };
  });
}

function evalOne(c: Condition, row: Row): boolean {
  if ('literal' in c) return c.literal;
  const v = row.get(c.column);
  switch (c.fn) {
    case '==':
      return datumEquals(v, c.arg);
    case '!=':
      return !datumEquals(v, c.arg);
    case 'includes':
      return datumIncludes(v, c.arg);
    case 'excludes':
      for (let i = 0; i < c.arg.keys.length; i++) {
        const j = findKey(v, c.arg.keys[i]);
        if (j >= 0 && (!c.arg.values || v.values![j] === c.arg.values[i])) return false;
      }
      return true;
    default: {
      // Ordered functions on (optional) scalars: an empty value never matches.
      if (v.keys.length !== 1 || c.arg.keys.length !== 1) return false;
      const a = v.keys[0] as number;
      const b = c.arg.keys[0] as number;
      return c.fn === '<' ? a < b : c.fn === '<=' ? a <= b : c.fn === '>' ? a > b : a >= b;
    }
  }
}

export function matches(conds: readonly Condition[], row: Row): boolean {
  for (const c of conds) if (!evalOne(c, row)) return false;
  return true;
}

/** A uuid the conditions pin the row to (`_uuid == X`), for direct lookup instead of a scan. */
export function pinnedUuid(conds: readonly Condition[]): string | undefined {
  for (const c of conds) if ('fn' in c && c.column === '_uuid' && c.fn === '==' && c.arg.keys.length === 1) return c.arg.keys[0] as string;
  return undefined;
}

const MUTATORS = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'] as const;
type Mutator = (typeof MUTATORS)[number];
export interface Mutation {
  column: string;
  type: ColumnType;
  mutator: Mutator;
  arg: Datum;
}

export function parseMutations(j: unknown, table: TableSchema, named?: NamedUuidResolver): Mutation[] {
  if (!Array.isArray(j)) throw new OvsdbSyntaxError(`"mutations" must be an array`);
  return j.map((m) => {
    if (!Array.isArray(m) || m.length !== 3 || typeof m[0] !== 'string' || typeof m[1] !== 'string') {
      throw new OvsdbSyntaxError(`Parse error in mutation ${JSON.stringify(m)}`);
    }
    const col = table.columns.get(m[0]);
    if (!col) {
      if (m[0] === '_uuid' || m[0] === '_version') throw new OvsdbConstraintError(`Cannot mutate immutable column ${m[0]} in table ${table.name}.`);
      throw unknownColumn(table, m[0]);
    }
    if (!col.mutable) throw new OvsdbConstraintError(`Cannot mutate immutable column ${m[0]} in table ${table.name}.`);
    const mutator = m[1] as Mutator;
    if (!MUTATORS.includes(mutator)) throw new OvsdbSyntaxError(`Unknown mutator "${m[1]}" in mutation ${JSON.stringify(m)}`);
    const t = col.type;
    const where = `mutation of ${table.name}.${m[0]}`;
    if (mutator === 'insert' || mutator === 'delete') {
      // Map delete may name keys only (a set of keys) or key/value pairs.
      const isKeySet = mutator === 'delete' && t.value && !(Array.isArray(m[2]) && m[2][0] === 'map');
      const at: ColumnType = isKeySet ? { key: t.key, min: 0, max: Infinity } : { ...t, min: 0, max: Infinity };
      return { column: m[0], type: t, mutator, arg: datumFromJson(m[2], at, where, named, true) };
    }
    const numeric = t.key.type === 'integer' || (t.key.type === 'real' && mutator !== '%=');
    if (t.value || !numeric) throw new OvsdbSyntaxError(`Type mismatch: "${mutator}" cannot be applied to column ${m[0]} of type ${t.key.type}`);
    const bare: ColumnType = { key: { type: t.key.type }, min: 1, max: 1 };
    return { column: m[0], type: t, mutator, arg: datumFromJson(m[2], bare, where, named) };
  });
}

function arith(mut: Mutator, a: number, b: number, integer: boolean): number {
  if ((mut === '/=' || mut === '%=') && b === 0) throw new OvsdbError(OvsdbErrorTag.domain, 'Division by zero.');
  let r: number;
  switch (mut) {
    case '+=': r = a + b; break;
    case '-=': r = a - b; break;
    case '*=': r = a * b; break;
    case '/=': r = integer ? Math.trunc(a / b) : a / b; break;
    default: r = a % b;
  }
  if (integer ? !Number.isSafeInteger(r) : !Number.isFinite(r)) throw new OvsdbError(OvsdbErrorTag.range, `Result of "${mut}" operation is out of range.`);
  return r;
}

/** Applies mutations to a copy of the row's columns (RFC 7047 §5.2.4). Returns the new column map. */
export function applyMutations(muts: readonly Mutation[], cols: Record<string, Datum>, table: TableSchema): Record<string, Datum> {
  const out = { ...cols };
  for (const m of muts) {
    const cur = out[m.column];
    const where = `${table.name}.${m.column}`;
    let next: Datum;
    if (m.mutator === 'insert') {
      const keys: Atom[] = [...cur.keys];
      const values = cur.values ? [...cur.values] : undefined;
      for (let i = 0; i < m.arg.keys.length; i++) {
        if (findKey(cur, m.arg.keys[i]) >= 0) continue; // existing map keys keep their value
        keys.push(m.arg.keys[i]);
        values?.push(m.arg.values![i]);
      }
      next = makeDatum(keys, values);
    } else if (m.mutator === 'delete') {
      const keys: Atom[] = [];
      const values: Atom[] | undefined = cur.values ? [] : undefined;
      for (let i = 0; i < cur.keys.length; i++) {
        const j = findKey(m.arg, cur.keys[i]);
        if (j >= 0 && (!m.arg.values || m.arg.values[j] === cur.values![i])) continue;
        keys.push(cur.keys[i]);
        values?.push(cur.values![i]);
      }
      next = values ? { keys, values } : { keys };
    } else {
      const integer = m.type.key.type === 'integer';
      const keys = cur.keys.map((k) => arith(m.mutator, k as number, m.arg.keys[0] as number, integer));
      for (const k of keys) checkAtom(k, m.type.key, where);
      next = makeDatum(keys, undefined, false);
      if (next.keys.length !== keys.length) throw new OvsdbConstraintError(`Mutation of ${where} produced duplicate set elements.`);
    }
    checkSize(next, m.type, where);
    out[m.column] = next;
  }
  return out;
}
