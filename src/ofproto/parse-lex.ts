/**
 * The pieces of the ovs-ofctl flow syntax that the match parser (parse.ts) and the action
 * parser (parse-actions.ts) share: tokens with their positions, the named error, unsigned
 * numbers and field values (value/mask, addresses, prefixes). Both parsers build on this file,
 * and neither imports the other's internals.
 */
import { AddressSyntaxError, ipv4PrefixMask, ipv6PrefixMask, parseIpv4, parseIpv6, parseMac } from '../datapath/index.ts';
import type { SubField } from './actions.ts';
import { fieldByName, fieldFullMask, type FieldDef } from './fields.ts';

export class FlowSyntaxError extends Error {
  override name = 'FlowSyntaxError';
  constructor(message: string, readonly position: number, readonly token: string, options?: { cause?: unknown }) {
    super(`${message} (at position ${position}: "${token}")`, options);
  }
}

export interface Token {
  key: string;
  value: string | undefined;
  pos: number;      // position of the key
  valuePos: number; // position of the value
  text: string;
}

/** Splits `text` at commas/white space outside parentheses into key[=:]value tokens. */
export function tokenize(text: string, base = 0, separators = ', \t\r\n'): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && separators.includes(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let depth = 0;
    while (i < text.length && (depth > 0 || !separators.includes(text[i]!))) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')') depth--;
      i++;
    }
    const tok = text.slice(start, i);
    const m = /^[^=:(]*/.exec(tok)![0];
    let value: string | undefined;
    let valuePos = base + start + m.length;
    if (m.length < tok.length) {
      if (tok[m.length] === '(') value = tok.slice(m.length);
      else { value = tok.slice(m.length + 1); valuePos++; }
    }
    out.push({ key: m, value, pos: base + start, valuePos, text: tok });
  }
  return out;
}

export function syntaxError(tok: Token, msg: string, cause?: unknown): FlowSyntaxError {
  return new FlowSyntaxError(msg, tok.pos, tok.text, { cause });
}

/** An unsigned integer in decimal or 0x hex, at most `max`. */
export function parseUint(s: string, max: bigint, tok: Token, what: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw syntaxError(tok, `${what}: "${s}" is not a number`);
  const v = BigInt(s);
  if (v > max) throw syntaxError(tok, `${what}: ${s} is out of range (max ${max})`);
  return v;
}

/** Parses a field value with optional /mask, in the field's text format. */
export function parseFieldValue(d: FieldDef, text: string, tok: Token): { value: bigint; mask: bigint } {
  const full = fieldFullMask(d);
  const slash = text.indexOf('/');
  const vs = slash < 0 ? text : text.slice(0, slash);
  const ms = slash < 0 ? undefined : text.slice(slash + 1);
  try {
    switch (d.format) {
      case 'mac': {
        const value = BigInt(parseMac(vs));
        return { value, mask: ms === undefined ? full : BigInt(parseMac(ms)) };
      }
      case 'ipv4': {
        const value = BigInt(parseIpv4(vs));
        if (ms === undefined) return { value, mask: full };
        if (/^\d+$/.test(ms)) {
          const n = Number(ms);
          if (n > 32) throw syntaxError(tok, `${d.name}: prefix length ${ms} is out of range (max 32)`);
          return { value, mask: BigInt(ipv4PrefixMask(n)) };
        }
        return { value, mask: BigInt(parseIpv4(ms)) };
      }
      case 'ipv6': {
        const value = parseIpv6(vs);
        if (ms === undefined) return { value, mask: full };
        if (/^\d+$/.test(ms)) {
          const n = Number(ms);
          if (n > 128) throw syntaxError(tok, `${d.name}: prefix length ${ms} is out of range (max 128)`);
          return { value, mask: ipv6PrefixMask(n) };
        }
        return { value, mask: parseIpv6(ms) };
      }
      default: {
        const value = parseUint(vs, full, tok, d.name);
        return { value, mask: ms === undefined ? full : parseUint(ms, full, tok, `${d.name} mask`) };
      }
    }
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw syntaxError(tok, `${d.name}: ${e.message}`, e);
    throw e;
  }
}

/** NAME[], NAME[a..b] or NAME[a] (a bit range of a field, OVS's mf_parse_subfield). */
export function parseSubField(tok: Token, s: string): SubField {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[(?:(\d+)(?:\.\.(\d+))?)?\]$/.exec(s.trim());
  if (!m) throw syntaxError(tok, `bad field reference "${s}" (expected NAME[], NAME[a..b] or NAME[a])`);
  const field = fieldByName(m[1]!);
  if (!field) throw syntaxError(tok, `unknown field "${m[1]}"`);
  let ofs = 0, end = field.bits - 1;
  if (m[2] !== undefined) {
    ofs = Number(m[2]);
    end = m[3] !== undefined ? Number(m[3]) : ofs;
  }
  if (end < ofs || end >= field.bits) throw syntaxError(tok, `bit range [${ofs}..${end}] is outside ${field.name} (${field.bits} bits)`);
  return { field, ofs, nBits: end - ofs + 1 };
}


/**
 * Hex bytes as OVS's ofpbuf_put_hex reads them (note:, controller(userdata=)): pairs of hex
 * digits, optionally separated by dots ("01.02" or "0102"); an odd digit is an error.
 */
export function parseHexBytes(tok: Token, s: string, what: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length;) {
    if (s[i] === '.') { i++; continue; }
    const pair = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) throw syntaxError(tok, `bad hex digit in ${what}`);
    out.push(parseInt(pair, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}
