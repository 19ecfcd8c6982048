/**
 * ovs-vsctl's generic database commands (ovs-vsctl(8) "Database Commands"): list, find, get,
 * set, add, remove, clear, create, destroy. TABLE and COLUMN names match case-insensitively
 * and by unique prefix; RECORD is a UUID or a name (model.ts findRecord).
 *
 * Output formats are ovs-vsctl's: `list`/`find` print `%-20s: value` lines per column (`_uuid`
 * first, then columns in name order, or the --columns order) with a blank line between rows;
 * `get` prints one value per line.
 *
 * Neighbours: context.ts, db.ts, model.ts, format.ts, schema.ts.
 */
import type { CommandContext, CommandSpec } from './context.ts';
import type { Row } from './db.ts';
import { formatDatum, parseAtom, parseDatum, splitColumnArg } from './format.ts';
import { lookupColumn, lookupTable, mustRecord, findRecord } from './model.ts';
import { formatTable } from './table.ts';
import {
  atomEquals, canonical, datumEquals, emptyDatum, isMap, VsctlError,
  type Atom, type ColumnSchema, type Datum, type TableSchema,
} from './schema.ts';

function mutableColumn(t: TableSchema, c: ColumnSchema): void {
  if (!c.mutable || c.name === '_uuid') throw new VsctlError(`cannot modify read-only column ${c.name} in table ${t.name}`);
}

function count(d: Datum): number {
  return d.kind === 'set' ? d.atoms.length : d.pairs.length;
}

function checkCount(t: TableSchema, c: ColumnSchema, d: Datum): void {
  const n = count(d);
  if (n > c.type.max) throw new VsctlError(`"${c.name}" column in table ${t.name}: ${n} values but the maximum number is ${c.type.max}`);
  if (n < c.type.min) throw new VsctlError(`"${c.name}" column in table ${t.name}: ${n} values but the minimum number is ${c.type.min}`);
}

/** `COLUMN[:KEY]=VALUE` applied to `row` (set, add-port's trailing arguments). */
export function applySetArg(ctx: CommandContext, row: Row, arg: string): void {
  const t = row.table;
  const a = splitColumnArg(arg, ['=']);
  if (a.op === undefined || a.value === '') throw new VsctlError(`${arg}: argument does not end in "=" followed by a value.`);
  const c = lookupColumn(t, a.column);
  mutableColumn(t, c);
  if (a.key !== undefined) {
    if (!isMap(c.type)) throw new VsctlError(`cannot specify key to set for non-map column ${c.name}`);
    const k = parseAtom(a.key, c.type.key, ctx.symbols);
    const v = parseAtom(a.value!, c.type.value!, ctx.symbols);
    const cur = row.cols.get(c.name) as { kind: 'map'; pairs: [Atom, Atom][] };
    ctx.db.set(row, c.name, canonical({ kind: 'map', pairs: [...cur.pairs, [k, v]] }));
  } else {
    ctx.db.set(row, c.name, parseDatum(a.value!, c.type, ctx.symbols));
  }
}

function tableRecord(ctx: CommandContext): { t: TableSchema; row: Row | undefined } {
  const t = lookupTable(ctx.db, ctx.args[0]!);
  const row = ctx.options.has('--if-exists') ? findRecord(ctx.db, t, ctx.args[1]!) : mustRecord(ctx.db, t, ctx.args[1]!);
  return { t, row };
}

function listColumns(ctx: CommandContext, t: TableSchema): ColumnSchema[] {
  const spec = ctx.options.get('--columns');
  if (spec !== undefined && spec !== '') return spec.split(',').map((n) => lookupColumn(t, n.trim()));
  return [t.columns.get('_uuid')!, ...[...t.columns.values()].filter((c) => c.name !== '_uuid')
    .sort((a, b) => (a.name < b.name ? -1 : 1))];
}

function printRows(ctx: CommandContext, t: TableSchema, rows: Row[]): void {
  const cols = listColumns(ctx, t);
  const style = ctx.options.has('--bare') ? { format: 'list' as const, data: 'bare' as const, headings: false } : ctx.style;
  const cells = rows.map((row) => cols.map((c) => ({ datum: row.cols.get(c.name)!, type: c.type })));
  ctx.out.push(...formatTable(cols.map((c) => c.name), cells, style));
}

/**
 * The order ovs-vsctl lists a whole table in: its IDL keeps rows in an hmap keyed by the UUID's
 * first 32 bits (uuid_hash), iterated bucket by bucket, so rows come in order of those bits
 * masked by the hmap's bucket mask (which grows with the row count as lib/hmap.c does). Rows
 * sharing a bucket are in an order this client cannot know (it depends on the server's JSON
 * member order); they are sorted by UUID. Named UUIDs (rows new in this run) go last.
 */
