/**
 * Column values as text, the way ovs-vsctl reads and writes them (ovs-vsctl(8) "Database Values").
 *
 * Printing: a string is bare when it looks like an identifier (a letter or '_', then letters,
 * digits, '_', '-' or '.') and is not "true", "false" or a UUID; otherwise it is a JSON string.
 * A column that can hold more than one value prints as `[a, b]` (maps `{k=v, k2=v2}`), even
 * with one element; an optional scalar prints bare when set and `[]` when empty.
 *
 * Parsing: a value is a comma (or white space) separated list, optionally in `[]` (sets) or `{}`
 * (maps, `key=value` items); an element is a JSON string ("...") or a bare token. Each atom is
 * checked against its base type (integer range, enum, UUID syntax), and the count against the
 * column's min/max, with errors that quote the offending token.
 *
 * Neighbours: schema.ts.
 */
import {
  canonical, isMap, Uuid, UUID_RE, VsctlError, type Atom, type BaseType, type ColumnType, type Datum,
} from './schema.ts';

function needsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || UUID_RE.test(s);
}

export function formatAtom(a: Atom): string {
  if (a instanceof Uuid) return a.id;
  if (typeof a === 'string') return needsQuotes(a) ? JSON.stringify(a) : a;
  if (typeof a === 'number') return Number.isInteger(a) ? String(a) : String(Number(a.toPrecision(15)));
  return String(a);
}

/** ovsdb_datum_to_string: the text `list`, `get` and `show` print. */
export function formatDatum(d: Datum, t: ColumnType): string {
  const bracket = t.max > 1 || (d.kind === 'set' ? d.atoms.length : d.pairs.length) === 0;
  const body = d.kind === 'set'
    ? d.atoms.map(formatAtom).join(', ')
    : d.pairs.map(([k, v]) => `${formatAtom(k)}=${formatAtom(v)}`).join(', ');
  if (!bracket) return body;
  return isMap(t) ? `{${body}}` : `[${body}]`;
}

/** --format=... --bare: atoms unquoted, separated by spaces, maps as key=value. */
export function formatBare(d: Datum): string {
  const s = (a: Atom): string => (a instanceof Uuid ? a.id : String(a));
  return d.kind === 'set' ? d.atoms.map(s).join(' ') : d.pairs.map(([k, v]) => `${s(k)}=${s(v)}`).join(' ');
}

/**
 * `@name` row ids of one command line (ovs-vsctl(8) "--id=@name"). A reference may come before
 * the `--id=@name create` that makes the row (`set Port p qos=@q -- --id=@q create QoS ...`):
 * it gets the row's uuid-name at once, and check() fails the run if the row is never created.
 */
export class SymbolTable {
  readonly #syms = new Map<string, { uuid: Uuid; defined: boolean }>();

  static #valid(name: string): void {
    if (!/^@[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new VsctlError(`row id "${name}" does not begin with "@" followed by a name`);
  }

  /** The row `name` stands for (created later in this run if not yet). */
  ref(name: string): Uuid {
    SymbolTable.#valid(name);
    let s = this.#syms.get(name);
    if (s === undefined) {
      s = { uuid: new Uuid(`bvs_sym_${name.slice(1)}`, true), defined: false };
      this.#syms.set(name, s);
    }
    return s.uuid;
  }

  /** Defines `name` (by `--id=@name create` or `get --id=@name`); `uuid` for an existing row. */
  define(name: string, uuid?: Uuid): Uuid {
    if (uuid !== undefined && this.#syms.has(name) && !this.#syms.get(name)!.defined) {
      throw new VsctlError(`row id "${name}" is referenced before "get --id=${name}" names its row: reorder the commands`);
    }
    const u = this.ref(name);
    const s = this.#syms.get(name)!;
    if (s.defined) throw new VsctlError(`row id "${name}" may only be specified on one --id option`);
    s.defined = true;
    if (uuid !== undefined) s.uuid = uuid;
    return uuid ?? u;
  }

  /** Throws when a referenced row id was never defined. */
  check(): void {
    for (const [name, s] of this.#syms) {
      if (!s.defined) throw new VsctlError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
    }
  }
}

/** Parses one atom of `b` from `text` (a JSON string or a bare token). */
export function parseAtom(text: string, b: BaseType, symbols?: SymbolTable): Atom {
  let s = text;
  if (text.startsWith('"')) {
    try {
      s = JSON.parse(text) as string;
    } catch {
      throw new VsctlError(`${text}: unterminated or malformed quoted string`);
    }
    if (typeof s !== 'string') throw new VsctlError(`${text}: not a string`);
  }
  let atom: Atom;
  switch (b.type) {
    case 'integer': {
      if (!/^[-+]?[0-9]+$/.test(s)) throw new VsctlError(`"${s}" is not a valid integer`);
      const n = Number(s);
      const min = b.minInteger ?? Number.MIN_SAFE_INTEGER, max = b.maxInteger ?? Number.MAX_SAFE_INTEGER;
      if (n < min || n > max) {
        throw new VsctlError(`constraint violation: ${n} is not in the valid range ${min} to ${max} (inclusive)`);
      }
      atom = n;
      break;
    }
    case 'real': {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n)) throw new VsctlError(`"${s}" is not a valid real number`);
      atom = n;
      break;
    }
    case 'boolean':
      if (s !== 'true' && s !== 'false') throw new VsctlError(`"${s}" is not a valid boolean (use "true" or "false")`);
      atom = s === 'true';
      break;
    case 'uuid': {
      if (s.startsWith('@')) {
        if (symbols === undefined) throw new VsctlError(`"${s}": row ids are not allowed here`);
        atom = symbols.ref(s);
      } else if (UUID_RE.test(s)) {
        atom = new Uuid(s.toLowerCase());
      } else {
        throw new VsctlError(`"${s}" is not a valid UUID`);
      }
      break;
    }
    default: {
      const len = [...s].length;
      if (b.minLength !== undefined && len < b.minLength) throw new VsctlError(`"${s}" length ${len} is less than minimum allowed length ${b.minLength}`);
      if (b.maxLength !== undefined && len > b.maxLength) throw new VsctlError(`"${s}" length ${len} is greater than maximum allowed length ${b.maxLength}`);
      atom = s;
    }
  }
  if (b.enum !== undefined && !b.enum.some((e) => e === atom)) {
    throw new VsctlError(`constraint violation: ${formatAtom(atom)} is not one of the allowed values ([${b.enum.map(formatAtom).join(', ')}])`);
  }
  return atom;
}

