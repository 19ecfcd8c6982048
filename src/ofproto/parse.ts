/**
 * ovs-ofctl flow syntax (ovs-fields(7), ovs-actions(7), ovs-ofctl(8) "Flow Syntax"): the text of
 * add-flow / del-flows lines, the dump-flows lines this module prints (their statistics keys
 * are accepted and ignored, as ovs-ofctl does), and packets for trace.
 *
 * A flow is `key=value` (or `key:value`, or a bare keyword) tokens separated by commas or white
 * space, then `actions=` and the action list, which runs to the end of the text. Prerequisites
 * (tp_dst needs tcp/udp/sctp, nw_src needs ip, ...) are checked once the whole match is read,
 * so their order does not matter. Every error is a FlowSyntaxError naming the token and its
 * 0-based position in the text.
 */
import { VLAN_CFI } from '../datapath/index.ts';
import type { OfAction } from './actions.ts';
import { ETH, PROTO, W, parsePortName } from './flow.ts';
import { fieldByName, fieldFullMask, PREREQ_TEXT, type Prereq } from './fields.ts';
import { Match } from './match.ts';
import { parseActions } from './parse-actions.ts';
import { FlowSyntaxError, parseFieldValue, parseUint, syntaxError, tokenize, type Token } from './parse-lex.ts';

export { FlowSyntaxError };


/**
 * Bare keywords that fix dl_type (and nw_proto). A Map, as is every table here that a user
 * token indexes: a plain object would also answer for inherited names ("constructor",
 * "__proto__", "toString") and let them through as keywords.
 */
const SHORTHANDS = new Map<string, readonly [number, number | undefined]>([
  ['ip', [ETH.IP, undefined]], ['ipv4', [ETH.IP, undefined]], ['ipv6', [ETH.IPV6, undefined]],
  ['arp', [ETH.ARP, undefined]], ['rarp', [ETH.RARP, undefined]],
  ['tcp', [ETH.IP, PROTO.TCP]], ['udp', [ETH.IP, PROTO.UDP]], ['sctp', [ETH.IP, PROTO.SCTP]], ['icmp', [ETH.IP, PROTO.ICMP]],
  ['tcp6', [ETH.IPV6, PROTO.TCP]], ['udp6', [ETH.IPV6, PROTO.UDP]], ['sctp6', [ETH.IPV6, PROTO.SCTP]], ['icmp6', [ETH.IPV6, PROTO.ICMPV6]],
]);

/** Keys that dump-flows prints and add-flow ignores. */
const STATS_KEYS = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'importance']);

export interface FlowMod {
  table: number | undefined;
  priority: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
  actions: OfAction[];
  hasActions: boolean;
  idleTimeout: number;
  hardTimeout: number;
  sendFlowRem: boolean;
  outPort: number | undefined;
}

export const DEFAULT_PRIORITY = 32768;

export type ParseMode = 'add' | 'del' | 'packet';

/**
 * Parses one flow. Modes: 'add' (actions required, no cookie mask), 'del' (no actions; cookie
 * may carry a mask; out_port allowed), 'packet' (a packet for trace: match fields only, no masks).
 */
export function parseFlow(text: string, mode: ParseMode = 'add'): FlowMod {
  const actIdx = findActions(text);
  const head = actIdx === -1 ? text : text.slice(0, actIdx.start);
  const fm: FlowMod = {
    table: undefined, priority: DEFAULT_PRIORITY, cookie: 0n, cookieMask: 0n, match: new Match(),
    actions: [], hasActions: false, idleTimeout: 0, hardTimeout: 0, sendFlowRem: false, outPort: undefined,
  };
  const prereqs: [Prereq, Token, string][] = [];
  for (const tok of tokenize(head)) applyToken(fm, tok, mode, prereqs);
  for (const [p, tok, name] of prereqs) {
    if (!matchHasPrereq(fm.match, p)) throw syntaxError(tok, `${name} requires ${PREREQ_TEXT[p]} (prerequisites not met)`);
  }
  if (actIdx !== -1) {
    if (mode !== 'add') {
      throw new FlowSyntaxError(`actions are not allowed in a ${mode === 'del' ? 'delete' : 'packet'}`, actIdx.start, 'actions');
    }
    fm.actions = parseActions(text.slice(actIdx.valueStart), actIdx.valueStart);
    fm.hasActions = true;
  } else if (mode === 'add') {
    throw new FlowSyntaxError('must specify an action', text.length, text.slice(-20));
  }
  return fm;
}

