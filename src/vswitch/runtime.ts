/**
 * BridgeRuntime: the live state of one bridge inside the daemon (OVS: an ofproto-dpif instance
 * plus its udpif). It joins a datapath, an ofproto Bridge (ports, OpenFlow tables, MAC table)
 * and the counters of the upcall handlers and revalidators, and offers the operations the
 * bridge actor and the NATS command handlers need.
 *
 * Ports: the datapath port number IS the OpenFlow port number (D1's port actor attaches with
 * portNo = ofport; the bridge's own internal port is OFPP_LOCAL 65534). addPort/removePort
 * here change only the ofproto side; the port actor does the datapath attach/detach.
 *
 * Revalidation: every change that can make an installed megaflow wrong (flow-mod, port change,
 * MAC move, fdb flush) calls requestRevalidation(), which the revalidator actor hooks through
 * `onRevalidate` to run a pass at once. Until that pass ends, the old megaflows keep forwarding;
 * callers that need the change to be live before replying await `revalidateNow()`.
 *
 * Neighbours: upcall.ts (handler batches) and revalidate.ts (dump passes) work on this object;
 * the datapath is reached only through DatapathLike, so unit tests substitute a fake.
 */
import type { DpAction, FlowKey, FlowMask } from '../datapath/flow.ts';
import type { DpFlow, DpStats, FlowEntry, Port, PortStats, PutMode } from '../datapath/datapath.ts';
import type { Upcall } from '../datapath/codec.ts';
import { revalidate, type PassResult } from './revalidate.ts';
import type { EventInputOf } from '../bus/subjects.ts';
import type { ReplyInputOf } from '../bus/subjects.ts';
import { formatMac } from '../datapath/odp/addr.ts';
import { Bridge, type BridgeOptions, type BridgePort, type PortConfig } from '../ofproto/bridge.ts';
import { OFPP, W } from '../ofproto/flow.ts';
import { keyFromFrame } from './frame.ts';
import { hiddenName } from './internal-port.ts';
import { ABI } from '../datapath/abi.ts';
import { formatActions, formatFlowStats, formatMatch } from '../ofproto/format.ts';
import type { MacDep, MacEntry } from '../ofproto/mac-learning.ts';
import { FlowSyntaxError, parseFlow, type FlowMod } from '../ofproto/parse.ts';
import { TableError, type RemovedRule, type Rule } from '../ofproto/table.ts';
import { formatTrace, packetFromText, trace } from '../ofproto/trace.ts';

/** The few Datapath methods the runtime uses (src/datapath/datapath.ts implements them). */
export interface DatapathLike {
  readonly name: string;
  /** Returns the flow's id: the same string dumpFlowEntries reports for it. */
  putFlow(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode?: PutMode): string;
  delFlow(key: FlowKey, mask: FlowMask): void;
  dumpFlows(): DpFlow[];
  /** The flows undecoded (id, stats, flow() on demand), in chunks a pass can yield between. */
  dumpFlowEntries(batch?: number): Iterable<FlowEntry[]>;
  execute(frame: Uint8Array, actions: readonly DpAction[]): void;
  openUpcalls(onBatch: (batch: Upcall[]) => void, maxBatch?: number, onError?: (err: Error) => void): { close(): void };
  listPorts(): Port[];
  portStats(portNo: number): PortStats;
  stats(): DpStats;
  maxFlows(): number;
}

/** Events the fast path publishes; D1 connects this to bus.publish. Must not throw or block. */
export type FastPathEvent = 'packet-in' | 'flow-limit';
export type Publish = <E extends FastPathEvent>(name: E, payload: EventInputOf<E>) => void;

export const OFPP_LOCAL = OFPP.LOCAL;
export const DEFAULT_MAX_IDLE_MS = 10_000;
export const DEFAULT_FLOW_LIMIT = 200_000;
export const DEFAULT_MAX_BATCH = 64;
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
  /** Packet-ins over the rate limit (PACKET_IN_RATE per second), not published. */
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

export interface RuntimeOptions {
  datapath: DatapathLike;
  /** An existing ofproto bridge (else a new one named after the datapath, no flows). */
  bridge?: Bridge;
  bridgeOptions?: BridgeOptions;
  publish?: Publish;
  maxIdleMs?: number;
  flowLimit?: number;
  /** CLOCK_MONOTONIC ns, the clock of the datapath's usedNs (addon().monotonicNs()). */
  monotonicNs?: () => bigint;
}

