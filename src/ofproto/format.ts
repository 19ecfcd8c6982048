/**
 * Printing matches, actions and flow statistics the way ovs-ofctl does (lib/match.c match_format,
 * lib/ofp-actions.c, lib/ofp-flow.c ofputil_flow_stats_format), so dump-flows output reads like
 * OVS's and parses back with parse.ts.
 */
import { formatIpv4, formatIpv6, formatMac, VLAN_CFI } from '../datapath/index.ts';
import { formatHexBytes, formatNxAction } from './format-nx.ts';
import type { OfAction } from './actions.ts';
import { ETH, N_REGS, OFPP, PROTO, W, formatPort, join128, join48, type Words } from './flow.ts';
import { fieldByName, fieldFullMask, getField } from './fields.ts';
import { altHex, formatFieldValue, formatSubField as subField, hex } from './format-field.ts';
import type { Match } from './match.ts';
import { prefixLen } from './trie.ts';
import { DEFAULT_PRIORITY } from './parse.ts';

export { formatFieldValue };


function ipv4Masked(name: string, v: number, m: number): string {
  const pl = prefixLen(m);
  if (pl === 32) return `${name}=${formatIpv4(v)}`;
  return `${name}=${formatIpv4(v)}/${pl >= 0 ? pl : formatIpv4(m)}`;
}

function ipv6Masked(name: string, v: bigint, m: bigint): string {
  const full = (1n << 128n) - 1n;
  if (m === full) return `${name}=${formatIpv6(v)}`;
  const inv = full ^ m;
  const isPrefix = (inv & (inv + 1n)) === 0n;
  if (isPrefix) return `${name}=${formatIpv6(v)}/${128 - inv.toString(2).replace(/^0+/, '').length}`;
  return `${name}=${formatIpv6(v)}/${formatIpv6(m)}`;
}

function macMasked(name: string, w: Words, mw: Words, at: number): string | undefined {
  const m = join48(mw[at]!, mw[at + 1]!);
  if (m === 0) return undefined;
  const v = formatMac(join48(w[at]!, w[at + 1]!));
  return m === 0xffffffffffff ? `${name}=${v}` : `${name}=${v}/${formatMac(m)}`;
}

function intMasked(name: string, v: number, m: number, full: number, asHex = false): string | undefined {
  if (m === 0) return undefined;
  if (m === full) return `${name}=${asHex ? hex(v) : v}`;
  return `${name}=${hex(v)}/${hex(m)}`;
}

/** format_uint32_masked / format_be64_masked of OVS: "%#x", with "/%#x" when masked. */
function altMasked(name: string, v: number | bigint, m: number | bigint, full: number | bigint): string | undefined {
  if (m === 0 || m === 0n) return undefined;
  return m === full ? `${name}=${altHex(v)}` : `${name}=${altHex(v)}/${altHex(m)}`;
}