export function idlOrder(rows: Row[]): Row[] {
  let mask = 0;
  for (let n = 1; n <= rows.length; n++) {
    if (Math.floor(n / 2) > mask) {
      let m = Math.floor(n / 2);
      for (let sh = 1; sh < 32; sh <<= 1) m |= m >>> sh;
      m |= (m & 1) << 1;
      if (m > mask) mask = m;
    }
  }
  const bucket = (r: Row) => (r.uuid.named ? Infinity : (Number.parseInt(r.uuid.id.slice(0, 8), 16) & mask) >>> 0);
  return [...rows].sort((a, b) => bucket(a) - bucket(b) || (a.uuid.id < b.uuid.id ? -1 : a.uuid.id > b.uuid.id ? 1 : 0));
}

const list: CommandSpec = {
  name: 'list', usage: 'list TABLE [RECORD]...', minArgs: 1, maxArgs: Infinity, options: ['--if-exists', '--columns', '--bare'], write: false,
  run(ctx) {
    const t = lookupTable(ctx.db, ctx.args[0]!);
    const recs = ctx.args.slice(1);
    const rows = recs.length === 0 ? idlOrder(ctx.db.rows(t.name))
      : recs.flatMap((r) => {
        const row = ctx.options.has('--if-exists') ? findRecord(ctx.db, t, r) : mustRecord(ctx.db, t, r);
        return row === undefined ? [] : [row];
      });
    printRows(ctx, t, rows);
  },
};

function matches(ctx: CommandContext, t: TableSchema, row: Row, cond: string): boolean {
  const a = splitColumnArg(cond, ['!=', '=']);
  if (a.op === undefined) throw new VsctlError(`${cond}: argument does not end in "=" or "!=" followed by a value.`);
  const c = lookupColumn(t, a.column);
  const d = row.cols.get(c.name)!;
  let eq: boolean;
  if (a.key !== undefined) {
    if (!isMap(c.type)) throw new VsctlError(`cannot specify key to check for non-map column ${c.name}`);
    const k = parseAtom(a.key, c.type.key);
    const v = parseAtom(a.value!, c.type.value!);
    const pair = (d as { pairs: [Atom, Atom][] }).pairs.find(([x]) => atomEquals(x, k));
    eq = pair !== undefined && atomEquals(pair[1], v);
  } else {
    eq = datumEquals(d, parseDatum(a.value!, { ...c.type, min: 0, max: Infinity }, ctx.symbols));
  }
  return a.op === '=' ? eq : !eq;
}

const find: CommandSpec = {
  name: 'find', usage: 'find TABLE [COLUMN[:KEY]=VALUE]...', minArgs: 1, maxArgs: Infinity, options: ['--columns', '--bare'], write: false,
  run(ctx) {
    const t = lookupTable(ctx.db, ctx.args[0]!);
    const conds = ctx.args.slice(1);
    printRows(ctx, t, idlOrder(ctx.db.rows(t.name)).filter((r) => conds.every((c) => matches(ctx, t, r, c))));
  },
};

const get: CommandSpec = {
  name: 'get', usage: 'get TABLE RECORD [COLUMN[:KEY]]...', minArgs: 2, maxArgs: Infinity, options: ['--if-exists', '--id'], write: false,
  run(ctx) {
    const { t, row } = tableRecord(ctx);
    if (row === undefined) return;
    const id = ctx.options.get('--id');
    if (id !== undefined) ctx.symbols.define(id, row.uuid);
    for (const arg of ctx.args.slice(2)) {
      const a = splitColumnArg(arg, []);
      const c = lookupColumn(t, a.column);
      const d = row.cols.get(c.name)!;
      if (a.key === undefined) {
        ctx.out.push(formatDatum(d, c.type));
        continue;
      }
      if (!isMap(c.type)) throw new VsctlError(`cannot specify key to get for non-map column ${c.name}`);
      const k = parseAtom(a.key, c.type.key);
      const pair = (d as { pairs: [Atom, Atom][] }).pairs.find(([x]) => atomEquals(x, k));
      if (pair !== undefined) ctx.out.push(formatDatum({ kind: 'set', atoms: [pair[1]] }, { key: c.type.value!, min: 1, max: 1 }));
      else if (!ctx.options.has('--if-exists')) {
        throw new VsctlError(`no key "${a.key}" in ${t.name} record "${ctx.args[1]}" column ${c.name}`);
      }
    }
  },
};

const setCmd: CommandSpec = {
  name: 'set', usage: 'set TABLE RECORD COLUMN[:KEY]=VALUE...', minArgs: 3, maxArgs: Infinity, options: ['--if-exists'], write: true,
  run(ctx) {
    const { row } = tableRecord(ctx);
    if (row === undefined) return;
    for (const arg of ctx.args.slice(2)) applySetArg(ctx, row, arg);
  },
};

/** `add`/`remove`: the value arguments as one datum of the column's type (any count). */
function valuesDatum(ctx: CommandContext, c: ColumnSchema, values: string[], forRemove: boolean): Datum {
  const loose = { ...c.type, min: 0, max: Infinity };
  if (!isMap(c.type)) {
    return canonical({ kind: 'set', atoms: values.flatMap((v) => (parseDatum(v, loose, ctx.symbols) as { atoms: Atom[] }).atoms) });
  }
  if (forRemove) {
    // A map removal names a key (remove it whatever its value) or key=value (remove that pair).
    return { kind: 'map', pairs: values.flatMap((v) => (v.includes('=') ? (parseDatum(v, loose, ctx.symbols) as { pairs: [Atom, Atom][] }).pairs
      : [[parseAtom(v, c.type.key, ctx.symbols), null as unknown as Atom] as [Atom, Atom]])) };
  }
  return canonical({ kind: 'map', pairs: values.flatMap((v) => (parseDatum(v, loose, ctx.symbols) as { pairs: [Atom, Atom][] }).pairs) });
}