function findActions(text: string): { start: number; valueStart: number } | -1 {
  const re = /(^|[\s,])(actions?)\s*[=:]/g;
  const m = re.exec(text);
  if (!m) return -1;
  const start = m.index + m[1]!.length;
  return { start, valueStart: m.index + m[0].length };
}

function matchHasPrereq(m: Match, p: Prereq): boolean {
  if (p === 'none') return true;
  if (m.mask[W.DL_TYPE] !== 0xffff) return false;
  const t = m.value[W.DL_TYPE]!;
  const ip4 = t === ETH.IP, ip6 = t === ETH.IPV6;
  switch (p) {
    case 'ip': return ip4 || ip6;
    case 'ipv4': return ip4;
    case 'ipv6': return ip6;
    case 'arp': return t === ETH.ARP || t === ETH.RARP;
    default: break;
  }
  if (!(ip4 || ip6) || m.mask[W.NW_PROTO] !== 0xff) return false;
  const pr = m.value[W.NW_PROTO]!;
  switch (p) {
    case 'l4': return pr === PROTO.TCP || pr === PROTO.UDP || pr === PROTO.SCTP;
    case 'tcp': return pr === PROTO.TCP;
    case 'udp': return pr === PROTO.UDP;
    case 'sctp': return pr === PROTO.SCTP;
    case 'icmp': return (ip4 && pr === PROTO.ICMP) || (ip6 && pr === PROTO.ICMPV6);
    case 'icmp4': return ip4 && pr === PROTO.ICMP;
    case 'icmp6': return ip6 && pr === PROTO.ICMPV6;
  }
  return false;
}

function setExact(fm: FlowMod, tok: Token, word: number, value: number, full: number, what: string): void {
  const m = fm.match;
  if (m.mask[word] === full && m.value[word] !== value) {
    throw syntaxError(tok, `${what} conflicts with an earlier field`);
  }
  m.mask[word] = full;
  m.value[word] = value;
}

function num(tok: Token, max: number, what: string): number {
  if (tok.value === undefined) throw syntaxError(tok, `${what} needs a value`);
  return Number(parseUint(tok.value, BigInt(max), tok, what));
}

