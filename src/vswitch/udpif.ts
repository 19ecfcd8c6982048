/**
 * Udpif: the upcall path of one bridge, and its one owner (OVS: struct udpif in
 * ofproto-dpif-upcall.c). It holds the handler's state and counters, the Ukeys of the
 * installed megaflows, the revalidator's counters, and the one way to ask for revalidation.
 *
 * A miss, in order (handleBatch, on the JS thread, a ring batch at a time):
 *   1. xlate with side effects (MAC learning; a controller action publishes a packet-in), and
 *      the packet counted on the rules it went through;
 *   2. putFlow(megaflow, actions) in 'add' mode. FLOW_EXISTS means another miss of the same
 *      megaflow was handled first (packets queued in the ring before the install): fine.
 *      MASKS_FULL and FLOW_TABLE_FULL are counted (a full table is also published as a
 *      flow-limit event, at most once a second); the packet is still executed. Over the flow
 *      limit nothing is installed and revalidation is requested, as OVS does;
 *   3. execute(packet, actions) in the kernel (bpf bvs_exec runs the same action code as the
 *      fast path), so the first packet is not lost: the datapath only copied it into the ring.
 *      Userspace actions are left out: their packet-ins were published by step 1.
 * An 'action' upcall comes from a userspace action of an installed megaflow (the controller
 * action): it is published as a packet-in and nothing is installed. Packet-ins are limited to
 * PACKET_IN_RATE per second and bridge (a token bucket); the excess is counted.
 *
 * Revalidation: requestRevalidation() is the one way to ask. It wakes the revalidator (the
 * actor attaches itself with attachRevalidator) and returns a promise that settles when a pass
 * that started after the request has ended, so a caller that must see its change in the
 * datapath (a flow-mod before its reply) awaits it and everyone else ignores it. Passes are
 * revalidate.ts's: run by the revalidator actor (revalidateSliced) or, in tests, revalidate().
 *
 * Time: every count against time (the packet-in bucket, the once-a-second events, idle flows,
 * pass durations) reads the injected clock, CLOCK_MONOTONIC in ns: the clock of the
 * datapath's used_ns. Tests pass their own.
 *
 * Cost rules: handleBatch runs for every new flow, so no logging, no NATS round trips (publish
 * is fire-and-forget and only for packet-ins) and no per-packet closures; every failure is a
 * counter, never an exception out of the batch. A truncated capture (pkt_len > captured bytes)
 * cannot be executed correctly, so it is not executed; the flow is still installed and the
 * sender's next packet takes the fast path.
 */
import type { DpAction, FlowEntry, FlowKey, FlowMask, PutMode, Upcall } from '../datapath/index.ts';
import { ABI, DatapathError } from '../datapath/index.ts';
import {
  creditGroups, decodeControllerCookie, formatPacket, W, xlate,
  type Bridge, type PacketInEvent, type RemovedRule, type XlateOptions,
} from '../ofproto/index.ts';
import type { EventInputOf } from '../bus/index.ts';
import type { Ukey } from './ukey.ts';

/** The Datapath methods the upcall path uses (src/datapath's Datapath implements them). */
export interface UdpifDatapath {
  readonly name: string;
  /** Returns the flow's id: the same string dumpFlowEntries reports for it. */
  putFlow(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode?: PutMode): string;
  delFlow(key: FlowKey, mask: FlowMask): void;
  /** The flows undecoded (id, stats, flow() on demand), in chunks a pass can yield between. */
  dumpFlowEntries(batch?: number): Iterable<FlowEntry[]>;
  /** Runs `actions` on `frame` in the kernel, as if it had arrived on `inPort`. */
  execute(frame: Uint8Array, actions: readonly DpAction[], inPort: number): void;
  maxFlows(): number;
}

/** CLOCK_MONOTONIC in ns (the clock of the datapath's usedNs): addon().monotonicNs(). */
export interface Clock {
  monotonicNs(): bigint;
}

export const systemClock: Clock = { monotonicNs: () => process.hrtime.bigint() };

/** Events the fast path publishes; the daemon connects this to the bus. Must not throw or block. */
export type FastPathEvent = 'packet-in' | 'flow-limit';
export type Publish = <E extends FastPathEvent>(name: E, payload: EventInputOf<E>) => void;