/** match_format: `priority=N,` (when not the default), then fields in OVS's order. */
export function formatMatch(match: Match, priority: number = DEFAULT_PRIORITY): string {
  const v = match.value, m = match.mask;
  const out: string[] = [];
  if (priority !== DEFAULT_PRIORITY) out.push(`priority=${priority}`);
  // conj_id is exact-only (not maskable in OVS) and printed right after the priority.
  if (m[W.CONJ_ID]) out.push(`conj_id=${v[W.CONJ_ID]}`);
  const dlType = m[W.DL_TYPE] === 0xffff ? v[W.DL_TYPE]! : -1;
  const proto = m[W.NW_PROTO] === 0xff ? v[W.NW_PROTO]! : -1;
  let skipType = false, skipProto = false;
  if (dlType === ETH.IP || dlType === ETH.IPV6) {
    const six = dlType === ETH.IPV6 ? '6' : '';
    const names: Record<number, string> = { [PROTO.TCP]: 'tcp', [PROTO.UDP]: 'udp', [PROTO.SCTP]: 'sctp' };
    if (dlType === ETH.IP) names[PROTO.ICMP] = 'icmp'; else names[PROTO.ICMPV6] = 'icmp';
    const n = names[proto];
    if (n) { out.push(n + six); skipProto = true; } else out.push(dlType === ETH.IP ? 'ip' : 'ipv6');
    skipType = true;
  } else if (dlType === ETH.ARP) { out.push('arp'); skipType = true; }
  else if (dlType === ETH.RARP) { out.push('rarp'); skipType = true; }
  for (let i = 0; i < N_REGS; i++) {
    const s = altMasked(`reg${i}`, v[W.REG0 + i]!, m[W.REG0 + i]!, 0xffffffff);
    if (s) out.push(s);
  }
  const md = fieldByName('metadata')!;
  const mdm = getField(m, md);
  const mds = altMasked('metadata', getField(v, md), mdm, fieldFullMask(md));
  if (mds) out.push(mds);
  if (m[W.IN_PORT]) out.push(`in_port=${formatPort(v[W.IN_PORT]!)}`);
  const tm = m[W.VLAN_TCI]!, tv = v[W.VLAN_TCI]!;
  if (tm) {
    const vidM = tm & 0x0fff, pcpM = tm & 0xe000;
    if ((tm & VLAN_CFI) && (tv & VLAN_CFI) && (vidM === 0 || vidM === 0xfff) && (pcpM === 0 || pcpM === 0xe000) && (vidM || pcpM)) {
      if (vidM) out.push(`dl_vlan=${tv & 0xfff}`);
      if (pcpM) out.push(`dl_vlan_pcp=${tv >>> 13}`);
    } else if (tm === 0xffff) out.push(`vlan_tci=0x${tv.toString(16).padStart(4, '0')}`);
    else out.push(`vlan_tci=0x${tv.toString(16).padStart(4, '0')}/0x${tm.toString(16).padStart(4, '0')}`);
  }
  for (const s of [macMasked('dl_src', v, m, W.DL_SRC), macMasked('dl_dst', v, m, W.DL_DST)]) if (s) out.push(s);
  if (!skipType && m[W.DL_TYPE]) out.push(intMasked('dl_type', v[W.DL_TYPE]!, m[W.DL_TYPE]!, 0xffff, true)!);
  if (dlType === ETH.IPV6) {
    for (const [name, at] of [['ipv6_src', W.IPV6_SRC], ['ipv6_dst', W.IPV6_DST]] as const) {
      const mm = join128(m, at);
      if (mm !== 0n) out.push(ipv6Masked(name, join128(v, at), mm));
    }
  } else {
    const arp = dlType === ETH.ARP || dlType === ETH.RARP;
    if (m[W.NW_SRC]) out.push(ipv4Masked(arp ? 'arp_spa' : 'nw_src', v[W.NW_SRC]!, m[W.NW_SRC]!));
    if (m[W.NW_DST]) out.push(ipv4Masked(arp ? 'arp_tpa' : 'nw_dst', v[W.NW_DST]!, m[W.NW_DST]!));
  }
  if (!skipProto && m[W.NW_PROTO]) {
    out.push(`${dlType === ETH.ARP || dlType === ETH.RARP ? 'arp_op' : 'nw_proto'}=${v[W.NW_PROTO]}`);
  }
  for (const s of [macMasked('arp_sha', v, m, W.ARP_SHA), macMasked('arp_tha', v, m, W.ARP_THA)]) if (s) out.push(s);
  if (m[W.NW_TOS]! & 0xfc) out.push(`nw_tos=${v[W.NW_TOS]! & 0xfc}`);
  if (m[W.NW_TOS]! & 0x03) out.push(`nw_ecn=${v[W.NW_TOS]! & 0x03}`);
  if (m[W.NW_TTL]) out.push(`nw_ttl=${v[W.NW_TTL]}`);
  const icmp = (dlType === ETH.IP && proto === PROTO.ICMP) || (dlType === ETH.IPV6 && proto === PROTO.ICMPV6);
  const l4 = icmp ? ['icmp_type', 'icmp_code'] : ['tp_src', 'tp_dst'];
  const s1 = intMasked(l4[0]!, v[W.TP_SRC]!, m[W.TP_SRC]!, icmp ? 0xff : 0xffff);
  const s2 = intMasked(l4[1]!, v[W.TP_DST]!, m[W.TP_DST]!, icmp ? 0xff : 0xffff);
  if (s1) out.push(s1);
  if (s2) out.push(s2);
  return out.join(',');
}

