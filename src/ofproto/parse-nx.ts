/**
 * The Nicira-extension actions of ovs-actions(7) that controllers (OVN, os-ken) send: note,
 * output to a register, output with truncation, the stack, clone, write_metadata, conjunction,
 * multipath and bundle. learn() has its own file (learn.ts). Each parser takes the token of
 * parse-actions.ts and reports errors through FlowSyntaxError with the token's position.
 *
 * parse-actions.ts calls parseNxAction for names it does not know itself; the nested action
 * list of clone() is parsed through the `list` callback, so this file does not import its caller.
 */
import type { BundleAction, HashFields, MultipathAction, OfAction, SubField } from './actions.ts';
import { OFPP, parsePortName } from './flow.ts';
import { parseLearn } from './learn.ts';
import { parseHexBytes, parseSubField, parseUint, syntaxError, type Token } from './parse-lex.ts';

export type ListParser = (text: string, base: number) => OfAction[];

const HASH_FIELDS = new Set<HashFields>(['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3']);
const MP_ALGS = new Set<MultipathAction['algorithm']>(['modulo_n', 'hash_threshold', 'hrw', 'iter_hash']);

/** OVS pads a note so the action is a multiple of 8 bytes long (10 header bytes + data). */
export function padNote(data: Uint8Array): Uint8Array {
  const len = data.length + ((8 - ((data.length + 10) % 8)) % 8);
  const out = new Uint8Array(len);
  out.set(data);
  return out;
}

function args(tok: Token): string[] {
  const v = tok.value;
  if (v === undefined || !v.startsWith('(') || !v.endsWith(')')) throw syntaxError(tok, `${tok.key} needs (arguments)`);
  return v.slice(1, -1).split(',').map((x) => x.trim());
}

function num(tok: Token, s: string | undefined, max: number, what: string): number {
  if (s === undefined || s === '') throw syntaxError(tok, `${tok.key}: missing ${what}`);
  return Number(parseUint(s, BigInt(max), tok, what));
}

function hashFields(tok: Token, s: string | undefined): HashFields {
  if (!HASH_FIELDS.has(s as HashFields)) throw syntaxError(tok, `${tok.key}: unknown fields "${s ?? ''}"`);
  return s as HashFields;
}

function writable(tok: Token, sf: SubField): SubField {
  if (!sf.field.writable) throw syntaxError(tok, `${sf.field.name} is read-only`);
  return sf;
}

/** output(port=P,max_len=N): output truncated to N bytes (NXAST_OUTPUT_TRUNC). */
function outputTrunc(tok: Token): OfAction {
  let port: number | undefined, maxLen: number | undefined;
  for (const kv of args(tok)) {
    const [k, v] = kv.split('=').map((x) => x.trim());
    if (k === 'port') {
      const p = v === undefined ? undefined : parsePortName(v);
      if (p === undefined || p > 0xffff || p === OFPP.NONE || p === OFPP.CONTROLLER || p === OFPP.TABLE
        || (p >= OFPP.MAX && p < OFPP.IN_PORT)) throw syntaxError(tok, `output to unknown truncate port: ${v ?? ''}`);
      port = p;
    } else if (k === 'max_len') maxLen = num(tok, v, 0xffffffff, 'max_len');
    else throw syntaxError(tok, `output: unknown option "${k}"`);
  }
  if (port === undefined || maxLen === undefined) throw syntaxError(tok, 'output(...) needs port and max_len');
  if (maxLen < 14) throw syntaxError(tok, 'max_len must be at least 14 (an Ethernet header)');
  return { type: 'output', port, maxLen };
}

function multipath(tok: Token): OfAction {
  const a = args(tok);
  if (a.length !== 6) throw syntaxError(tok, 'multipath needs fields,basis,algorithm,n_links,arg,dst');
  const algorithm = a[2] as MultipathAction['algorithm'];
  if (!MP_ALGS.has(algorithm)) throw syntaxError(tok, `multipath: unknown algorithm "${a[2]}"`);
  const nLinks = num(tok, a[3], 65536, 'n_links');
  if (nLinks < 1) throw syntaxError(tok, 'multipath: n_links must be at least 1');
  const dst = writable(tok, parseSubField(tok, a[5]!));
  if (dst.nBits < 16 && nLinks > 2 ** dst.nBits) {
    throw syntaxError(tok, `multipath: ${dst.nBits}-bit destination field has ${2 ** dst.nBits} possible values, less than specified n_links ${nLinks}`);
  }
  return { type: 'multipath', fields: hashFields(tok, a[0]), basis: num(tok, a[1], 0xffff, 'basis'), algorithm, maxLink: nLinks - 1, arg: num(tok, a[4], 0xffffffff, 'arg'), dst };
}

