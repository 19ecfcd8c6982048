/**
 * The switch's asynchronous messages, built per connection (OVS connmgr.c
 * connmgr_send_async_msg and ofputil_encode_packet_in / flow_removed / port_status):
 *
 *   packet-in      the packet (truncated to the action's max_len, or miss_send_len for a table
 *                  miss), NO_BUFFER (bvs never buffers), table, cookie, and the pipeline fields
 *                  that are not zero (in_port always; metadata and registers when set) as the
 *                  match; NXT_PACKET_IN2 adds controller(userdata) and, for controller(pause),
 *                  the continuation NXT_RESUME takes back (msg-resume.ts; other formats cannot
 *                  carry one, so such a packet is not resumed, as in OVS). Sent only to connections with
 *                  the action's controller id, and within the Controller's rate limit.
 *   flow-removed   for rules with send_flow_rem, with their counters and age.
 *   port-status    add/delete/modify of a port's description.
 */
import { Match, W, type RemovedRule } from '../ofproto/index.ts';
import { encodeContinuation, NXPIF, OFP10, OFP13, type OfpMessage, type OfpPort } from '../openflow/index.ts';
import type { PacketIn } from '../vswitch/index.ts';
import { PIN_REASON, wants, wantsImplicitMiss, type Session } from './session.ts';

const NO_BUFFER = 0xffffffff;
/** Bytes queued to a connection past which its packet-ins are dropped (about OVS's 100 packets). */
export const PACKET_IN_BACKLOG_BYTES = 256 * 1024;
/** OFPCML_NO_BUFFER: the whole packet. */
const MAX_LEN_ALL = 0xffff;
/** Words of the pipeline fields a packet-in reports when not zero: metadata and reg0-15. */
const METADATA_WORDS = 18;

const REMOVED_REASON = { idle_timeout: 0, hard_timeout: 1, delete: 2, group_delete: 3, meter_delete: 4, eviction: 5 } as const;

/** The packet-in for one connection, or undefined when it must not get this one. */
export function packetInFor(s: Session, pi: PacketIn): OfpMessage | undefined {
  const { ev } = pi;
  const implicit = ev.miss === true;
  // OVS encode_packet_in_reason: a table-miss flow's packet-in is no_match from 1.3 on.
  const reason = ev.explicitMiss && (s.conn.version ?? 0) >= OFP13 ? PIN_REASON.no_match : PIN_REASON[ev.reason];
  if (implicit ? !wantsImplicitMiss(s) : !wants(s, 'packetIn', reason)) return undefined;
  if (ev.controllerId !== s.controllerId) return undefined;
  // A controller that does not keep up loses packet-ins, not its connection (OVS drops past
  // controller_queue_size); the limiter is controller_rate_limit.
  if (s.conn.backlog > PACKET_IN_BACKLOG_BYTES) return undefined;
  if (s.limiter && !s.limiter.take()) return undefined;
  const maxLen = implicit ? s.missSendLen : ev.maxLen;
  const len = maxLen === MAX_LEN_ALL ? pi.packet.length : Math.min(pi.packet.length, maxLen);
  const match = new Match();
  match.mask[W.IN_PORT] = 0xffffffff;
  match.value[W.IN_PORT] = ev.flow[W.IN_PORT]!;
  for (let i = 0; i < METADATA_WORDS; i++) {
    if (ev.flow[i] !== 0) { match.mask[i] = 0xffffffff; match.value[i] = ev.flow[i]!; }
  }
  const body = {
    bufferId: NO_BUFFER, totalLen: pi.totalLen, reason, table: ev.table,
    cookie: implicit ? 0xffffffffffffffffn : ev.cookie, match, data: pi.packet.slice(0, len),
  };
  if (s.packetInFormat === NXPIF.NXT_PACKET_IN2) {
    // A paused translation's continuation, in this connection's version (its actions are).
    const continuation = ev.frozen ? encodeContinuation(s.conn.version ?? OFP10, ev.frozen, ev.flow) : undefined;
    return { kind: 'nx_packet_in2', ...body, ...(ev.userdata ? { userdata: ev.userdata } : {}), ...(continuation ? { continuation } : {}) };
  }
  return { kind: 'packet_in', ...body };
}

export function flowRemovedFor(s: Session, r: RemovedRule, now: number): OfpMessage | undefined {
  const { rule } = r;
  if (!rule.sendFlowRem || rule.priority > 0xffff) return undefined;
  const reason = REMOVED_REASON[r.reason];
  if (!wants(s, 'flowRemoved', reason)) return undefined;
  const age = Math.max(0, now - rule.created);
  return {
    kind: 'flow_removed', cookie: rule.cookie, priority: rule.priority, reason, table: rule.table,
    durationSec: Math.floor(age / 1000), durationNsec: (age % 1000) * 1_000_000,
    idleTimeout: rule.idleTimeout, hardTimeout: rule.hardTimeout,
    packetCount: BigInt(rule.packets), byteCount: BigInt(rule.bytes), match: rule.match,
  };
}

export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

export function portStatusFor(s: Session, reason: number, port: OfpPort): OfpMessage | undefined {
  if (!wants(s, 'portStatus', reason)) return undefined;
  return { kind: 'port_status', reason, port };
}

/** Port descriptions that differ between two snapshots, as port-status reasons. */
export function portChanges(before: ReadonlyMap<number, OfpPort>, after: ReadonlyMap<number, OfpPort>): { reason: number; port: OfpPort }[] {
  const out: { reason: number; port: OfpPort }[] = [];
  for (const [no, p] of before) if (!after.has(no)) out.push({ reason: OFPPR.DELETE, port: p });
  for (const [no, p] of after) {
    const old = before.get(no);
    if (!old) out.push({ reason: OFPPR.ADD, port: p });
    else if (JSON.stringify(old) !== JSON.stringify(p)) out.push({ reason: OFPPR.MODIFY, port: p });
  }
  return out;
}

