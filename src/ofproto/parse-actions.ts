/**
 * The action list of ovs-ofctl flow syntax (ovs-actions(7)): comma-separated actions, commas
 * inside parentheses do not split. `drop` (or an empty list) is the empty action list and must
 * stand alone. Positions in errors are offsets into the whole flow text (`base` + offset).
 */
import { PACKET_IN_REASON, type OfAction, type PacketInReason } from './actions.ts';
import { OFPP, parsePortName } from './flow.ts';
import { fieldByName } from './fields.ts';
import { parseFieldValue, parseHexBytes, parseSubField, parseUint, syntaxError, tokenize, type Token } from './parse-lex.ts';
import { parseNxAction } from './parse-nx.ts';

/*
 * The tables below are Maps because user tokens index them: a plain object would also answer
 * for inherited names, so "constructor" would be an action and "__proto__" a mod_* field.
 */

/** Fields whose mod_* action names map onto set_field. */
const MOD_FIELDS = new Map<string, string>([
  ['mod_dl_src', 'dl_src'], ['mod_dl_dst', 'dl_dst'], ['mod_nw_src', 'nw_src'], ['mod_nw_dst', 'nw_dst'],
  ['mod_nw_tos', 'nw_tos'], ['mod_nw_ecn', 'nw_ecn'], ['mod_nw_ttl', 'nw_ttl'], ['mod_tp_src', 'tp_src'], ['mod_tp_dst', 'tp_dst'],
]);

const BARE_PORTS = new Map<string, number>([
  ['normal', OFPP.NORMAL], ['flood', OFPP.FLOOD], ['all', OFPP.ALL], ['local', OFPP.LOCAL], ['in_port', OFPP.IN_PORT],
  ['table', OFPP.TABLE],
]);

/**
 * `nested`: a list inside clone(), where instructions (write_metadata, goto_table) are refused,
 * as ovs-ofctl refuses them ("instruction not allowed here").
 */
export function parseActions(text: string, base = 0, nested = false): OfAction[] {
  const toks = tokenize(text, base, ',');
  const out: OfAction[] = [];
  for (const tok of toks) {
    tok.key = tok.key.trim();
    if (tok.value !== undefined) tok.value = tok.value.trim();
    if (tok.key.toLowerCase() === 'drop' && tok.value === undefined) {
      if (toks.length > 1) throw syntaxError(tok, '"drop" must not be accompanied by any other action');
      return [];
    }
    const last = out.length ? out[out.length - 1]!.type : undefined;
    if (last === 'goto_table') {
      // OpenFlow 1.1+ instructions: apply-actions come before goto_table (as ovs-ofctl requires).
      throw syntaxError(tok, 'goto_table must be the last action');
    }
    const a = parseAction(tok);
    if (a.type === 'meter' && out.length > 0) {
      throw syntaxError(tok, 'invalid instruction ordering: meter must appear before apply_actions, for OpenFlow 1.1+ compatibility');
    }
    if (nested && (a.type === 'goto_table' || a.type === 'write_metadata')) throw syntaxError(tok, `${a.type} instruction not allowed here`);
    // The instructions' order (OpenFlow 1.3 §5.9): apply-actions, write-metadata, goto-table.
    if (last === 'write_metadata' && a.type !== 'goto_table') {
      throw syntaxError(tok, 'invalid instruction ordering: apply_actions must appear before write_metadata');
    }
    out.push(a);
  }
  const conj = out.findIndex((a) => a.type === 'conjunction');
  const other = out.findIndex((a) => a.type !== 'conjunction' && a.type !== 'note');
  if (conj >= 0 && other >= 0) {
    throw syntaxError(toks[other]!, '"conjunction" actions may be used along with "note" but not any other kind of action');
  }
  return out;
}

function need(tok: Token): string {
  if (tok.value === undefined || tok.value === '') throw syntaxError(tok, `${tok.key} needs an argument`);
  return tok.value;
}