/** A packet-in for the bridge's OpenFlow controllers: the event, the whole frame as captured. */
export interface PacketIn {
  ev: PacketInEvent;
  packet: Uint8Array;
  /** Length on the wire (packet may be shorter: the capture was truncated). */
  totalLen: number;
}

export interface UdpifSinks {
  packetIn?(pi: PacketIn): void;
  rulesRemoved?(removed: readonly RemovedRule[]): void;
}

export const DEFAULT_MAX_IDLE_MS = 10_000;
export const DEFAULT_FLOW_LIMIT = 200_000;
/** Packet-ins published per second and bridge at most (a token bucket of this size): a flood
 *  through a controller flow must not become a flood of NATS messages (OVS rate-limits
 *  packet-ins to controllers too). */
export const PACKET_IN_RATE = 1000;

export interface HandlerStats {
  id: number;
  upcalls: number;
  misses: number;
  actionUpcalls: number;
  flowsInstalled: number;
  flowExists: number;
  masksFull: number;
  tableFull: number;
  overLimit: number;
  executed: number;
  /** Misses whose capture was truncated (pkt_len > captured bytes): installed, not executed. */
  truncated: number;
  packetIns: number;
  /** Packet-ins over the bus's rate limit (PACKET_IN_RATE per second), not published on the bus. */
  packetInsDropped: number;
  errors: number;
  batches: number;
}

export interface RevalidatorStats {
  id: number;
  dumps: number;
  flowsRemoved: number;
  removedIdle: number;
  removedStale: number;
  removedLimit: number;
  lastDumpMs: number;
  lastFlows: number;
  avgFlows: number;
  maxFlows: number;
  limitEvents: number;
}

/** The event counters the upcall path feeds (the daemon's Coverage, src/bridge/coverage.ts). */
export interface CoverageSink {
  inc(name: string, n?: number): void;
}

/** A resource limit the upcall path ran into. */
export type LimitKind = 'flow-limit' | 'flow-table-full' | 'masks-full';

/** Reported to onLimit at most once a second per kind; `events` counts the hits since the
 *  last report, so a log line per report loses no count. */
export interface LimitHit {
  kind: LimitKind;
  bridge: string;
  events: number;
  /** Flows in the datapath, and the limit that was hit (flows, or mask slots). */
  count: number;
  limit: number;
}

export interface UdpifOptions {
  datapath: UdpifDatapath;
  ofproto: Bridge;
  /** The bridge's name in events. */
  name: string;
  publish?: Publish;
  clock?: Clock;
  maxIdleMs?: number;
  flowLimit?: number;
  coverage?: CoverageSink;
  /** Where limit hits are logged (the daemon's logger); called at most once a second per kind. */
  onLimit?: (hit: LimitHit) => void;
}

/** A token bucket of `rate` tokens, refilled continuously from the clock. */
/** `rate` tokens a second, at most `burst` saved up (default: a second's worth). */
export class TokenBucket {
  private tokens: number;
  private atNs: bigint;
  constructor(private readonly rate: number, private readonly clock: Clock, private readonly burst = rate) {
    this.tokens = burst;
    this.atNs = clock.monotonicNs();
  }

  take(): boolean {
    const now = this.clock.monotonicNs();
    const elapsedMs = Number(now - this.atNs) / 1e6;
    this.atNs = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.rate) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** True at most once per `periodMs` of the clock. */
export class Every {
  private lastNs: bigint | undefined;
  constructor(private readonly periodMs: number, private readonly clock: Clock) {}

  now(): boolean {
    const t = this.clock.monotonicNs();
    if (this.lastNs !== undefined && t - this.lastNs < BigInt(this.periodMs) * 1_000_000n) return false;
    this.lastNs = t;
    return true;
  }
}

export class Udpif {
  readonly name: string;
  readonly datapath: UdpifDatapath;
  readonly ofproto: Bridge;
  readonly clock: Clock;
  publish: Publish;
  maxIdleMs: number;
  flowLimit: number;
  readonly handler: HandlerStats = newHandlerStats(0);
  readonly revalidator: RevalidatorStats = newRevalidatorStats(0);
  /** What we know of each installed megaflow, by its datapath id (putFlow's return value). */
  readonly ukeys = new Map<string, Ukey>();
  /** Datapath flows: counted by the last dump, plus the handler's installs since. */
  flowCount = 0;
  /** Number of the latest revalidation pass started (passes are numbered from 1 upwards). */
  passStarted = 0;
  /** OpenFlow rules removed by expiry in revalidation passes, for flow-removed reporting. */
  readonly removedRules: RemovedRule[] = [];
  /** In-process listeners (the bridge's OpenFlow connections, src/connmgr): each packet-in, and
   *  the rules a revalidation pass expired. Called synchronously; they must not throw. */
  readonly sinks: UdpifSinks = {};
  /** Gates of the flow-limit events: a full datapath table, and the configured limit. */
  readonly tableFullEvents: Every;
  readonly flowLimitEvents: Every;