/** bundle(fields,basis,algorithm,ofport,members:P,...) and bundle_load(...,ofport,DST,members:...). */
function bundle(tok: Token, load: boolean): OfAction {
  const a = args(tok);
  const want = load ? 6 : 5;
  if (a.length < want) throw syntaxError(tok, `${tok.key}: not enough arguments`);
  const algorithm = a[2] as BundleAction['algorithm'];
  if (algorithm !== 'hrw' && algorithm !== 'active_backup') throw syntaxError(tok, `${tok.key}: unknown algorithm "${a[2]}"`);
  if (a[3] !== 'ofport') throw syntaxError(tok, `${tok.key}: unknown member type "${a[3]}"`);
  const first = a[want - 1]!;
  const m = /^(members|slaves):(.*)$/.exec(first);
  if (!m) throw syntaxError(tok, `${tok.key}: expected members:...`);
  const members = [m[2]!, ...a.slice(want)].filter((x) => x !== '').map((p) => {
    const n = parsePortName(p);
    if (n === undefined || n > 0xffff) throw syntaxError(tok, `${tok.key}: bad member port "${p}"`);
    return n;
  });
  const out: BundleAction = { type: 'bundle', fields: hashFields(tok, a[0]), basis: num(tok, a[1], 0xffff, 'basis'), algorithm, members };
  if (load) out.dst = writable(tok, parseSubField(tok, a[4]!));
  return out;
}

function conjunction(tok: Token): OfAction {
  const m = /^\(\s*(\w+)\s*,\s*(\w+)\s*\/\s*(\w+)\s*\)$/.exec(tok.value ?? '');
  if (!m) throw syntaxError(tok, 'conjunction needs (id,k/n)');
  const id = num(tok, m[1], 0xffffffff, 'conjunction id');
  const clause = num(tok, m[2], 64, 'clause');
  const nClauses = num(tok, m[3], 64, 'number of clauses');
  if (nClauses < 2) throw syntaxError(tok, 'conjunction: number of clauses must be between 2 and 64');
  if (clause < 1 || clause > nClauses) throw syntaxError(tok, 'clause index must be positive and less than or equal to number of clauses');
  return { type: 'conjunction', id, clause, nClauses };
}

function writeMetadata(tok: Token): OfAction {
  const v = tok.value ?? '';
  const [vs, ms] = v.split('/');
  const value = parseUint(vs!.trim(), 0xffffffffffffffffn, tok, 'write_metadata');
  const mask = ms === undefined ? 0xffffffffffffffffn : parseUint(ms.trim(), 0xffffffffffffffffn, tok, 'write_metadata mask');
  return { type: 'write_metadata', value: value & mask, mask };
}

/** The action named `name` (lower case), or undefined when it is none of these. */
export function parseNxAction(tok: Token, name: string, list: ListParser): OfAction | undefined {
  const v = tok.value;
  switch (name) {
    case 'note': return { type: 'note', data: padNote(parseHexBytes(tok, v ?? '', '`note\' argument')) };
    case 'output':
      if (v?.startsWith('(')) return outputTrunc(tok);
      if (v?.includes('[')) return { type: 'output_reg', src: parseSubField(tok, v) };
      return undefined;
    case 'push': return { type: 'stack_push', src: parseSubField(tok, v ?? '') };
    case 'pop': return { type: 'stack_pop', dst: writable(tok, parseSubField(tok, v ?? '')) };
    case 'clone': {
      if (v === undefined || !v.startsWith('(') || !v.endsWith(')')) throw syntaxError(tok, 'clone needs (actions)');
      return { type: 'clone', actions: list(v.slice(1, -1), tok.valuePos + 1) };
    }
    case 'write_metadata': return writeMetadata(tok);
    case 'learn': {
      if (v === undefined || !v.startsWith('(') || !v.endsWith(')')) throw syntaxError(tok, 'learn needs (arguments)');
      return parseLearn(v.slice(1, -1), tok.valuePos + 1);
    }
    case 'conjunction': return conjunction(tok);
    case 'dec_ttl': {
      if (v === undefined) return undefined;
      const list = args(tok);
      // dec_ttl() is plain dec_ttl, as ovs-ofctl reads it.
      if (list.length === 1 && list[0] === '') return { type: 'dec_ttl' };
      return { type: 'dec_ttl', ids: list.map((x) => num(tok, x, 0xffff, 'controller id')) };
    }
    case 'set_queue': return { type: 'set_queue', queue: num(tok, v, 0xffffffff, 'queue') };
    case 'enqueue': {
      // enqueue:PORT:QUEUE or enqueue(PORT,QUEUE)
      const parts = v?.startsWith('(') ? args(tok) : (v ?? '').split(':');
      if (parts.length !== 2) throw syntaxError(tok, 'enqueue needs PORT:QUEUE');
      const port = parsePortName(parts[0]!.trim());
      if (port === undefined || port > 0xffff || port === OFPP.NONE) throw syntaxError(tok, `enqueue: bad port "${parts[0]}"`);
      return { type: 'enqueue', port, queue: num(tok, parts[1]!.trim(), 0xffffffff, 'queue') };
    }
    case 'multipath': return multipath(tok);
    case 'bundle': return bundle(tok, false);
    case 'bundle_load': return bundle(tok, true);
    default: return undefined;
  }
}