export function formatAction(a: OfAction): string {
  switch (a.type) {
    case 'output':
      if (a.maxLen !== undefined) return `output(port=${formatPort(a.port)},max_len=${a.maxLen})`;
      return a.port < OFPP.MAX ? `output:${a.port}` : formatPort(a.port);
    case 'controller': {
      if (a.reason === 'action' && a.id === 0 && !a.userdata && !a.pause) return `CONTROLLER:${a.maxLen}`;
      const parts: string[] = [];
      if (a.reason !== 'action') parts.push(`reason=${a.reason}`);
      if (a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
      if (a.id !== 0) parts.push(`id=${a.id}`);
      if (a.userdata) parts.push(`userdata=${formatHexBytes(a.userdata)}`);
      if (a.pause) parts.push('pause');
      return `controller(${parts.join(',')})`;
    }
    case 'set_field':
      return a.spelling === 'set_field'
        ? `set_field:${formatFieldValue(a.field, a.value, a.mask)}->${a.field.name}`
        : `${a.spelling}:${formatFieldValue(a.field, a.value)}`;
    case 'load': return `load:${altHex(a.value)}->${subField(a.dst)}`;
    case 'move': return `move:${subField(a.src)}->${subField(a.dst)}`;
    case 'dec_ttl': return a.ids ? `dec_ttl(${a.ids.join(',')})` : 'dec_ttl';
    case 'push_vlan': return `push_vlan:${hex(a.tpid)}`;
    case 'pop_vlan': return a.spelling;
    case 'mod_vlan_vid': return `mod_vlan_vid:${a.vid}`;
    case 'mod_vlan_pcp': return `mod_vlan_pcp:${a.pcp}`;
    case 'resubmit':
      if (a.table === undefined) return `resubmit:${formatPort(a.port!)}`;
      return `resubmit(${a.port === undefined ? '' : formatPort(a.port)},${a.table})`;
    case 'goto_table': return `goto_table:${a.table}`;
    case 'group': return `group:${a.id}`;
    case 'meter': return `meter:${a.id}`;
    default: return formatNxAction(a, formatActions)!;
  }
}

export function formatActions(actions: readonly OfAction[]): string {
  return actions.length === 0 ? 'drop' : actions.map(formatAction).join(',');
}

/** ofp_print_duration: seconds, with milliseconds when not whole. */
export function formatDuration(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const frac = Math.round(ms - sec * 1000);
  return frac > 0 ? `${sec}.${String(frac).padStart(3, '0')}s` : `${sec}s`;
}

export interface FlowStatsView {
  table: number;
  priority: number;
  cookie: bigint;
  match: Match;
  actions: readonly OfAction[];
  idleTimeout: number;
  hardTimeout: number;
  sendFlowRem: boolean;
  packets: number;
  bytes: number;
  created: number;
  used: number;
}

/** One dump-flows line (ofputil_flow_stats_format with statistics), `now` in ms. */
export function formatFlowStats(r: FlowStatsView, now: number): string {
  let s = ` cookie=${hex(r.cookie)}, duration=${formatDuration(now - r.created)}, table=${r.table}, `;
  s += `n_packets=${r.packets}, n_bytes=${r.bytes}, `;
  if (r.idleTimeout) s += `idle_timeout=${r.idleTimeout}, `;
  if (r.hardTimeout) s += `hard_timeout=${r.hardTimeout}, `;
  if (r.sendFlowRem) s += 'send_flow_rem ';
  s += `idle_age=${Math.floor((now - r.used) / 1000)}, `;
  const m = formatMatch(r.match, r.priority);
  return `${s}${m}${m ? ' ' : ''}actions=${formatActions(r.actions)}`;
}

/** A flow without statistics, as add-flow takes it (ofputil_flow_stats_format without stats). */
export function formatFlow(r: Omit<FlowStatsView, 'packets' | 'bytes' | 'created' | 'used'>): string {
  let s = '';
  if (r.cookie) s += `cookie=${hex(r.cookie)}, `;
  if (r.table) s += `table=${r.table}, `;
  if (r.idleTimeout) s += `idle_timeout=${r.idleTimeout}, `;
  if (r.hardTimeout) s += `hard_timeout=${r.hardTimeout}, `;
  if (r.sendFlowRem) s += 'send_flow_rem ';
  const m = formatMatch(r.match, r.priority);
  return `${s}${m}${m ? ' ' : ''}actions=${formatActions(r.actions)}`;
}
