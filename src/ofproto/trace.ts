/**
 * Trace: a packet through a bridge's pipeline, reported in the spirit of
 * `ovs-appctl ofproto/trace` (each table, the rule matched or the miss, its actions and what
 * happened), ending with the final flow, the megaflow and the datapath actions, both in ODP
 * syntax (src/datapath/odp). Also the offline loaders the `bvs ofproto trace` command uses.
 *
 * A traced packet has no side effects (no MAC learning, no packet-in callbacks). Fields of the
 * packet text that are not given are 0, as in OVS (so nw_ttl is 0 unless given).
 */
import { formatActions as formatDpActions, formatFlow as formatDpFlow } from '../datapath/odp/index.ts';
import type { FlowKey } from '../datapath/index.ts';
import { Bridge, parsePortSpec, type PortConfig } from './bridge.ts';
import { ETH, PROTO, W, keyFromWords, wordsFromKey, type Words } from './flow.ts';
import { formatMatch } from './format.ts';
import { Match } from './match.ts';
import { FlowSyntaxError, parseFlow } from './parse.ts';
import { TableError } from './table.ts';
import { parseGroup } from './groups.ts';
import type { TraceStep } from './xlate-ctx.ts';
import { xlate, type XlateResult } from './xlate.ts';

export class TraceInputError extends Error {
  override name = 'TraceInputError';
}

export interface TraceReport {
  flow: string;
  steps: TraceStep[];
  finalFlow: string;
  megaflow: string;
  datapathActions: string;
  error: string | undefined;
  result: XlateResult;
}

/** The fields of a packet worth printing for its dl_type/nw_proto (OVS flow_format, reduced). */
export function formatPacket(w: Words): string {
  const m = new Match(w.slice(), new Uint32Array(w.length));
  const k = m.mask;
  const set = (...idx: number[]): void => { for (const i of idx) k[i] = 0xffffffff; };
  set(W.IN_PORT, W.DL_SRC, W.DL_SRC + 1, W.DL_DST, W.DL_DST + 1);
  k[W.DL_TYPE] = 0xffff; k[W.VLAN_TCI] = 0xffff;
  k[W.DL_SRC] = k[W.DL_DST] = 0xffff;
  for (let i = 0; i < W.CONJ_ID; i++) if (w[i]) k[i] = 0xffffffff; // metadata, registers when set
  const t = w[W.DL_TYPE]!, p = w[W.NW_PROTO]!;
  if (t === ETH.IP || t === ETH.IPV6) {
    if (t === ETH.IP) set(W.NW_SRC, W.NW_DST);
    else set(W.IPV6_SRC, W.IPV6_SRC + 1, W.IPV6_SRC + 2, W.IPV6_SRC + 3, W.IPV6_DST, W.IPV6_DST + 1, W.IPV6_DST + 2, W.IPV6_DST + 3);
    k[W.NW_PROTO] = 0xff; k[W.NW_TOS] = 0xff; k[W.NW_TTL] = 0xff;
    if (p === PROTO.TCP || p === PROTO.UDP || p === PROTO.SCTP) { k[W.TP_SRC] = k[W.TP_DST] = 0xffff; }
    if (p === PROTO.ICMP || p === PROTO.ICMPV6) { k[W.TP_SRC] = k[W.TP_DST] = 0xff; }
  } else if (t === ETH.ARP || t === ETH.RARP) {
    set(W.NW_SRC, W.NW_DST, W.ARP_SHA + 1, W.ARP_THA + 1);
    k[W.ARP_SHA] = k[W.ARP_THA] = 0xffff; k[W.NW_PROTO] = 0xff;
  }
  return formatMatch(m.normalize());
}

/** Runs `key` through `bridge` with tracing on. */
export function trace(bridge: Bridge, key: FlowKey): TraceReport {
  const ofport = bridge.fromDp(key.inPort);
  const result = xlate(bridge, key, { trace: true, sideEffects: false });
  return {
    flow: formatPacket(wordsFromKey(key, ofport ?? 0)),
    steps: result.steps,
    finalFlow: formatPacket(result.finalFlow),
    megaflow: formatDpFlow(result.megaflow.key, result.megaflow.mask),
    datapathActions: formatDpActions(result.actions),
    error: result.error,
    result,
  };
}

/** The report as text, like ofproto/trace. */
export function formatTrace(r: TraceReport, bridgeName: string): string {
  const lines: string[] = [`Flow: ${r.flow}`, '', `bridge("${bridgeName}")`, '-'.repeat(bridgeName.length + 10)];
  for (const s of r.steps) {
    const ind = '    '.repeat(s.depth);
    if (s.rule) {
      const m = s.rule.match.replace(/^priority=\d+,?/, '');
      lines.push(`${ind}${String(s.table).padStart(2)}. ${m ? `${m}, ` : ''}priority ${s.rule.priority}${s.rule.cookie !== '0x0' ? `, cookie ${s.rule.cookie}` : ''}`);
    } else {
      lines.push(`${ind}${String(s.table).padStart(2)}. No match.`);
    }
    for (const a of s.actions) lines.push(`${ind}    ${a}`);
    for (const n of s.notes) if (n !== 'No match.') lines.push(`${ind}     >> ${n}`);
  }
  lines.push('', `Final flow: ${r.finalFlow}`, `Megaflow: ${r.megaflow}`, `Datapath actions: ${r.datapathActions}`);
  if (r.error) lines.push(`Translation failed (${r.error}), so the packet is dropped.`);
  return `${lines.join('\n')}\n`;
}

/** Loads an ovs-ofctl flows file (lines starting group_id= are groups) into the bridge; errors name the line. */
export function loadFlows(bridge: Bridge, text: string, file = 'flows'): number {
  let n = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (!line) continue;
    try {
      if (/^group_id\s*=/.test(line)) { bridge.pipeline.addGroup(parseGroup(line)); n++; continue; }
      bridge.pipeline.add(parseFlow(line, 'add'));
      n++;
    } catch (e) {
      if (e instanceof FlowSyntaxError || e instanceof TableError) {
        throw new TraceInputError(`${file}:${i + 1}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }
  return n;
}

/** Builds an offline bridge: datapath port = OFPORT. */
export function offlineBridge(ports: PortConfig[] | string, name = 'br0'): Bridge {
  const b = new Bridge(name);
  for (const p of typeof ports === 'string' ? parsePortSpec(ports) : ports) b.addPort(p);
  return b;
}

/** Parses a packet in flow syntax into a datapath key (in_port mapped to its datapath port). */
export function packetFromText(bridge: Bridge, text: string): FlowKey {
  const fm = parseFlow(text, 'packet');
  const w = fm.match.value;
  if (fm.match.mask[W.IN_PORT] === 0) throw new TraceInputError('the packet needs an in_port');
  const dp = bridge.toDp(w[W.IN_PORT]!);
  if (dp === undefined) throw new TraceInputError(`in_port=${w[W.IN_PORT]} is not a port of the bridge (see --ports)`);
  return keyFromWords(w, dp);
}
