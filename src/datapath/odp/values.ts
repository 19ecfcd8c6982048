/**
 * `value[/mask]` readers for each field notation, with positions for errors.
 * A value without /mask is exact: every bit of the FlowKey field is set in the mask.
 */
import { OdpSyntaxError } from './errors.ts';
import { type Item, parseUint, parseUintBits, splitMask } from './lexer.ts';
import { AddressSyntaxError, ipv4PrefixMask, ipv6PrefixMask, parseIpv4, parseIpv6, parseMac } from './addr.ts';
import { FRAG_NAMES } from './fields.ts';

export interface VM { v: number; m: number }

/** Every item has `name=value` with a non-empty value. */
export function needValue(it: Item, where: string): string {
  if (it.value === undefined) throw new OdpSyntaxError(it.pos, it.name, `expected "${it.name}=value" in ${where}`);
  const { v } = splitMask(it.value, it.valuePos);
  if (v.trim() === '') throw new OdpSyntaxError(it.valuePos, `${it.name}=${it.value}`, `missing value for "${it.name}" in ${where}`);
  return it.value;
}

/** A number of `bits` meaningful bits; exact sets `full` (the key field's all-ones). */
export function numVM(text: string, pos: number, what: string, bits: number, full: number): VM {
  const { v, vPos, m, mPos } = splitMask(text, pos);
  const value = parseUintBits(v, vPos, what, bits);
  if (m === undefined) return { v: value, m: full };
  return { v: value, m: parseUintBits(m, mPos, `${what} mask`, bits) };
}

function addr<T>(fn: (s: string) => T, s: string, pos: number, what: string): T {
  try {
    return fn(s);
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw new OdpSyntaxError(pos, s, `${e.message.split(':')[0]} "${s}" for ${what}`, { cause: e });
    throw e;
  }
}

export function macVM(text: string, pos: number, what: string): VM {
  const { v, vPos, m, mPos } = splitMask(text, pos);
  return { v: addr(parseMac, v, vPos, what), m: m === undefined ? 2 ** 48 - 1 : addr(parseMac, m, mPos, `${what} mask`) };
}

/** IPv4 with a netmask (OVS's output form) or a /len prefix (accepted on input). */
export function ipv4VM(text: string, pos: number, what: string): VM {
  const { v, vPos, m, mPos } = splitMask(text, pos);
  const value = addr(parseIpv4, v, vPos, what);
  if (m === undefined) return { v: value, m: 0xffffffff };
  if (/^[0-9]+$/.test(m)) return { v: value, m: ipv4PrefixMask(parseUintRange(m, mPos, `${what} prefix`, 32)) };
  return { v: value, m: addr(parseIpv4, m, mPos, `${what} mask`) };
}

export function ipv6VM(text: string, pos: number, what: string): { v: bigint; m: bigint } {
  const { v, vPos, m, mPos } = splitMask(text, pos);
  const value = addr(parseIpv6, v, vPos, what);
  if (m === undefined) return { v: value, m: (1n << 128n) - 1n };
  if (/^[0-9]+$/.test(m)) return { v: value, m: ipv6PrefixMask(parseUintRange(m, mPos, `${what} prefix`, 128)) };
  return { v: value, m: addr(parseIpv6, m, mPos, `${what} mask`) };
}

function parseUintRange(s: string, pos: number, what: string, max: number): number {
  const n = parseUint(s, pos, what);
  if (n > max) throw new OdpSyntaxError(pos, s, `prefix length ${s} out of range for ${what} (max ${max})`);
  return n;
}

/** frag=no|first|later (or a number), with an optional /mask (a bvs extension). */
export function fragVM(text: string, pos: number): VM {
  const { v, vPos, m, mPos } = splitMask(text, pos);
  const named = FRAG_NAMES.get(v.toLowerCase());
  const value = named ?? (/^[0-9]/.test(v) ? parseUintBits(v, vPos, 'frag', 8) : undefined);
  if (value === undefined) throw new OdpSyntaxError(vPos, v, `bad frag "${v}" (expected no, first or later)`);
  return { v: value, m: m === undefined ? 0xff : parseUintBits(m, mPos, 'frag mask', 8) };
}