/** TABLE RECORD COLUMN of add/remove: the row (undefined with --if-exists and no row), the
 *  mutable column and its current value. */
function mutableCell(ctx: Parameters<CommandSpec['run']>[0]) {
  const { t, row } = tableRecord(ctx);
  if (row === undefined) return undefined;
  const c = lookupColumn(t, ctx.args[2]!);
  mutableColumn(t, c);
  return { t, row, c, cur: row.cols.get(c.name)! };
}

const add: CommandSpec = {
  name: 'add', usage: 'add TABLE RECORD COLUMN [KEY=]VALUE...', minArgs: 4, maxArgs: Infinity, options: ['--if-exists'], write: true,
  run(ctx) {
    const cell = mutableCell(ctx);
    if (!cell) return;
    const { t, row, c, cur } = cell;
    const add = valuesDatum(ctx, c, ctx.args.slice(3), false);
    const next: Datum = cur.kind === 'set'
      ? canonical({ kind: 'set', atoms: [...cur.atoms, ...(add as { atoms: Atom[] }).atoms] })
      // Existing keys keep their values (ovs-vsctl add never replaces a pair).
      : canonical({ kind: 'map', pairs: [...(add as { pairs: [Atom, Atom][] }).pairs, ...cur.pairs] });
    checkCount(t, c, next);
    ctx.db.set(row, c.name, next);
  },
};

const remove: CommandSpec = {
  name: 'remove', usage: 'remove TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...', minArgs: 4, maxArgs: Infinity, options: ['--if-exists'], write: true,
  run(ctx) {
    const cell = mutableCell(ctx);
    if (!cell) return;
    const { t, row, c, cur } = cell;
    const rm = valuesDatum(ctx, c, ctx.args.slice(3), true);
    const next: Datum = cur.kind === 'set'
      ? { kind: 'set', atoms: cur.atoms.filter((x) => !(rm as { atoms: Atom[] }).atoms.some((y) => atomEquals(x, y))) }
      : { kind: 'map', pairs: cur.pairs.filter(([k, v]) => !(rm as { pairs: [Atom, Atom | null][] }).pairs
        .some(([rk, rv]) => atomEquals(k, rk) && (rv === null || atomEquals(v, rv)))) };
    checkCount(t, c, next);
    ctx.db.set(row, c.name, next);
  },
};

const clear: CommandSpec = {
  name: 'clear', usage: 'clear TABLE RECORD COLUMN...', minArgs: 3, maxArgs: Infinity, options: ['--if-exists'], write: true,
  run(ctx) {
    const { t, row } = tableRecord(ctx);
    if (row === undefined) return;
    for (const name of ctx.args.slice(2)) {
      const c = lookupColumn(t, name);
      mutableColumn(t, c);
      if (c.type.min > 0) {
        throw new VsctlError(`"clear" operation cannot be applied to column ${c.name} of table ${t.name}, which is not allowed to be empty`);
      }
      ctx.db.set(row, c.name, emptyDatum(c.type));
    }
  },
};

const create: CommandSpec = {
  name: 'create', usage: 'create TABLE COLUMN[:KEY]=VALUE...', minArgs: 2, maxArgs: Infinity, options: ['--id'], write: true,
  run(ctx) {
    const t = lookupTable(ctx.db, ctx.args[0]!);
    const id = ctx.options.get('--id');
    if (!t.isRoot && id === undefined) {
      ctx.warnings.push(`row in ${t.name} table lacks reference from a root table; it will be deleted at commit (use --id=@NAME and reference it)`);
    }
    const row = id === undefined ? ctx.db.insert(t.name) : ctx.db.insert(t.name, {}, ctx.symbols.define(id));
    for (const arg of ctx.args.slice(1)) applySetArg(ctx, row, arg);
    if (id === undefined) ctx.afterCommit((uuids) => ctx.out.push(uuids.get(row.uuid.id) ?? ''));
  },
};

const destroy: CommandSpec = {
  name: 'destroy', usage: 'destroy TABLE RECORD...', minArgs: 2, maxArgs: Infinity, options: ['--if-exists'], write: true,
  run(ctx) {
    const t = lookupTable(ctx.db, ctx.args[0]!);
    if (!t.isRoot) throw new VsctlError(`cannot destroy a row in non-root table ${t.name}: remove the references to it instead (it is then garbage-collected)`);
    for (const r of ctx.args.slice(1)) {
      const row = ctx.options.has('--if-exists') ? findRecord(ctx.db, t, r) : mustRecord(ctx.db, t, r);
      if (row !== undefined) ctx.db.delete(row);
    }
  },
};

export const dbCommands: readonly CommandSpec[] = [list, find, get, setCmd, add, remove, clear, create, destroy];
