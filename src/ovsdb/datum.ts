/**
 * Atoms and datums (RFC 7047 §5.1): JSON <-> memory, ordering, defaults, constraints.
 *
 * In memory a datum is `{ keys, values? }` with keys sorted ascending and unique (values parallel,
 * present only for maps). Every column value - scalar, optional, set, map - uses this one shape, so
 * comparison, mutation and diffing need no special cases. Datums are treated as immutable: code
 * that changes one builds a new one.
 * Neighbours: schema.ts, errors.ts.
 */
import { randomUUID } from 'node:crypto';
import { OvsdbConstraintError, OvsdbSyntaxError } from './errors.ts';
import type { Atom, BaseType, ColumnType } from './schema.ts';

export interface Datum {
  readonly keys: readonly Atom[];
  readonly values?: readonly Atom[];
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const newUuid = (): string => randomUUID();
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);

/** Resolves ["named-uuid", name] inside a transaction (RFC 7047 §5.1). */
export type NamedUuidResolver = (name: string) => string | undefined;

export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function defaultAtom(b: BaseType): Atom {
  switch (b.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

export function defaultDatum(t: ColumnType): Datum {
  if (t.min === 0) return t.value ? { keys: [], values: [] } : { keys: [] };
  return t.value ? { keys: [defaultAtom(t.key)], values: [defaultAtom(t.value)] } : { keys: [defaultAtom(t.key)] };
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (a.keys.length !== b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) if (a.keys[i] !== b.keys[i]) return false;
  if (a.values || b.values) {
    if (!a.values || !b.values) return false;
    for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  }
  return true;
}

export function isDefault(d: Datum, t: ColumnType): boolean {
  return datumEquals(d, defaultDatum(t));
}

/** Checks an atom against its base type's constraints (enum, ranges, lengths). */
export function checkAtom(a: Atom, b: BaseType, where: string): void {
  if (b.enum && !b.enum.some((e) => e === a)) {
    throw new OvsdbConstraintError(`${JSON.stringify(a)} is not one of the allowed values (${b.enum.map((e) => JSON.stringify(e)).join(', ')}) for ${where}`);
  }
  if (b.type === 'integer' || b.type === 'real') {
    const lo = b.type === 'integer' ? b.minInteger : b.minReal;
    const hi = b.type === 'integer' ? b.maxInteger : b.maxReal;
    if ((lo !== undefined && (a as number) < lo) || (hi !== undefined && (a as number) > hi)) {
      throw new OvsdbConstraintError(`${a} is not in the valid range ${lo ?? '-inf'} to ${hi ?? 'inf'} (inclusive) for ${where}`);
    }
  } else if (b.type === 'string') {
    const len = [...(a as string)].length;
    if ((b.minLength !== undefined && len < b.minLength) || (b.maxLength !== undefined && len > b.maxLength)) {
      throw new OvsdbConstraintError(`"${a}" length ${len} is not in the valid range ${b.minLength ?? 0} to ${b.maxLength ?? 'unlimited'} for ${where}`);
    }
  }
}

/** Parses one atom (RFC 7047 §5.1 <atom>). Does not check constraints. */
export function atomFromJson(j: unknown, b: BaseType, where: string, named?: NamedUuidResolver): Atom {
  switch (b.type) {
    case 'integer':
      if (typeof j === 'number' && Number.isInteger(j)) return j;
      break;
    case 'real':
      if (typeof j === 'number') return j;
      break;
    case 'boolean':
      if (typeof j === 'boolean') return j;
      break;
    case 'string':
      if (typeof j === 'string') return j;
      break;
    case 'uuid':
      if (Array.isArray(j) && j.length === 2 && typeof j[1] === 'string') {
        if (j[0] === 'uuid' && isUuid(j[1])) return j[1].toLowerCase();
        if (j[0] === 'named-uuid' && named) {
          const u = named(j[1]);
          if (u) return u;
          throw new OvsdbSyntaxError(`${where}: unknown named-uuid "${j[1]}"`);
        }
      }
      break;
  }
  throw new OvsdbSyntaxError(`${where}: expected ${b.type}, got ${JSON.stringify(j)}`);
}

export function atomToJson(a: Atom, b: BaseType): unknown {
  return b.type === 'uuid' ? ['uuid', a] : a;
}

/** Sorts parallel key/value arrays; duplicate keys are an error unless `dedupe`. */
function normalize(keys: Atom[], values: Atom[] | undefined, where: string, dedupe: boolean): Datum {
  // Fast path: already strictly ascending (one element, or what clients and we usually send).
  let ascending = true;
  for (let i = 1; i < keys.length; i++) {
    if (compareAtoms(keys[i - 1], keys[i]) >= 0) {
      ascending = false;
      break;
    }
  }
  if (ascending) return values ? { keys, values } : { keys };
  const idx = keys.map((_, i) => i).sort((x, y) => compareAtoms(keys[x], keys[y]));
  const k: Atom[] = [];
  const v: Atom[] | undefined = values ? [] : undefined;
  for (const i of idx) {
    if (k.length && k[k.length - 1] === keys[i]) {
      if (dedupe) continue;
      throw new OvsdbSyntaxError(`${where}: ${values ? 'map contains duplicate key' : 'set contains duplicate'} ${JSON.stringify(keys[i])}`);
    }
    k.push(keys[i]);
    v?.push(values![i]);
  }
  return v ? { keys: k, values: v } : { keys: k };
}

export function makeDatum(keys: Atom[], values?: Atom[], dedupe = true): Datum {
  return normalize(keys, values, 'datum', dedupe);
}

/**
 * Parses a datum (RFC 7047 §5.1 <value>) for column type `t`, checking atom constraints and,
 * unless `loose` (mutation operands), the element count.
 */
export function datumFromJson(j: unknown, t: ColumnType, where: string, named?: NamedUuidResolver, loose = false): Datum {
  let keys: Atom[];
  let values: Atom[] | undefined;
  if (t.value) {
    if (!Array.isArray(j) || j[0] !== 'map' || !Array.isArray(j[1])) {
      throw new OvsdbSyntaxError(`${where}: expected ["map", [...]], got ${JSON.stringify(j)}`);
    }
    keys = [];
    values = [];
    for (const pair of j[1] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new OvsdbSyntaxError(`${where}: map pair must be [key, value]`);
      keys.push(atomFromJson(pair[0], t.key, where, named));
      values.push(atomFromJson(pair[1], t.value, where, named));
    }
  } else if (Array.isArray(j) && j[0] === 'set') {
    if (!Array.isArray(j[1])) throw new OvsdbSyntaxError(`${where}: expected ["set", [...]]`);
    keys = (j[1] as unknown[]).map((a) => atomFromJson(a, t.key, where, named));
  } else {
    keys = [atomFromJson(j, t.key, where, named)];
  }
  const d = normalize(keys, values, where, false);
  for (const k of d.keys) checkAtom(k, t.key, where);
  if (t.value) for (const v of d.values!) checkAtom(v, t.value, where);
  if (!loose) checkSize(d, t, where);
  return d;
}

export function checkSize(d: Datum, t: ColumnType, where: string): void {
  const n = d.keys.length;
  if (n < t.min || n > t.max) {
    throw new OvsdbConstraintError(`${where} must have ${t.min} to ${t.max === Infinity ? 'unlimited' : t.max} members but ${n} are present`);
  }
}

/** RFC 7047 §5.1 rendering: a lone non-map element is written as a bare atom. */
export function datumToJson(d: Datum, t: ColumnType): unknown {
  if (t.value) return ['map', d.keys.map((k, i) => [atomToJson(k, t.key), atomToJson(d.values![i], t.value!)])];
  if (d.keys.length === 1) return atomToJson(d.keys[0], t.key);
  return ['set', d.keys.map((k) => atomToJson(k, t.key))];
}

export function findKey(d: Datum, a: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d.keys[mid], a);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Every element of `sub` is in `sup` (maps: same key with the same value). */
export function datumIncludes(sup: Datum, sub: Datum): boolean {
  for (let i = 0; i < sub.keys.length; i++) {
    const j = findKey(sup, sub.keys[i]);
    if (j < 0) return false;
    if (sub.values && sup.values![j] !== sub.values[i]) return false;
  }
  return true;
}

/** Symmetric difference for sets; for maps the changed/added keys with new values and removed keys with old values (update2 "modify", ovsdb-server(7)). */
export function datumDiff(oldD: Datum, newD: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | undefined = newD.values ? [] : undefined;
  for (let i = 0; i < oldD.keys.length; i++) {
    const j = findKey(newD, oldD.keys[i]);
    if (j < 0) {
      keys.push(oldD.keys[i]);
      values?.push(oldD.values![i]);
    }
  }
  for (let i = 0; i < newD.keys.length; i++) {
    const j = findKey(oldD, newD.keys[i]);
    if (j < 0 || (values && oldD.values![j] !== newD.values![i])) {
      keys.push(newD.keys[i]);
      values?.push(newD.values![i]);
    }
  }
  return makeDatum(keys, values);
}

/** Uuids referenced by a datum through strong or weak refs of the given table. */
export function refsOf(d: Datum, t: ColumnType, refType: 'strong' | 'weak'): { table: string; uuid: string }[] {
  const out: { table: string; uuid: string }[] = [];
  if (t.key.refTable && t.key.refType === refType) for (const k of d.keys) out.push({ table: t.key.refTable, uuid: k as string });
  if (t.value?.refTable && t.value.refType === refType) for (const v of d.values!) out.push({ table: t.value.refTable, uuid: v as string });
  return out;
}

/**
 * Calls `fn(table, uuid, ±1)` for each strong (or weak) reference that differs between two values
 * of one column: references kept on both sides cost nothing, so updating a 1000-element set by one
 * element costs one call, not 2000. Keys are sorted, so sets merge in one pass; map values fall
 * back to counting.
 */
export function refChanges(t: ColumnType, oldD: Datum | null, newD: Datum | null, refType: 'strong' | 'weak', fn: (table: string, uuid: string, sign: 1 | -1) => void): void {
  if (oldD === newD) return;
  const kt = t.key.refTable && t.key.refType === refType ? t.key.refTable : undefined;
  const vt = t.value?.refTable && t.value.refType === refType ? t.value.refTable : undefined;
  if (kt) {
    const a = oldD?.keys ?? [];
    const b = newD?.keys ?? [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const c = i >= a.length ? 1 : j >= b.length ? -1 : compareAtoms(a[i], b[j]);
      if (c === 0) {
        i++;
        j++;
      } else if (c < 0) fn(kt, a[i++] as string, -1);
      else fn(kt, b[j++] as string, 1);
    }
  }
  if (vt) {
    const n = new Map<string, number>();
    for (const v of oldD?.values ?? []) n.set(v as string, (n.get(v as string) ?? 0) - 1);
    for (const v of newD?.values ?? []) n.set(v as string, (n.get(v as string) ?? 0) + 1);
    for (const [u, d] of n) for (let k = 0; k < Math.abs(d); k++) fn(vt, u, d > 0 ? 1 : -1);
  }
}

/** Inverse of datumDiff: applies an update2/_is_diff difference to `old` (ovsdb-server(7)). */
export function applyDiff(old: Datum, diff: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | undefined = old.values ? [] : undefined;
  const inDiff = (k: Atom): number => findKey(diff, k);
  for (let i = 0; i < old.keys.length; i++) {
    const j = inDiff(old.keys[i]);
    if (j < 0) {
      keys.push(old.keys[i]);
      values?.push(old.values![i]);
    } else if (values && diff.values![j] !== old.values![i]) {
      keys.push(old.keys[i]);
      values.push(diff.values![j]); // changed value
    } // else: removed (set XOR, or map key listed with its old value)
  }
  for (let j = 0; j < diff.keys.length; j++) {
    if (findKey(old, diff.keys[j]) < 0) {
      keys.push(diff.keys[j]);
      values?.push(diff.values![j]);
    }
  }
  return makeDatum(keys, values);
}
