/**
 * learn(...) in ovs-ofctl syntax (ovs-actions(7) "The learn action"): parsing and printing,
 * as ovs-ofctl 3.1 does (OVS lib/learn.c learn_parse / learn_format). Executing it is
 * xlate-learn.ts.
 *
 *   learn(table=10,idle_timeout=10,priority=5,cookie=0x5,
 *         NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],        match: dst bits = the packet's src bits
 *         NXM_OF_VLAN_TCI[0..11],                    match: the same bits as in the packet
 *         eth_type=0x800, reg1[0..7]=0x5,            match: an immediate value
 *         load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15], action: load (a value or the packet's bits)
 *         output:NXM_OF_IN_PORT[])                   action: output to the port in those bits
 *
 * The learned flow's match must satisfy each field's prerequisites from the specs before it,
 * as OVS's learn_check requires (so learn(tcp_dst=80) is refused; learn(eth_type=0x800,
 * nw_proto=6,tcp_dst=80) is not). An immediate full-field match prints by OVS's canonical
 * field name (eth_type, ip_src, tcp_src); tp_src/tp_dst are read as tcp_src/tcp_dst, the one
 * field they are in OVS. limit= and result_dst= are refused (not implemented).
 */
import type { LearnAction, LearnSpec, SubField } from './actions.ts';
import { ETH, W, formatPort, parsePortName } from './flow.ts';
import { fieldByName, prereqOk, type FieldDef } from './fields.ts';
import { altHex, formatFieldValue, formatSubField } from './format-field.ts';
import { Match } from './match.ts';
import { parseFieldValue, parseSubField, parseUint, syntaxError, tokenize, type Token } from './parse-lex.ts';

/** OVS's canonical names where bvs's primary name differs (meta-flow.xml). */
const CANONICAL = new Map<string, string>([
  ['dl_src', 'eth_src'], ['dl_dst', 'eth_dst'], ['dl_type', 'eth_type'], ['nw_src', 'ip_src'], ['nw_dst', 'ip_dst'],
  ['tp_src', 'tcp_src'], ['tp_dst', 'tcp_dst'], ['dl_vlan_pcp', 'vlan_pcp'],
]);
/** Names OVS reads as another field than bvs's parser does. */
const READ_AS = new Map<string, string>([['tp_src', 'tcp_src'], ['tp_dst', 'tcp_dst']]);

export const LEARN_DEFAULT_TABLE = 1;
const DEFAULT_PRIORITY = 32768;

const whole = (field: FieldDef): SubField => ({ field, ofs: 0, nBits: field.bits });

function field(tok: Token, name: string): FieldDef {
  const d = fieldByName(READ_AS.get(name.toLowerCase()) ?? name);
  if (!d || d.name === 'dl_vlan' || d.name === 'conj_id') throw syntaxError(tok, `learn: unknown or unsupported field "${name}"`);
  return d;
}

function sub(tok: Token, s: string): SubField {
  const sf = parseSubField(tok, s);
  const read = READ_AS.get(sf.field.name);
  return read ? { ...sf, field: fieldByName(read)! } : sf;
}

/** The learned match so far has what `d` needs (exact dl_type, and nw_proto where needed). */
function prereqsMet(m: Match, d: FieldDef): boolean {
  if (d.prereq === 'none') return true;
  if (m.mask[W.DL_TYPE] !== 0xffff) return false;
  const t = m.value[W.DL_TYPE]!;
  const l3Only = d.prereq === 'ip' || d.prereq === 'ipv4' || d.prereq === 'ipv6' || d.prereq === 'arp';
  if (!l3Only && (m.mask[W.NW_PROTO] !== 0xff || !(t === ETH.IP || t === ETH.IPV6))) return false;
  return prereqOk(m.value, d.prereq);
}

