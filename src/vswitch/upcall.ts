/**
 * Upcall handling (after OVS ofproto-dpif-upcall.c, the handler side): a batch of upcalls from
 * the datapath's ring becomes installed megaflows and executed packets.
 *
 * For a miss, in order:
 *   1. xlate with side effects (MAC learning; a controller action publishes a packet-in);
 *   2. putFlow(megaflow, actions) in 'add' mode. FLOW_EXISTS means another miss of the same
 *      megaflow was handled first (packets queued in the ring before the install): fine.
 *      MASKS_FULL and FLOW_TABLE_FULL are counted (a full table is also published as a
 *      flow-limit event, at most once a second); the packet is still executed. Over the flow
 *      limit nothing is installed (the revalidator is asked to make room), as OVS does;
 *   3. execute(packet, actions) so the first packet is not lost: the datapath does not keep
 *      the packet that missed, it only copied it into the ring.
 * The installed flow is remembered as a Ukey (rules, MAC deps, generations, stats baseline) so
 * the revalidator can push statistics and skip re-translating flows nothing changed under.
 *
 * An 'action' upcall comes from a userspace action in an installed megaflow (the controller
 * action): it is published as a packet-in, and nothing is installed. Packet-ins are limited to
 * PACKET_IN_RATE per second and bridge; the excess is counted (packetInsDropped).
 *
 * Cost rules: this runs for every new flow, so no logging, no NATS round trips (publish is
 * fire-and-forget and only for packet-ins) and no per-packet closures; every failure is a
 * counter, never an exception out of the batch. A truncated capture (pkt_len > captured bytes)
 * cannot be executed correctly, so it is not executed; the flow is still installed and the
 * sender's next packet takes the fast path.
 */
import type { Upcall } from '../datapath/codec.ts';
import { DatapathError } from '../datapath/errors.ts';
import { W } from '../ofproto/flow.ts';
import { formatPacket } from '../ofproto/trace.ts';
import { xlate } from '../ofproto/xlate.ts';
import { decodeControllerCookie, type PacketInEvent, type XlateOptions } from '../ofproto/xlate-ctx.ts';
import { PACKET_IN_RATE, type BridgeRuntime } from './runtime.ts';

/** Per-runtime reusable translation options: the packet-in callback reads `current`. */
class MissContext {
  current: Upcall | undefined;
  readonly opts: XlateOptions;
  constructor(private readonly rt: BridgeRuntime) {
    this.opts = { sideEffects: true, onPacketIn: (ev) => this.packetIn(ev) };
  }

  packetIn(ev: PacketInEvent): void {
    if (this.current) publishPacketIn(this.rt, this.current, ev);
  }
}

const contexts = new WeakMap<BridgeRuntime, MissContext>();

function contextOf(rt: BridgeRuntime): MissContext {
  let c = contexts.get(rt);
  if (!c) { c = new MissContext(rt); contexts.set(rt, c); }
  return c;
}

/** Handles one batch from the ring. Never throws for a bad upcall; counts it instead. */
export function handleBatch(rt: BridgeRuntime, batch: readonly Upcall[]): void {
  const h = rt.handler;
  h.batches++;
  let wantRevalidate = false;
  const tableFull0 = h.tableFull;
  // One clock read per batch: a Ukey's install time only bounds its idle time.
  const nowNs = rt.monotonicNs();
  for (let i = 0; i < batch.length; i++) {
    const u = batch[i]!;
    h.upcalls++;
    try {
      if (u.type === 'action') handleAction(rt, u);
      else if (handleMiss(rt, u, nowNs)) wantRevalidate = true;
    } catch {
      h.errors++;
    }
  }
  if (wantRevalidate) rt.requestRevalidation();
  if (h.tableFull !== tableFull0) reportTableFull(rt);
}

const lastTableFull = new WeakMap<BridgeRuntime, number>();

/**
 * The datapath's flow table is full: the hard limit below the configured flow limit. Published
 * as a flow-limit event with the table size as the limit, at most once a second.
 */
function reportTableFull(rt: BridgeRuntime): void {
  const now = performance.now();
  if (now - (lastTableFull.get(rt) ?? -Infinity) < 1000) return;
  lastTableFull.set(rt, now);
  try {
    const limit = rt.datapath.maxFlows();
    rt.publish('flow-limit', { datapath: `bvs@${rt.datapath.name}`, bridge: rt.name, limit, count: Math.max(rt.flowCount, limit) });
  } catch {
    rt.handler.errors++;
  }
}