function applyToken(fm: FlowMod, tok: Token, mode: ParseMode, prereqs: [Prereq, Token, string][]): void {
  const key = tok.key.toLowerCase();
  const sh = SHORTHANDS.get(key);
  if (sh && tok.value === undefined) {
    setExact(fm, tok, W.DL_TYPE, sh[0], 0xffff, key);
    if (sh[1] !== undefined) {
      setExact(fm, tok, W.NW_PROTO, sh[1], 0xff, key);
      // A later dl_type may replace this one (the last value wins, as in ovs-ofctl): the
      // nw_proto set here still needs an IP dl_type when the whole match is read.
      prereqs.push(['ip', tok, `nw_proto=${sh[1]} (from "${key}")`]);
    }
    return;
  }
  const noPacket = (): void => {
    if (mode === 'packet') throw syntaxError(tok, `${key} is not a packet field`);
  };
  switch (key) {
    case 'table': noPacket(); fm.table = num(tok, 254, 'table'); return;
    case 'priority': noPacket(); fm.priority = num(tok, 65535, 'priority'); return;
    case 'idle_timeout': noPacket(); fm.idleTimeout = num(tok, 65535, 'idle_timeout'); return;
    case 'hard_timeout': noPacket(); fm.hardTimeout = num(tok, 65535, 'hard_timeout'); return;
    case 'send_flow_rem': noPacket(); fm.sendFlowRem = true; return;
    case 'out_port': {
      if (mode !== 'del') throw syntaxError(tok, 'out_port is only valid when deleting flows');
      const p = tok.value === undefined ? undefined : parsePortName(tok.value);
      if (p === undefined) throw syntaxError(tok, 'out_port: bad port');
      fm.outPort = p;
      return;
    }
    case 'cookie': {
      noPacket();
      if (tok.value === undefined) throw syntaxError(tok, 'cookie needs a value');
      const [v, m] = tok.value.split('/');
      fm.cookie = parseUint(v!, 0xffffffffffffffffn, tok, 'cookie');
      if (m !== undefined) {
        if (mode !== 'del') throw syntaxError(tok, 'a cookie mask is only valid when deleting or modifying flows');
        fm.cookieMask = parseUint(m, 0xffffffffffffffffn, tok, 'cookie mask');
      } else {
        fm.cookieMask = mode === 'del' ? 0xffffffffffffffffn : 0n;
      }
      return;
    }
    default: break;
  }
  if (STATS_KEYS.has(key)) { noPacket(); return; }
  if (key === 'in_port') {
    const p = tok.value === undefined ? undefined : parsePortName(tok.value);
    if (p === undefined || p > 0xffff) throw syntaxError(tok, `in_port: bad port "${tok.value ?? ''}"`);
    fm.match.mask[W.IN_PORT] = 0xffffffff; // a repeated field: the last one wins, as in ovs-ofctl
    fm.match.value[W.IN_PORT] = p;
    return;
  }
  if (key === 'dl_vlan') {
    const vid = num(tok, 0xffff, 'dl_vlan');
    // OVS match_set_dl_vlan: 0xffff (OFP10_VLAN_NONE) means untagged and replaces the whole TCI.
    if (vid === 0xffff) { fm.match.mask[W.VLAN_TCI] = 0xffff; fm.match.value[W.VLAN_TCI] = 0; return; }
    if (vid > 0xfff) throw syntaxError(tok, `dl_vlan: ${vid} is out of range (0..4095, or 0xffff for none)`);
    fm.match.mask[W.VLAN_TCI] |= 0x1fff;
    fm.match.value[W.VLAN_TCI] = (fm.match.value[W.VLAN_TCI]! & ~0x1fff) | VLAN_CFI | vid;
    return;
  }
  if (key === 'dl_vlan_pcp' || key === 'vlan_pcp') {
    const pcp = num(tok, 7, 'dl_vlan_pcp');
    fm.match.mask[W.VLAN_TCI] |= 0xf000;
    fm.match.value[W.VLAN_TCI] = (fm.match.value[W.VLAN_TCI]! & 0x0fff) | VLAN_CFI | (pcp << 13);
    return;
  }
  if (key === 'nw_tos') {
    const tos = num(tok, 255, 'nw_tos');
    if (tos & 3) throw syntaxError(tok, `nw_tos: ${tos} has ECN bits set (use a multiple of 4, or nw_ecn)`);
  }
  const d = fieldByName(key);
  if (!d || d.name === 'vlan_vid' || d.name === 'dl_vlan') throw syntaxError(tok, `unknown field "${tok.key}"`);
  if (tok.value === undefined || tok.value === '') throw syntaxError(tok, `${d.name} needs a value`);
  const { value, mask } = parseFieldValue(d, tok.value, tok);
  if (d.name === 'conj_id') { noPacket(); if (mask !== fieldFullMask(d)) throw syntaxError(tok, 'conj_id takes no mask'); }
  if (d.name === 'vlan_tci') { // replaces dl_vlan/dl_vlan_pcp given before, as in OVS
    fm.match.mask[W.VLAN_TCI] = Number(mask);
    fm.match.value[W.VLAN_TCI] = Number(value & mask);
    return;
  }
  if (mode === 'packet' && mask !== fieldFullMask(d)) throw syntaxError(tok, `${d.name}: a packet takes exact values, not masks`);
  fm.match.setMasked(d, value, mask);
  if (d.prereq !== 'none') prereqs.push([d.prereq, tok, d.name]);
}