/** A flow-mod as the ofctl commands send it (ovs-ofctl text). */
export type FlowModCommand =
  | { op: 'add'; flows: string[] }
  | { op: 'modify'; flow: string; strict?: boolean }
  | { op: 'delete'; flow?: string; strict?: boolean };

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  constructor(message: string, readonly field?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class BridgeRuntime {
  readonly name: string;
  readonly datapath: DatapathLike;
  readonly ofproto: Bridge;
  publish: Publish;
  maxIdleMs: number;
  flowLimit: number;
  readonly monotonicNs: () => bigint;
  readonly handler: HandlerStats = newHandlerStats(0);
  readonly revalidator: RevalidatorStats = newRevalidatorStats(0);
  /** Hooked by the revalidator actor: run a pass now. */
  onRevalidate: (() => void) | undefined;
  /** Flows removed from OpenFlow tables by expiry, for flow-removed reporting. */
  readonly removedRules: RemovedRule[] = [];

  constructor(opts: RuntimeOptions) {
    this.datapath = opts.datapath;
    this.name = opts.bridge?.name ?? opts.datapath.name;
    this.publish = opts.publish ?? (() => {});
    this.maxIdleMs = opts.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
    this.flowLimit = opts.flowLimit ?? DEFAULT_FLOW_LIMIT;
    this.monotonicNs = opts.monotonicNs ?? (() => process.hrtime.bigint());
    const onMove = (_e: MacEntry): void => this.requestRevalidation();
    this.ofproto = opts.bridge ?? new Bridge(this.name, { ...opts.bridgeOptions, mac: { ...opts.bridgeOptions?.mac, onMove } });
  }

  /** Ask for a revalidation pass as soon as possible (flow-mod, port change, MAC move). */
  requestRevalidation(): void {
    this.onRevalidate?.();
  }

  /** Run a revalidation pass now, synchronously (tests; callers that must see it done). */
  revalidateNow(): PassResult {
    return revalidate(this);
  }

  // ---- ports (ofproto side; the port actor attaches the datapath) -------------------------

  /** Adds a port to the OpenFlow bridge. Datapath port = ofport unless c.dpPort says otherwise. */
  addPort(c: PortConfig): BridgePort {
    const p = this.ofproto.addPort({ ...c, dpPort: c.dpPort ?? c.ofport });
    this.requestRevalidation();
    return p;
  }

  /** Removes a port (by name or ofport) from the OpenFlow bridge; false when absent. */
  removePort(nameOrOfport: string | number): boolean {
    const p = this.findPort(nameOrOfport);
    if (!p) return false;
    this.ofproto.removePort(p.ofport);
    this.requestRevalidation();
    return true;
  }

  findPort(nameOrOfport: string | number): BridgePort | undefined {
    if (typeof nameOrOfport === 'number') return this.ofproto.ports.get(nameOrOfport);
    for (const p of this.ofproto.ports.values()) if (p.name === nameOrOfport) return p;
    return undefined;
  }

  // ---- OpenFlow -----------------------------------------------------------------------------

  /**
   * Applies a flow-mod and asks for revalidation, so installed megaflows follow the new rules
   * at once. `add` with several flows is all or none: every line is parsed and checked first.
   * Errors are RuntimeErrors whose `field` is "flow" or "flows.N".
   */
  flowMod(c: FlowModCommand): { count: number } {
    let count: number;
    if (c.op === 'add') {
      const fms = c.flows.map((text, i) => parseOr(text, 'add', c.flows.length === 1 ? 'flow' : `flows.${i}`));
      fms.forEach((fm, i) => {
        for (const a of fm.actions) {
          if (a.type === 'goto_table' && a.table <= (fm.table ?? 0)) {
            throw new RuntimeError(`goto_table:${a.table} must name a table after table ${fm.table ?? 0}`, c.flows.length === 1 ? 'flow' : `flows.${i}`);
          }
        }
      });
      for (const fm of fms) this.ofproto.pipeline.add(fm);
      count = fms.length;
    } else if (c.op === 'modify') {
      const fm = parseOr(c.flow, 'add', 'flow');
      count = this.ofproto.pipeline.modify(fm, c.strict ?? false).length;
    } else {
      const fm = c.flow === undefined ? parseOr('', 'del', 'flow') : parseOr(c.flow, 'del', 'flow');
      count = this.ofproto.pipeline.delete(fm, c.strict ?? false).length;
    }
    if (count > 0) this.requestRevalidation();
    return { count };
  }

  /** ofctl dump-flows: rules (optionally those matching `flow`, in `table`) with statistics. */
  dumpFlows(opts: { flow?: string; table?: number } = {}): ReplyInputOf<'ofctl.dump-flows'> {
    const now = this.ofproto.now();
    return { flows: this.selectRules(opts).map((r) => ({
      table: r.table, priority: r.priority, cookie: r.cookie, match: formatMatch(r.match),
      actions: formatActions(r.actions), n_packets: r.packets, n_bytes: r.bytes,
      duration_s: (now - r.created) / 1000, idle_age_s: Math.floor((now - r.used) / 1000),
      ...(r.idleTimeout ? { idle_timeout: r.idleTimeout } : {}),
      ...(r.hardTimeout ? { hard_timeout: r.hardTimeout } : {}),
    })) };
  }

  /** dump-flows lines exactly as ovs-ofctl prints them (format.ts formatFlowStats). */
  dumpFlowsText(opts: { flow?: string; table?: number } = {}): string[] {
    const now = this.ofproto.now();
    return this.selectRules(opts).map((r) => formatFlowStats(r, now));
  }

  private selectRules(opts: { flow?: string; table?: number }): Rule[] {
    const pl = this.ofproto.pipeline;
    if (opts.flow === undefined) return pl.allRules(opts.table);
    const fm = parseOr(opts.flow, 'del', 'flow');
    if (opts.table !== undefined) fm.table = opts.table;
    const chosen = new Set(pl.select(fm, false));
    return pl.allRules(fm.table).filter((r) => chosen.has(r));
  }

  /** ofctl dump-ports: the datapath's counters of each OpenFlow port. */
  dumpPorts(port?: string): ReplyInputOf<'ofctl.dump-ports'> {
    const ports = port === undefined ? this.ofproto.sortedPorts() : [this.findPort(port)].filter((p) => p !== undefined);
    if (port !== undefined && ports.length === 0) throw new RuntimeError(`no port ${port} on bridge ${this.name}`, 'port');
    return { ports: ports.map((p) => {
      const s = this.datapath.portStats(p.dpPort);
      return {
        ofport: p.ofport, name: p.name,
        rx_packets: s.rxPackets, rx_bytes: s.rxBytes, rx_dropped: s.rxDropped, rx_errors: 0,
        tx_packets: s.txPackets, tx_bytes: s.txBytes, tx_dropped: s.txDropped, tx_errors: 0,
      };
    }) };
  }

  // ---- MAC table ----------------------------------------------------------------------------

  /** fdb/show: entries sorted as OVS prints them (by port, then VLAN, then MAC). */
  fdbShow(): ReplyInputOf<'appctl.fdb.show'> {
    const now = this.ofproto.now();
    const idle = this.ofproto.mac.idleMs;
    const entries = [...this.ofproto.mac].filter((e) => now - e.used < idle).map((e) => ({
      ofport: e.port, port_name: this.ofproto.ports.get(e.port)?.name, vlan: e.vlan,
      mac: formatMac(e.mac), age_s: Math.floor((now - e.used) / 1000),
    }));
    return { entries };
  }

  /** fdb/flush for this bridge; returns the number of entries removed. */
  fdbFlush(): number {
    const n = this.ofproto.mac.size;
    for (const p of [...this.ofproto.ports.keys()]) this.ofproto.mac.flushPort(p);
    // Entries on ports since removed are flushed too.
    for (const e of [...this.ofproto.mac]) this.ofproto.mac.flushPort(e.port);
    if (n > 0) this.requestRevalidation();
    return n;
  }

  // ---- datapath and fast-path views ---------------------------------------------------------

  /**
   * One datapath of dpif/show. An internal interface's datapath port is the hidden end of its
   * veth pair (internal-port.ts), which is a detail of bvs: as ovs-appctl does, the port is
   * listed by its interface (OpenFlow port) name and typed "internal". A datapath port is that
   * hidden end exactly when its name is hiddenName() of the OpenFlow port on the same number.
   */
  dpifShow(): ReplyInputOf<'appctl.dpif.show'>['datapaths'][number] {
    const st = this.datapath.stats();
    const byDp = new Map([...this.ofproto.ports.values()].map((p) => [p.dpPort, p]));
    return {
      name: `bvs@${this.datapath.name}`, bridge: this.name, hit: st.hit, missed: st.missed, lost: st.lost,
      flows: st.flows, masks: { hit: st.maskHit, total: st.masks },
      ports: this.datapath.listPorts().map((p) => {
        const of = byDp.get(p.portNo);
        const hidden = of !== undefined && of.name !== p.name && hiddenName(of.name) === p.name;
        return {
          name: hidden ? of.name : p.name, odp_port: p.portNo, ofport: of?.ofport,
          type: hidden || p.flags & ABI.PORT_F_INTERNAL ? 'internal' : 'system',
        };
      }),
    };
  }

  /** upcall/show for this bridge's handler and revalidator. */
  upcallShow(): ReplyInputOf<'appctl.upcall.show'> {
    const h = this.handler, r = this.revalidator;
    return {
      flows: { current: r.lastFlows, average: Math.round(r.avgFlows), max: r.maxFlows, limit: this.flowLimit },
      dump_duration_ms: r.lastDumpMs,
      max_idle_ms: this.maxIdleMs,
      handlers: [{ id: h.id, upcalls: h.upcalls, flows_installed: h.flowsInstalled,
        errors: h.errors + h.masksFull + h.tableFull }],
      revalidators: [{ id: r.id, dumps: r.dumps, flows_removed: r.flowsRemoved }],
    };
  }

  /**
   * ofproto/trace against the live tables and MAC table (no side effects). With `packet` (an
   * Ethernet frame), `flow` only names the in_port, as in `ovs-appctl ofproto/trace BR
   * in_port=1 PACKET`, and the headers come from the frame, parsed as the datapath would.
   */
  trace(flow: string, packet?: Uint8Array): ReplyInputOf<'appctl.ofproto.trace'> {
    let key: FlowKey;
    try {
      if (packet === undefined) {
        key = packetFromText(this.ofproto, flow);
      } else {
        const fm = parseFlow(flow, 'packet');
        if (fm.match.mask[W.IN_PORT] === 0) throw new RuntimeError('the packet needs an in_port', 'flow');
        const dp = this.ofproto.toDp(fm.match.value[W.IN_PORT]!);
        if (dp === undefined) throw new RuntimeError(`in_port=${fm.match.value[W.IN_PORT]} is not a port of ${this.name}`, 'flow');
        if (packet.length < 14) throw new RuntimeError(`packet too short (${packet.length} bytes)`, 'packet');
        key = keyFromFrame(packet, dp);
      }
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError((e as Error).message, 'flow', { cause: e });
    }
    const rep = trace(this.ofproto, key);
    return { text: formatTrace(rep, this.name), datapath_actions: rep.datapathActions, megaflow: rep.megaflow };
  }

  // ---- megaflow bookkeeping (used by upcall.ts and revalidate.ts) ---------------------------

  /** What we know of each installed megaflow, by its datapath id (putFlow's return value). */
  readonly ukeys = new Map<string, Ukey>();
  /** Datapath flows: counted by the last dump, plus the handler's installs since. */
  flowCount = 0;
  /** Number of the latest revalidation pass started (passes are numbered from 1 upwards). */
  passStarted = 0;
}

/**
 * The handler's memory of an installed megaflow (OVS udpif_key): the translation it came from
 * (rules to credit, MAC deps and generations to revalidate, MACs to refresh on use) and the
 * stats last seen, to push deltas.
 */
export interface Ukey {
  actions: DpAction[];
  rules: Rule[];
  macDeps: MacDep[];
  learned: { vlan: number; mac: number; port: number }[];
  generations: { pipeline: number; mac: number; ports: number };
  packets: bigint;
  bytes: bigint;
  /** CLOCK_MONOTONIC ns when the handler installed (or the revalidator adopted) the flow. */
  createdNs: bigint;
  /** Number of the last revalidation pass that saw the flow in the datapath, or, for a flow
   *  the handler installed, the latest pass started then. A pass drops the Ukeys whose number
   *  is below its own and that it did not see: their flows are gone. */
  seen: number;
}

/** A string identity for a megaflow: its masked key and its mask, field by field (the fake
 *  datapath of the unit tests uses it as its flow id). */
export function flowId(k: FlowKey, m: FlowMask): string {
  return `${k.inPort},${k.ethSrc},${k.ethDst},${k.ethType},${k.vlanTci},${k.ipProto},${k.ipTos},${k.ipTtl},${k.ipFrag},`
    + `${k.ipv4Src},${k.ipv4Dst},${k.ipv6Src},${k.ipv6Dst},${k.arpSha},${k.arpTha},${k.tpSrc},${k.tpDst},${k.tcpFlags},${k.ipv6Label}/`
    + `${m.inPort},${m.ethSrc},${m.ethDst},${m.ethType},${m.vlanTci},${m.ipProto},${m.ipTos},${m.ipTtl},${m.ipFrag},`
    + `${m.ipv4Src},${m.ipv4Dst},${m.ipv6Src},${m.ipv6Dst},${m.arpSha},${m.arpTha},${m.tpSrc},${m.tpDst},${m.tcpFlags},${m.ipv6Label}`;
}

function parseOr(text: string, mode: 'add' | 'del', field: string): FlowMod {
  try {
    return parseFlow(text, mode);
  } catch (e) {
    if (e instanceof FlowSyntaxError || e instanceof TableError) throw new RuntimeError(e.message, field, { cause: e });
    throw e;
  }
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