function port(tok: Token, s: string): number {
  const p = parsePortName(s);
  if (p === undefined || p > 0xffff) throw syntaxError(tok, `${tok.key}: bad port "${s}"`);
  return p;
}

/**
 * An output action to port `s`, checked as OVS's ofpact_check_output_port does: a physical
 * port below OFPP_MAX or a reserved port that can be output to; NONE and the unnamed numbers
 * between OFPP_MAX and IN_PORT are refused. Output to CONTROLLER is the controller action with
 * its defaults (xlate treats both alike), so that it has one form and prints back as it parses.
 */
function output(tok: Token, s: string): OfAction {
  const p = port(tok, s);
  if (p === OFPP.NONE || (p >= OFPP.MAX && p < OFPP.IN_PORT)) throw syntaxError(tok, `"${s}" is not a valid output port (NONE and unnamed reserved numbers are not)`);
  if (p === OFPP.CONTROLLER) return { type: 'controller', maxLen: 0xffff, reason: 'action', id: 0, spelling: 'short' };
  return { type: 'output', port: p };
}

function int(tok: Token, s: string, max: number, what: string): number {
  return Number(parseUint(s, BigInt(max), tok, what));
}

function parseAction(tok: Token): OfAction {
  const name = tok.key.toLowerCase();
  const v = tok.value;
  const bare = v === undefined ? BARE_PORTS.get(name) : undefined;
  if (bare !== undefined) return { type: 'output', port: bare };
  if (v === undefined && /^\d+$/.test(name)) return output(tok, name);
  const nx = parseNxAction(tok, name, (t, b) => parseActions(t, b, true));
  if (nx) return nx;
  const modField = MOD_FIELDS.get(name);
  if (modField !== undefined) {
    const field = fieldByName(modField)!;
    const { value, mask } = parseFieldValue(field, need(tok), tok);
    if (mask !== (1n << BigInt(field.bits)) - 1n && field.name !== 'nw_tos') throw syntaxError(tok, `${name} takes no mask`);
    if (field.name === 'nw_tos' && (value & 3n) !== 0n) throw syntaxError(tok, `${name}: ${value} has ECN bits set`);
    return { type: 'set_field', field, value, spelling: name };
  }
  switch (name) {
    case 'output': return output(tok, need(tok));
    case 'controller': return parseController(tok);
    case 'set_field': {
      const s = need(tok);
      const arrow = s.indexOf('->');
      if (arrow < 0) throw syntaxError(tok, 'set_field needs VALUE->FIELD');
      const field = fieldByName(s.slice(arrow + 2).trim());
      if (!field) throw syntaxError(tok, `unknown field "${s.slice(arrow + 2)}"`);
      if (!field.writable) throw syntaxError(tok, `${field.name} is read-only`);
      const { value, mask } = parseFieldValue(field, s.slice(0, arrow).trim(), tok);
      const full = (1n << BigInt(field.bits)) - 1n;
      return { type: 'set_field', field, value: value & mask, mask: mask === full || (field.name === 'nw_tos' && mask === 0xfcn) ? undefined : mask, spelling: 'set_field' };
    }
    case 'load': {
      const s = need(tok);
      const arrow = s.indexOf('->');
      if (arrow < 0) throw syntaxError(tok, 'load needs VALUE->FIELD[range]');
      const dst = parseSubField(tok, s.slice(arrow + 2));
      if (!dst.field.writable) throw syntaxError(tok, `${dst.field.name} is read-only`);
      const max = (1n << BigInt(dst.nBits)) - 1n;
      const value = parseUint(s.slice(0, arrow).trim(), max, tok, 'load value');
      return { type: 'load', dst, value };
    }
    case 'move': {
      const s = need(tok);
      const arrow = s.indexOf('->');
      if (arrow < 0) throw syntaxError(tok, 'move needs SRC[range]->DST[range]');
      const src = parseSubField(tok, s.slice(0, arrow));
      const dst = parseSubField(tok, s.slice(arrow + 2));
      if (src.nBits !== dst.nBits) throw syntaxError(tok, `move: source has ${src.nBits} bits, destination ${dst.nBits}`);
      if (!dst.field.writable) throw syntaxError(tok, `${dst.field.name} is read-only`);
      return { type: 'move', src, dst };
    }
    case 'dec_ttl': return { type: 'dec_ttl' };
    case 'push_vlan': {
      const tpid = int(tok, need(tok), 0xffff, 'push_vlan');
      if (tpid !== 0x8100 && tpid !== 0x88a8) throw syntaxError(tok, `push_vlan: ethertype 0x${tpid.toString(16)} is not 0x8100 or 0x88a8`);
      return { type: 'push_vlan', tpid };
    }
    case 'pop_vlan': case 'strip_vlan': return { type: 'pop_vlan', spelling: name };
    case 'mod_vlan_vid': return { type: 'mod_vlan_vid', vid: int(tok, need(tok), 0xfff, 'mod_vlan_vid') };
    case 'mod_vlan_pcp': return { type: 'mod_vlan_pcp', pcp: int(tok, need(tok), 7, 'mod_vlan_pcp') };
    case 'goto_table': return { type: 'goto_table', table: int(tok, need(tok), 254, 'goto_table') };
    case 'group': return { type: 'group', id: int(tok, need(tok), 0xffffff00, 'group') };
    case 'meter': return { type: 'meter', id: int(tok, need(tok), 0xffffffff, 'meter') };
    case 'resubmit': {
      const s = need(tok);
      if (!s.startsWith('(')) return { type: 'resubmit', port: port(tok, s) };
      const m = /^\(\s*([^,\s)]*)\s*,\s*([^,\s)]*)\s*\)$/.exec(s);
      if (!m) throw syntaxError(tok, 'resubmit needs (PORT,TABLE) with either part optional');
      const a: OfAction = { type: 'resubmit' };
      if (m[1]) a.port = port(tok, m[1]);
      if (m[2]) a.table = int(tok, m[2], 254, 'resubmit table');
      if (a.port === undefined && a.table === undefined) throw syntaxError(tok, 'resubmit needs a port or a table');
      return a;
    }
    default:
      throw syntaxError(tok, `unknown action "${tok.key}"`);
  }
}