/** Returns true when the flow limit stopped an install (the revalidator should run). */
function handleMiss(rt: BridgeRuntime, u: Upcall, nowNs: bigint): boolean {
  const h = rt.handler;
  h.misses++;
  const ctx = contextOf(rt);
  ctx.current = u;
  let r;
  try {
    r = xlate(rt.ofproto, u.key, ctx.opts);
  } finally {
    ctx.current = undefined;
  }
  let overLimit = false;
  if (rt.flowCount >= rt.flowLimit) {
    h.overLimit++;
    overLimit = true;
  } else {
    const { key, mask } = r.megaflow;
    try {
      const id = rt.datapath.putFlow(key, mask, r.actions, 'add');
      h.flowsInstalled++;
      rt.flowCount++;
      rt.ukeys.set(id, {
        actions: r.actions, rules: r.rules, macDeps: r.macDeps, learned: r.learned,
        generations: r.generations, packets: 0n, bytes: 0n, createdNs: nowNs, seen: rt.passStarted,
      });
    } catch (e) {
      const code = e instanceof DatapathError ? e.code : undefined;
      if (code === 'FLOW_EXISTS') h.flowExists++;
      else if (code === 'MASKS_FULL') h.masksFull++;
      else if (code === 'FLOW_TABLE_FULL') h.tableFull++;
      else h.errors++;
    }
  }
  if (u.packet.length < u.pktLen) h.truncated++;
  else if (r.actions.length > 0 && hasOutput(r.actions)) {
    try {
      rt.datapath.execute(u.packet, r.actions);
      h.executed++;
    } catch {
      h.errors++;
    }
  }
  return overLimit;
}

function hasOutput(actions: readonly { type: string }[]): boolean {
  for (let i = 0; i < actions.length; i++) if (actions[i]!.type === 'output') return true;
  return false;
}

/**
 * A userspace action hit in the datapath: the controller action of an installed megaflow. The
 * cookie carries reason, table and max_len; the rule's own cookie and the flow come from a
 * re-translation without side effects (packet-ins are rare, their rate bounded by such flows).
 */
function handleAction(rt: BridgeRuntime, u: Upcall): void {
  const h = rt.handler;
  h.actionUpcalls++;
  const c = decodeControllerCookie(u.cookie);
  if (!c) { h.errors++; return; }
  // Over the rate limit, skip the re-translation too.
  if (!takeToken(rt)) { h.packetInsDropped++; return; }
  const r = xlate(rt.ofproto, u.key, { sideEffects: false });
  const ev = r.packetIns.find((p) => p.userspaceCookie === u.cookie);
  if (ev) { publishPacketIn(rt, u, ev, true); return; }
  // The rule is gone since the flow was installed: report what the cookie says.
  const flow = r.finalFlow;
  publishPacketIn(rt, u, { reason: c.reason, table: c.table, cookie: 0n, controllerId: c.controllerId,
    maxLen: c.maxLen, flow, userspaceCookie: u.cookie }, true);
}

/** Token bucket per runtime: PACKET_IN_RATE tokens, refilled continuously. */
const buckets = new WeakMap<BridgeRuntime, { tokens: number; at: number }>();

function takeToken(rt: BridgeRuntime): boolean {
  const now = performance.now();
  let b = buckets.get(rt);
  if (!b) { b = { tokens: PACKET_IN_RATE, at: now }; buckets.set(rt, b); }
  b.tokens = Math.min(PACKET_IN_RATE, b.tokens + ((now - b.at) * PACKET_IN_RATE) / 1000);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

function publishPacketIn(rt: BridgeRuntime, u: Upcall, ev: PacketInEvent, tokenTaken = false): void {
  if (!tokenTaken && !takeToken(rt)) { rt.handler.packetInsDropped++; return; }
  rt.handler.packetIns++;
  const len = Math.min(u.packet.length, ev.maxLen);
  try {
    rt.publish('packet-in', {
      bridge: rt.name, table: ev.table, cookie: ev.cookie, reason: ev.reason,
      in_port: ev.flow[W.IN_PORT]! & 0xffff, total_len: u.pktLen,
      packet: Buffer.from(u.packet.buffer, u.packet.byteOffset, len).toString('base64'),
      flow: formatPacket(ev.flow),
    });
  } catch {
    rt.handler.errors++;
  }
}