  private readonly coverage: CoverageSink | undefined;
  private readonly onLimit: ((hit: LimitHit) => void) | undefined;
  /** Per kind: the gate of its reports, and the hits since the last report. */
  private readonly limitReports = new Map<LimitKind, { gate: Every; pending: number }>();
  private readonly packetIns: TokenBucket;
  /** The options of a miss's translation (reused). */
  /** The packet-ins of the miss being translated (sent once its actions are known). */
  private missPacketIns: PacketInEvent[] = [];
  private readonly missOpts: XlateOptions;
  private wake: (() => void) | undefined;
  /** Requests not yet served, one entry per value of passStarted at request time (so at most
   *  two: requests during a running pass, and before it), each shared by all its requesters. */
  private waiters: { after: number; done: Promise<void>; resolve: () => void }[] = [];

  constructor(o: UdpifOptions) {
    this.name = o.name;
    this.datapath = o.datapath;
    this.ofproto = o.ofproto;
    this.clock = o.clock ?? systemClock;
    this.publish = o.publish ?? (() => {});
    this.maxIdleMs = o.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
    this.flowLimit = o.flowLimit ?? DEFAULT_FLOW_LIMIT;
    this.packetIns = new TokenBucket(PACKET_IN_RATE, this.clock);
    this.tableFullEvents = new Every(1000, this.clock);
    this.flowLimitEvents = new Every(1000, this.clock);
    this.coverage = o.coverage;
    this.onLimit = o.onLimit;
    for (const k of ['flow-limit', 'flow-table-full', 'masks-full'] as const) {
      this.limitReports.set(k, { gate: new Every(1000, this.clock), pending: 0 });
    }
    this.missOpts = {
      sideEffects: true,
      onPacketIn: (ev) => { this.missPacketIns.push(ev); },
    };
  }

  // ---- revalidation: the one way to ask ---------------------------------------------------