function spec(tok: Token, learned: Match): LearnSpec {
  const k = tok.key.trim(), v = tok.value?.trim();
  if (k === 'load' || k === 'output') {
    if (v === undefined) throw syntaxError(tok, `learn: ${k} needs an argument`);
    if (k === 'output') return { kind: 'output', src: sub(tok, v) };
    const arrow = v.indexOf('->');
    if (arrow < 0) throw syntaxError(tok, 'learn: load needs SRC->DST[]');
    const dst = sub(tok, v.slice(arrow + 2));
    if (!dst.field.writable) throw syntaxError(tok, `${dst.field.name} is read-only`);
    if (!prereqsMet(learned, dst.field)) throw syntaxError(tok, 'actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
    const s = v.slice(0, arrow).trim();
    if (s.includes('[')) {
      const src = sub(tok, s);
      if (src.nBits !== dst.nBits) throw syntaxError(tok, `learn: source has ${src.nBits} bits, destination ${dst.nBits}`);
      return { kind: 'load', dst, src };
    }
    return { kind: 'load', dst, value: parseUint(s, (1n << BigInt(dst.nBits)) - 1n, tok, 'learn load value') };
  }
  const dst = k.includes('[') ? sub(tok, k) : whole(field(tok, k));
  if (!prereqsMet(learned, dst.field)) throw syntaxError(tok, 'actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
  if (v === undefined) {
    if (!k.includes('[')) throw syntaxError(tok, `learn: ${k} needs a value`);
    return { kind: 'match', dst, src: dst };
  }
  if (v.includes('[')) {
    const src = sub(tok, v);
    if (src.nBits !== dst.nBits) throw syntaxError(tok, `learn: source has ${src.nBits} bits, destination ${dst.nBits}`);
    return { kind: 'match', dst, src };
  }
  let value: bigint;
  if (k.includes('[')) value = parseUint(v, (1n << BigInt(dst.nBits)) - 1n, tok, 'learn match value');
  else if (dst.field.name === 'in_port') {
    const p = parsePortName(v);
    if (p === undefined || p > 0xffff) throw syntaxError(tok, `learn: bad port "${v}"`);
    value = BigInt(p);
  } else {
    const fv = parseFieldValue(dst.field, v, tok);
    if (v.includes('/')) throw syntaxError(tok, `learn: ${k} value ${v}: wildcards not allowed here`);
    value = fv.value;
  }
  learned.setMasked(dst.field, value << BigInt(dst.ofs), ((1n << BigInt(dst.nBits)) - 1n) << BigInt(dst.ofs));
  return { kind: 'match', dst, value };
}

/** `inner` is the text between learn( and ); `base` its position in the flow text. */
export function parseLearn(inner: string, base: number): LearnAction {
  const a: LearnAction = {
    type: 'learn', table: LEARN_DEFAULT_TABLE, priority: DEFAULT_PRIORITY, idleTimeout: 0, hardTimeout: 0,
    finIdleTimeout: 0, finHardTimeout: 0, cookie: 0n, sendFlowRem: false, deleteLearned: false, specs: [],
  };
  const learned = new Match();
  const u16 = (t: Token, what: string): number => Number(parseUint(t.value?.trim() ?? '', 0xffffn, t, `learn ${what}`));
  for (const t of tokenize(inner, base, ',')) {
    switch (t.key.trim().toLowerCase()) {
      case 'table': a.table = Number(parseUint(t.value?.trim() ?? '', 254n, t, 'learn table')); break;
      case 'priority': a.priority = u16(t, 'priority'); break;
      case 'idle_timeout': a.idleTimeout = u16(t, 'idle_timeout'); break;
      case 'hard_timeout': a.hardTimeout = u16(t, 'hard_timeout'); break;
      case 'fin_idle_timeout': a.finIdleTimeout = u16(t, 'fin_idle_timeout'); break;
      case 'fin_hard_timeout': a.finHardTimeout = u16(t, 'fin_hard_timeout'); break;
      case 'cookie': a.cookie = parseUint(t.value?.trim() ?? '', 0xffffffffffffffffn, t, 'learn cookie'); break;
      case 'send_flow_rem': a.sendFlowRem = true; break;
      case 'delete_learned': a.deleteLearned = true; break;
      case 'limit': case 'result_dst': throw syntaxError(t, `learn: ${t.key} is not supported`);
      default: a.specs.push(spec(t, learned));
    }
  }
  return a;
}

function formatSpec(s: LearnSpec): string {
  switch (s.kind) {
    case 'output': return `output:${formatSubField(s.src)}`;
    case 'load': return `load:${s.src ? formatSubField(s.src) : altHex(s.value!)}->${formatSubField(s.dst)}`;
    case 'match': {
      if (s.src) {
        const same = s.src.field === s.dst.field && s.src.ofs === s.dst.ofs;
        return same ? formatSubField(s.dst) : `${formatSubField(s.dst)}=${formatSubField(s.src)}`;
      }
      const d = s.dst.field;
      if (s.dst.ofs !== 0 || s.dst.nBits !== d.bits) return `${formatSubField(s.dst)}=${altHex(s.value!)}`;
      const name = CANONICAL.get(d.name) ?? d.name;
      return `${name}=${d.name === 'in_port' ? formatPort(Number(s.value)) : formatFieldValue(d, s.value!)}`;
    }
  }
}

export function formatLearn(a: LearnAction): string {
  const out = [`table=${a.table}`];
  if (a.idleTimeout) out.push(`idle_timeout=${a.idleTimeout}`);
  if (a.hardTimeout) out.push(`hard_timeout=${a.hardTimeout}`);
  if (a.finIdleTimeout) out.push(`fin_idle_timeout=${a.finIdleTimeout}`);
  if (a.finHardTimeout) out.push(`fin_hard_timeout=${a.finHardTimeout}`);
  if (a.priority !== DEFAULT_PRIORITY) out.push(`priority=${a.priority}`);
  if (a.sendFlowRem) out.push('send_flow_rem');
  if (a.deleteLearned) out.push('delete_learned');
  if (a.cookie) out.push(`cookie=${altHex(a.cookie)}`);
  return `learn(${[...out, ...a.specs.map(formatSpec)].join(',')})`;
}
