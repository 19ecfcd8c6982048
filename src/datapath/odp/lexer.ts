/**
 * Tokenizing the ODP text forms: attribute lists `name(body),name(body)`, the `field=value`
 * items inside a body, and numbers.
 *
 * Every node keeps the offset of its text in the caller's string, so an error anywhere deeper
 * can name its position. Nothing here knows which attributes or fields exist; key-parse.ts
 * and actions.ts give the names meaning.
 *
 * Delimiters between attributes are ',' and white space, as in OVS's odp_flow_from_string.
 * Inside a body, items are separated by ',' only; parentheses nest.
 */
import { OdpSyntaxError } from './errors.ts';

/** `name(body)`, or a bare word (`pop_vlan`, `2`) when `body` is undefined. */
export interface Node {
  name: string;
  pos: number;           // offset of name
  body?: string;         // text between the parentheses
  bodyPos: number;       // offset of the body's first character
  end: number;           // offset just past the node
}

/** `name=value`, or a bare word (`actions`) when `value` is undefined. */
export interface Item {
  name: string;
  pos: number;
  value?: string;
  valuePos: number;
}

const DELIM = /[,\s]/;

/** Splits `text` (found at `base` in the caller's string) into top-level nodes. */
export function splitNodes(text: string, base: number): Node[] {
  const nodes: Node[] = [];
  let i = 0;
  while (i < text.length) {
    if (DELIM.test(text[i])) { i++; continue; }
    const start = i;
    while (i < text.length && /[A-Za-z0-9_.:\-+]/.test(text[i])) i++;
    const name = text.slice(start, i);
    if (!name) throw new OdpSyntaxError(base + i, text[i], `unexpected "${text[i]}"`);
    if (text[i] !== '(') {
      if (i < text.length && !DELIM.test(text[i])) {
        throw new OdpSyntaxError(base + i, text[i], `unexpected "${text[i]}" after "${name}"`);
      }
      nodes.push({ name, pos: base + start, bodyPos: base + i, end: base + i });
      continue;
    }
    const close = matchParen(text, i, base);
    nodes.push({ name, pos: base + start, body: text.slice(i + 1, close), bodyPos: base + i + 1, end: base + close + 1 });
    i = close + 1;
    if (i < text.length && !DELIM.test(text[i])) {
      throw new OdpSyntaxError(base + i, text[i], `expected "," after "${name}(...)", got "${text[i]}"`);
    }
  }
  return nodes;
}

/** Index of the ')' matching the '(' at `open`. */
export function matchParen(text: string, open: number, base: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '(') depth++;
    else if (text[j] === ')' && --depth === 0) return j;
  }
  throw new OdpSyntaxError(base + open, '(', 'unbalanced "(": no matching ")"');
}

/** Splits a body into ','-separated items at parenthesis depth 0. */
export function splitItems(body: string, base: number): Item[] {
  const items: Item[] = [];
  let depth = 0;
  let start = 0;
  const push = (end: number): void => {
    const raw = body.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    const pos = base + start + lead;
    if (!text) {
      if (end < body.length || items.length) throw new OdpSyntaxError(pos, ',', 'empty item');
      return;
    }
    const eq = text.indexOf('=');
    if (eq < 0) items.push({ name: text, pos, valuePos: pos + text.length });
    else items.push({ name: text.slice(0, eq), pos, value: text.slice(eq + 1), valuePos: pos + eq + 1 });
  };
  for (let j = 0; j < body.length; j++) {
    const c = body[j];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { push(j); start = j + 1; }
  }
  push(body.length);
  return items;
}

/**
 * An unsigned integer: decimal, or hex with 0x. A leading 0 followed by digits is rejected:
 * C's %i (which OVS uses) would read it as octal, and silently guessing either way is worse.
 */
export function parseUint(text: string, pos: number, what: string): number {
  const t = text.trim();
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^(0|[1-9][0-9]*)$/.test(t)) v = Number(t);
  else throw new OdpSyntaxError(pos, text, `bad number "${text}" for ${what}`);
  if (!Number.isSafeInteger(v)) throw new OdpSyntaxError(pos, text, `number "${text}" too large for ${what}`);
  return v;
}

/** parseUint, checked against `bits` of width. */
export function parseUintBits(text: string, pos: number, what: string, bits: number): number {
  const v = parseUint(text, pos, what);
  if (v > 2 ** bits - 1) {
    throw new OdpSyntaxError(pos, text, `value ${text} out of range for ${what} (${bits} bits, max ${2 ** bits - 1})`);
  }
  return v;
}

/** Splits `value/mask` at the first '/', keeping offsets. */
export function splitMask(text: string, pos: number): { v: string; vPos: number; m?: string; mPos: number } {
  const slash = text.indexOf('/');
  if (slash < 0) return { v: text, vPos: pos, mPos: pos + text.length };
  return { v: text.slice(0, slash), vPos: pos, m: text.slice(slash + 1), mPos: pos + slash + 1 };
}
