/**
 * Flow-mods and flow statistics from the OpenFlow channel, on the bridge's one pipeline (the
 * tables `bvs ofctl` also changes). The wire messages (src/openflow flow-msgs.ts, flow-stats.ts)
 * arrive in bvs numbering already; this file gives them OpenFlow's semantics:
 *
 *   - table 0xff means "unspecified": an add goes to table 0, a modify/delete looks at every
 *     table; an add to table 254 or above is OFPFMFC_BAD_TABLE_ID;
 *   - out_port OFPP_NONE (0xffff) means "any";
 *   - a buffer id other than NO_BUFFER is OFPBRC_BUFFER_UNKNOWN (bvs never buffers packets);
 *   - CHECK_OVERLAP refuses an add that overlaps a rule of the same priority (OFPFMFC_OVERLAP);
 *   - a group action naming a group that does not exist is OFPBAC_BAD_OUT_GROUP;
 *   - OpenFlow 1.0's modify adds the flow when it selects none (1.0 §4.6; 1.1+ does not).
 * Each is checked before anything changes: a flow-mod applies whole or not at all.
 */
import {
  OFPP, TableError, type FlowMod, type Match, type Rule,
} from '../ofproto/index.ts';
import {
  OFP10, OfpError, type AggregateStats, type FlowModMsg, type FlowStats, type FlowStatsRequest, type OfpVersion,
} from '../openflow/index.ts';
import type { Applied, BridgeRuntime } from '../vswitch/index.ts';
import { checkGroupRefs } from './groups.ts';

const OFPTT_ALL = 0xff;
const OFP_NO_BUFFER = 0xffffffff;
const FLAG_SEND_FLOW_REM = 1;
const FLAG_CHECK_OVERLAP = 2;
/** Tables a flow may be added to (0..253), as OVS. */
const N_TABLES = 254;

export type FlowRuntime = Pick<BridgeRuntime, 'applyFlowMod' | 'ofproto'>;

function toFlowMod(m: FlowModMsg, tableFor: 'add' | 'select'): FlowMod {
  const table = m.table === OFPTT_ALL ? (tableFor === 'add' ? 0 : undefined) : m.table;
  return {
    table, priority: m.priority, cookie: m.cookie, cookieMask: m.cookieMask, match: m.match, actions: m.actions,
    hasActions: true, idleTimeout: m.idleTimeout, hardTimeout: m.hardTimeout,
    sendFlowRem: (m.flags & FLAG_SEND_FLOW_REM) !== 0, outPort: m.outPort === OFPP.NONE ? undefined : m.outPort,
  };
}

/** Two matches accept a common packet: they agree on every bit both of them look at. */
function overlaps(a: Match, b: Match): boolean {
  for (let i = 0; i < a.mask.length; i++) {
    if ((((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) >>> 0) !== 0) return false;
  }
  return true;
}

/** Applies one flow-mod; the returned promise settles when the datapath reflects it. */
export function applyFlowMod(rt: FlowRuntime, version: OfpVersion, m: FlowModMsg): Applied {
  if (m.bufferId !== OFP_NO_BUFFER) throw new OfpError('OFPBRC_BUFFER_UNKNOWN', `buffer ${m.bufferId}: bvs does not buffer packets`);
  if (m.command !== 'delete' && m.command !== 'delete_strict') checkGroupRefs(rt.ofproto.pipeline, m.actions);
  try {
    if (m.command === 'add') {
      if (m.table !== OFPTT_ALL && m.table >= N_TABLES) throw new OfpError('OFPFMFC_BAD_TABLE_ID', `table ${m.table}`);
      const fm = toFlowMod(m, 'add');
      if (m.flags & FLAG_CHECK_OVERLAP) {
        const clash = rt.ofproto.pipeline.allRules(fm.table).find((r: Rule) => r.priority === fm.priority && overlaps(r.match, fm.match) && !r.match.equals(fm.match));
        if (clash) throw new OfpError('OFPFMFC_OVERLAP', `overlaps a rule of priority ${clash.priority} in table ${clash.table}`);
      }
      return rt.applyFlowMod('add', fm);
    }
    const strict = m.command === 'modify_strict' || m.command === 'delete_strict';
    const fm = toFlowMod(m, 'select');
    if (m.command === 'delete' || m.command === 'delete_strict') return rt.applyFlowMod('delete', fm, strict);
    const done = rt.applyFlowMod('modify', fm, strict);
    if (done.count === 0 && version === OFP10) return rt.applyFlowMod('add', toFlowMod(m, 'add'));
    return done;
  } catch (err) {
    if (err instanceof TableError) throw new OfpError('OFPBIC_BAD_TABLE_ID', err.message, { cause: err });
    throw err;
  }
}

function selected(rt: FlowRuntime, q: FlowStatsRequest): Rule[] {
  const fm: FlowMod = {
    table: q.table === OFPTT_ALL ? undefined : q.table, priority: 0, cookie: q.cookie, cookieMask: q.cookieMask,
    match: q.match, actions: [], hasActions: false, idleTimeout: 0, hardTimeout: 0, sendFlowRem: false,
    outPort: q.outPort === OFPP.NONE ? undefined : q.outPort,
  };
  const chosen = new Set(rt.ofproto.pipeline.select(fm, false));
  // allRules gives the order dump-flows prints (by table, then priority).
  return rt.ofproto.pipeline.allRules(fm.table).filter((r) => chosen.has(r));
}

/** OFPST_FLOW / NXST_FLOW: the selected rules with their counters (credited from the datapath). */
export function flowStats(rt: FlowRuntime, q: FlowStatsRequest, now: number): FlowStats[] {
  return selected(rt, q).map((r) => {
    const age = Math.max(0, now - r.created);
    return {
      table: r.table, durationSec: Math.floor(age / 1000), durationNsec: (age % 1000) * 1_000_000, priority: r.priority,
      idleTimeout: r.idleTimeout, hardTimeout: r.hardTimeout, flags: r.sendFlowRem ? FLAG_SEND_FLOW_REM : 0, importance: 0,
      cookie: r.cookie, packetCount: BigInt(r.packets), byteCount: BigInt(r.bytes),
      idleAge: Math.floor(Math.max(0, now - r.used) / 1000) + 1, hardAge: Math.floor(age / 1000) + 1,
      match: r.match, actions: r.actions,
    };
  });
}

export function aggregateStats(rt: FlowRuntime, q: FlowStatsRequest): AggregateStats {
  const rules = selected(rt, q);
  let packets = 0n, bytes = 0n;
  for (const r of rules) { packets += BigInt(r.packets); bytes += BigInt(r.bytes); }
  return { packetCount: packets, byteCount: bytes, flowCount: rules.length };
}