  /**
   * Asks for a revalidation pass (a flow-mod, a port change, a MAC move, an fdb flush, the
   * flow limit). Resolves when a pass that started after this call has ended; callers that do
   * not need to wait ignore the promise.
   */
  requestRevalidation(): Promise<void> {
    // No megaflow installed, none to make stale: a flow the datapath holds that we do not know
    // (a restart's, dpctl's) is adopted by a pass, which translates it with the tables as they
    // are then. The first pass must have started, though: it is the one that adopts.
    if (this.ukeys.size === 0 && this.passStarted > 0) return Promise.resolve();
    const after = this.passStarted;
    let w = this.waiters.find((x) => x.after === after);
    if (!w) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => { resolve = r; });
      w = { after, done, resolve };
      this.waiters.push(w);
    }
    this.wake?.();
    return w.done;
  }

  /** The revalidator attaches its wake-up call; returns the detach function. One at a time. */
  attachRevalidator(wake: () => void): () => void {
    this.wake = wake;
    return () => { if (this.wake === wake) this.wake = undefined; };
  }

  /** Detaches whatever revalidator is attached (one that failed cannot run its cleanup). */
  detachRevalidator(): void {
    this.wake = undefined;
  }

  /** Whether a revalidator is attached (health checks, tests). */
  get revalidatorAttached(): boolean {
    return this.wake !== undefined;
  }

  /** Called by a pass when it ends: settles the requests made before it started. */
  passEnded(pass: number): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.after < pass ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  // ---- the upcall handler ------------------------------------------------------------------

  /** Handles one batch from the ring. Never throws for a bad upcall; counts it instead. */
  handleBatch(batch: readonly Upcall[]): void {
    const h = this.handler;
    h.batches++;
    let wantRevalidate = false;
    const { tableFull: tableFull0, masksFull: masksFull0, overLimit: overLimit0, packetInsDropped: dropped0 } = h;
    // One clock read per batch: a Ukey's install time only bounds its idle time.
    const nowNs = this.clock.monotonicNs();
    for (let i = 0; i < batch.length; i++) {
      const u = batch[i]!;
      h.upcalls++;
      try {
        if (u.type === 'action') this.handleAction(u);
        else if (this.handleMiss(u, nowNs)) wantRevalidate = true;
      } catch {
        h.errors++;
      }
    }
    if (wantRevalidate) void this.requestRevalidation();
    if (h.tableFull !== tableFull0) {
      this.reportTableFull();
      this.limitHit('flow-table-full', 'dpif_flow_put_table_full', h.tableFull - tableFull0, this.flowCount, this.datapath.maxFlows());
    }
    if (h.masksFull !== masksFull0) this.limitHit('masks-full', 'dpif_flow_put_masks_full', h.masksFull - masksFull0, this.flowCount, ABI.MAX_MASKS);
    if (h.overLimit !== overLimit0) this.limitHit('flow-limit', 'upcall_flow_limit_hit', h.overLimit - overLimit0, this.flowCount, this.flowLimit);
    if (h.packetInsDropped !== dropped0) this.coverage?.inc('upcall_packet_in_dropped', h.packetInsDropped - dropped0);
  }

  /**
   * Counts `events` hits of a limit as coverage event `name`, and reports them to onLimit at
   * most once a second per kind (with every hit since the last report). Never throws: this
   * runs at the end of a batch and in revalidation passes.
   */
  limitHit(kind: LimitKind, name: string, events: number, count: number, limit: number): void {
    try {
      this.coverage?.inc(name, events);
      const r = this.limitReports.get(kind)!;
      r.pending += events;
      if (!this.onLimit || !r.gate.now()) return;
      const hit: LimitHit = { kind, bridge: this.name, events: r.pending, count, limit };
      r.pending = 0;
      this.onLimit(hit);
    } catch {
      this.handler.errors++;
    }
  }

  /** Returns true when the flow limit stopped an install (the revalidator should run). */
  private handleMiss(u: Upcall, nowNs: bigint): boolean {
    const h = this.handler;
    h.misses++;
    this.missPacketIns = [];
    const r = xlate(this.ofproto, u.key, this.missOpts);
    // The packet that missed is counted on the rules it went through, as OVS counts it: the
    // megaflow's own counters only see the packets after it.
    if (r.rules.length > 0) {
      const nowMs = this.ofproto.now();
      for (let i = 0; i < r.rules.length; i++) this.ofproto.pipeline.credit(r.rules[i]!, 1, u.pktLen, nowMs);
    }
    this.ofproto.pipeline.creditLookups(r.lookups, 1);
    if (r.groupHits.length > 0) creditGroups(r.groupHits, 1, u.pktLen);
    let overLimit = false;
    if (this.flowCount >= this.flowLimit) {
      h.overLimit++;
      overLimit = true;
    } else {
      const { key, mask } = r.megaflow;
      try {
        const id = this.datapath.putFlow(key, mask, r.actions, 'add');
        h.flowsInstalled++;
        this.flowCount++;
        this.ukeys.set(id, {
          actions: r.actions, rules: r.rules, lookups: r.lookups, learns: r.learns, groupHits: r.groupHits, macDeps: r.macDeps, learned: r.learned,
          generations: r.generations, packets: 0n, bytes: 0n, createdNs: nowNs, seen: this.passStarted,
        });
      } catch (e) {
        const code = e instanceof DatapathError ? e.code : undefined;
        if (code === 'FLOW_EXISTS') h.flowExists++;
        else if (code === 'MASKS_FULL') h.masksFull++;
        else if (code === 'FLOW_TABLE_FULL') h.tableFull++;
        else h.errors++;
      }
    }
    const pins = this.missPacketIns;
    this.missPacketIns = [];
    if (u.packet.length < u.pktLen) {
      h.truncated++;
      for (const ev of pins) this.publishPacketIn(u, ev);
    } else if (pins.length > 0) {
      // The controller actions run in the kernel too, so each packet-in carries the packet as
      // the actions before it made it (as from an installed megaflow): the exec program sends
      // it back as an action upcall, which handleAction turns into the packet-in.
      try {
        this.datapath.execute(u.packet, r.actions, u.port);
        h.executed++;
      } catch {
        h.errors++;
        for (const ev of pins) this.publishPacketIn(u, ev);
      }
    } else if (hasOutput(r.actions)) {
      try {
        this.datapath.execute(u.packet, withoutUserspace(r.actions), u.port);
        h.executed++;
      } catch {
        h.errors++;
      }
    }
    return overLimit;
  }

  /**
   * A userspace action hit in the datapath: the controller action of an installed megaflow. The
   * cookie carries reason, table and max_len; the rule's own cookie and the flow come from a
   * re-translation without side effects (packet-ins are rare, their rate bounded by the bucket).
   */
  private handleAction(u: Upcall): void {
    const h = this.handler;
    h.actionUpcalls++;
    const c = decodeControllerCookie(u.cookie);
    if (!c) { h.errors++; return; }
    // With no OpenFlow connection to serve and the bus's bucket empty, skip the re-translation.
    const busToken = this.packetIns.take();
    if (!busToken && !this.sinks.packetIn) { h.packetInsDropped++; return; }
    const r = xlate(this.ofproto, u.key, { sideEffects: false });
    const ev = r.packetIns.find((p) => p.userspaceCookie === u.cookie)
      // The rule is gone since the flow was installed: report what the cookie says.
      ?? { reason: c.reason, table: c.table, cookie: 0n, controllerId: c.controllerId, maxLen: c.maxLen, flow: r.finalFlow, userspaceCookie: u.cookie };
    this.publishPacketIn(u, ev, busToken);
  }

  /**
   * A packet-in goes to the bridge's OpenFlow connections (in process; each connection bounds
   * its own: controller_rate_limit, and a backlog over which packet-ins are dropped, as OVS's
   * controller_queue_size) and to the bus, whose events are limited to PACKET_IN_RATE a second.
   */
  private publishPacketIn(u: Upcall, ev: PacketInEvent, busToken?: boolean): void {
    this.handler.packetIns++;
    try {
      this.sinks.packetIn?.({ ev, packet: u.packet, totalLen: u.pktLen });
    } catch {
      this.handler.errors++;
    }
    if (!(busToken ?? this.packetIns.take())) { this.handler.packetInsDropped++; return; }
    const len = Math.min(u.packet.length, ev.maxLen);
    try {
      this.publish('packet-in', {
        bridge: this.name, table: ev.table, cookie: ev.cookie, reason: ev.reason,
        in_port: ev.flow[W.IN_PORT]! & 0xffff, total_len: u.pktLen,
        packet: Buffer.from(u.packet.buffer, u.packet.byteOffset, len).toString('base64'),
        flow: formatPacket(ev.flow),
        ...(ev.userdata ? { userdata: Buffer.from(ev.userdata).toString('base64') } : {}),
        ...(ev.pause ? { pause: true } : {}),
      });
    } catch {
      this.handler.errors++;
    }
  }

  /**
   * The datapath's flow table is full: the hard limit below the configured flow limit.
   * Published as a flow-limit event with the table size as the limit, at most once a second.
   */
  private reportTableFull(): void {
    if (!this.tableFullEvents.now()) return;
    try {
      const limit = this.datapath.maxFlows();
      this.publish('flow-limit', { datapath: `bvs@${this.datapath.name}`, bridge: this.name, limit, count: Math.max(this.flowCount, limit) });
    } catch {
      this.handler.errors++;
    }
  }
}

function hasOutput(actions: readonly DpAction[]): boolean {
  for (let i = 0; i < actions.length; i++) if (actions[i]!.type === 'output') return true;
  return false;
}

function withoutUserspace(actions: readonly DpAction[]): readonly DpAction[] {
  for (let i = 0; i < actions.length; i++) {
    if (actions[i]!.type === 'userspace') return actions.filter((a) => a.type !== 'userspace');
  }
  return actions;
}

export function newHandlerStats(id: number): HandlerStats {
  return {
    id, upcalls: 0, misses: 0, actionUpcalls: 0, flowsInstalled: 0, flowExists: 0, masksFull: 0,
    tableFull: 0, overLimit: 0, executed: 0, truncated: 0, packetIns: 0, packetInsDropped: 0, errors: 0, batches: 0,
  };
}

export function newRevalidatorStats(id: number): RevalidatorStats {
  return {
    id, dumps: 0, flowsRemoved: 0, removedIdle: 0, removedStale: 0, removedLimit: 0,
    lastDumpMs: 0, lastFlows: 0, avgFlows: 0, maxFlows: 0, limitEvents: 0,
  };
}