function parseController(tok: Token): OfAction {
  const a: OfAction = { type: 'controller', maxLen: 0xffff, reason: 'action', id: 0, spelling: 'short' };
  const v = tok.value;
  if (v === undefined) return a;
  if (!v.startsWith('(')) {
    a.maxLen = int(tok, v, 0xffff, 'controller max_len');
    return a;
  }
  if (!v.endsWith(')')) throw syntaxError(tok, 'controller: missing ")"');
  a.spelling = 'long';
  for (const kv of tokenize(v.slice(1, -1), tok.valuePos + 1, ',')) {
    const k = kv.key.trim().toLowerCase();
    const val = kv.value?.trim();
    if (k === 'pause' && val === undefined) { a.pause = true; continue; }
    if (val === undefined) throw syntaxError(kv, `controller: ${k} needs a value`);
    if (k === 'userdata') {
      const data = parseHexBytes(kv, val, "`controller' action `userdata'");
      if (data.length) a.userdata = data; else delete a.userdata;
    } else if (k === 'max_len') a.maxLen = int(kv, val, 0xffff, 'max_len');
    else if (k === 'id') a.id = int(kv, val, 0xffff, 'controller id');
    else if (k === 'reason') {
      // PACKET_IN_REASON is a plain object: only its own keys are reasons, not "constructor".
      if (!Object.hasOwn(PACKET_IN_REASON, val)) throw syntaxError(kv, `controller: unknown reason "${val}"`);
      a.reason = val as PacketInReason;
    } else throw syntaxError(kv, `controller: unknown option "${k}"`);
  }
  return a;
}