/** Splits a value into tokens: JSON strings, bare words, and the punctuation `[ ] { } , =`. */
function lex(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if ('[]{},='.includes(c)) {
      out.push(c);
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new VsctlError(`${text}: unterminated quoted string`);
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\n[]{},="'.includes(text[j]!)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** One set element; an integer set also takes a range "10-20" (ovs-vsctl(8) "Database Values"). */
function parseElement(tok: string, t: ColumnType, symbols?: SymbolTable): Atom[] {
  const r = /^(\d+)-(\d+)$/.exec(tok);
  if (t.key.type !== 'integer' || t.max <= 1 || r === null) {
    if (t.key.type === 'integer' && !/^[-+]?[0-9]+$/.test(tok)) throw new VsctlError(`"${tok}" is not a valid integer or range`);
    return [parseAtom(tok, t.key, symbols)];
  }
  const lo = parseAtom(r[1]!, t.key) as number, hi = parseAtom(r[2]!, t.key) as number;
  if (hi < lo) throw new VsctlError(`"${tok}": range end ${hi} is less than range begin ${lo}`);
  if (hi - lo >= 4096) throw new VsctlError(`"${tok}": range is too long (at most 4096 values)`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** ovsdb_datum_from_string: parses a whole column value. */
export function parseDatum(text: string, t: ColumnType, symbols?: SymbolTable): Datum {
  let toks = lex(text);
  const open = isMap(t) ? '{' : '[';
  const close = isMap(t) ? '}' : ']';
  if (toks[0] === open) {
    if (toks[toks.length - 1] !== close) throw new VsctlError(`${text}: missing "${close}" at end of value`);
    toks = toks.slice(1, -1);
  }
  const items: string[][] = [[]];
  for (const tok of toks) {
    if (tok === ',') items.push([]);
    else if (tok === '[' || tok === ']' || tok === '{' || tok === '}') throw new VsctlError(`${text}: unexpected "${tok}"`);
    else items[items.length - 1]!.push(tok);
  }
  // White space also separates set elements ("10 20"), but a map item is one key=value group.
  const elems = items.flatMap((it) => (isMap(t) ? [it] : it.map((x) => [x]))).filter((it) => it.length > 0);
  let d: Datum;
  if (isMap(t)) {
    const pairs = elems.map((it): [Atom, Atom] => {
      if (it.length !== 3 || it[1] !== '=') throw new VsctlError(`${it.join('')}: syntax error in map item (expected KEY=VALUE)`);
      return [parseAtom(it[0]!, t.key, symbols), parseAtom(it[2]!, t.value!, symbols)];
    });
    d = canonical({ kind: 'map', pairs });
  } else {
    for (const it of elems) if (it[0] === '=') throw new VsctlError(`${text}: unexpected "="`);
    d = canonical({ kind: 'set', atoms: elems.flatMap((it) => parseElement(it[0]!, t, symbols)) });
  }
  const n = d.kind === 'set' ? d.atoms.length : d.pairs.length;
  if (n < t.min) throw new VsctlError(`${text}: ${n} value(s) specified but the minimum number is ${t.min}`);
  if (n > t.max) throw new VsctlError(`${text}: ${n} value(s) specified but the maximum number is ${t.max}`);
  return d;
}

/**
 * Parses `ARG` as `COLUMN[:KEY]` optionally followed by one of `ops` and a value, as in
 * `set Port p1 tag=10`, `other_config:stp-enable=true`, `find Port tag!=10`.
 */
export function splitColumnArg(arg: string, ops: readonly string[]): { column: string; key?: string; op?: string; value?: string } {
  const m = /^([A-Za-z0-9_-]+)/.exec(arg);
  if (!m) throw new VsctlError(`${arg}: missing column name`);
  const column = m[1]!;
  let rest = arg.slice(column.length);
  let key: string | undefined;
  if (rest.startsWith(':')) {
    rest = rest.slice(1);
    if (rest.startsWith('"')) {
      let j = 1;
      while (j < rest.length && rest[j] !== '"') j += rest[j] === '\\' ? 2 : 1;
      key = rest.slice(0, j + 1);
      rest = rest.slice(j + 1);
    } else {
      const opAt = Math.min(...ops.map((o) => { const i = rest.indexOf(o); return i < 0 ? Infinity : i; }));
      key = Number.isFinite(opAt) ? rest.slice(0, opAt) : rest;
      rest = rest.slice(key.length);
    }
    if (key === '') throw new VsctlError(`${arg}: missing key name after ":"`);
  }
  if (rest === '') return { column, ...(key === undefined ? {} : { key }) };
  const op = [...ops].sort((a, b) => b.length - a.length).find((o) => rest.startsWith(o));
  if (op === undefined) throw new VsctlError(`${arg}: argument does not end in ${ops.map((o) => `"${o}"`).join(' or ')} followed by a value.`);
  return { column, ...(key === undefined ? {} : { key }), op, value: rest.slice(op.length) };
}
