/**
 * BridgeRuntime: the live state of one bridge inside the daemon (OVS: an ofproto-dpif
 * instance). It joins a datapath, an ofproto Bridge (ports, OpenFlow tables, MAC table) and the
 * bridge's upcall path (udpif.ts: the handler, the Ukeys, the revalidator's counters), and
 * offers the operations the bridge actor and the NATS command handlers need.
 *
 * Ports: the datapath port number IS the OpenFlow port number (the port actor attaches with
 * portNo = ofport; the bridge's own internal port is OFPP_LOCAL 65534). addPort/removePort
 * here change only the ofproto side; the port actor does the datapath attach/detach.
 *
 * Revalidation: every change that can make an installed megaflow wrong (flow-mod, port change,
 * MAC move, fdb flush) asks udpif.requestRevalidation(). Until a pass ends, the old megaflows
 * keep forwarding; flowMod() and fdbFlush() hand back the request's promise, so a caller that
 * must see the change live before it replies awaits it.
 *
 * Neighbours: udpif.ts (the upcall path) and, through DatapathLike, the datapath, so unit tests
 * substitute a fake.
 */
import type { DpStats, FlowKey, Port, PortStats } from '../datapath/index.ts';
import { ABI, formatMac, keyFromFrame, type Upcall } from '../datapath/index.ts';
import type { ReplyInputOf } from '../bus/index.ts';
import {
  applyGroupMod, Bridge, checkMeterRefs, formatActions, MeterError, formatFlowStats, formatMatch, formatTrace, FlowSyntaxError, OFPP,
  packetFromText, parseFlow, TableError, trace, undoable, W,
  type BridgeOptions, type BridgePort, type FlowMod, type GroupMod, type MacEntry, type PortConfig, type RemovedRule, type Rule,
} from '../ofproto/index.ts';
import { hiddenName } from '../netdev/index.ts';
import { Udpif, type Clock, type CoverageSink, type LimitHit, type Publish, type UdpifDatapath } from './udpif.ts';

/** The Datapath methods the runtime and its upcall path use (src/datapath's Datapath has them). */
export interface DatapathLike extends UdpifDatapath {
  openUpcalls(onBatch: (batch: Upcall[]) => void, maxBatch?: number, onError?: (err: Error) => void): { close(): void };
  listPorts(): Port[];
  portStats(portNo: number): PortStats;
  stats(): DpStats;
}

export const OFPP_LOCAL = OFPP.LOCAL;
export const DEFAULT_MAX_BATCH = 64;

export interface RuntimeOptions {
  datapath: DatapathLike;
  /** An existing ofproto bridge (else a new one named after the datapath, no flows). */
  bridge?: Bridge;
  bridgeOptions?: BridgeOptions;
  publish?: Publish;
  maxIdleMs?: number;
  flowLimit?: number;
  /** CLOCK_MONOTONIC, the clock of the datapath's usedNs (default: the process's). */
  clock?: Clock;
  /** Event counters (the daemon's coverage) and where limit hits are logged: see Udpif. */
  coverage?: CoverageSink;
  onLimit?: (hit: LimitHit) => void;
}

/** A flow-mod as the ofctl commands send it (ovs-ofctl text). */
export type FlowModCommand =
  | { op: 'add'; flows: string[] }
  | { op: 'modify'; flow: string; strict?: boolean }
  | { op: 'delete'; flow?: string; strict?: boolean };

/** What a change that needs revalidation returns: its count, and when the datapath follows. */
export interface Applied {
  count: number;
  /** Settles when the installed megaflows reflect the change (at once when count is 0). */
  revalidated: Promise<void>;
}

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
  /** The upcall path: handler, Ukeys, revalidation requests and counters. */
  readonly udpif: Udpif;
  /** The bridge's OpenFlow side, once its connection manager serves it (the datapath id it
   *  reports, other_config:datapath-id included). */
  openflow: { datapathIdHex(): string } | undefined;

  constructor(opts: RuntimeOptions) {
    this.datapath = opts.datapath;
    this.name = opts.bridge?.name ?? opts.datapath.name;
    const onMove = (_e: MacEntry): void => { void this.udpif.requestRevalidation(); };
    this.ofproto = opts.bridge ?? new Bridge(this.name, { ...opts.bridgeOptions, mac: { ...opts.bridgeOptions?.mac, onMove } });
    this.udpif = new Udpif({
      name: this.name, datapath: opts.datapath, ofproto: this.ofproto, publish: opts.publish,
      clock: opts.clock, maxIdleMs: opts.maxIdleMs, flowLimit: opts.flowLimit,
      coverage: opts.coverage, onLimit: opts.onLimit,
    });
  }

  // ---- ports (ofproto side; the port actor attaches the datapath) -------------------------

  /** Adds a port to the OpenFlow bridge. Datapath port = ofport unless c.dpPort says otherwise. */
  addPort(c: PortConfig): BridgePort {
    const p = this.ofproto.addPort({ ...c, dpPort: c.dpPort ?? c.ofport });
    void this.udpif.requestRevalidation();
    return p;
  }

  /** Removes a port (by name or ofport) from the OpenFlow bridge; false when absent. */
  removePort(nameOrOfport: string | number): boolean {
    const p = this.findPort(nameOrOfport);
    if (!p) return false;
    this.ofproto.removePort(p.ofport);
    void this.udpif.requestRevalidation();
    return true;
  }

  /** A port's link went up or down: fast failover and select groups may choose again. */
  setPortLink(name: string, up: boolean): void {
    if (this.ofproto.setLinkUp(name, up)) void this.udpif.requestRevalidation();
  }

  findPort(nameOrOfport: string | number): BridgePort | undefined {
    if (typeof nameOrOfport === 'number') return this.ofproto.ports.get(nameOrOfport);
    for (const p of this.ofproto.ports.values()) if (p.name === nameOrOfport) return p;
    return undefined;
  }

  // ---- lifetime -----------------------------------------------------------------------------

  private readonly closers: (() => void)[] = [];

  /** Runs `fn` when the runtime closes (an OpenFlow listener serving it, for one). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  /**
   * Closes what serves the runtime (onClose, newest first) and the datapath's fds; the
   * datapath stays pinned and forwarding. Safe to call twice; never throws.
   */
  close(): void {
    for (const fn of this.closers.splice(0).reverse()) {
      try { fn(); } catch { /* best effort: the rest must still close */ }
    }
    const dp = this.datapath as Partial<{ close(): void }>;
    try { dp.close?.(); } catch { /* closed already */ }
  }

  // ---- OpenFlow -----------------------------------------------------------------------------

  /**
   * One flow-mod already parsed (the OpenFlow channel's path; ofctl text comes through
   * flowMod). Asks for revalidation when it changed something; `revalidated` settles when the
   * installed megaflows follow.
   */
  applyFlowMod(op: 'add' | 'modify' | 'delete', fm: FlowMod, strict = false): Applied {
    const pl = this.ofproto.pipeline;
    let count: number;
    if (op === 'add') { pl.add(fm); count = 1; }
    else if (op === 'modify') count = pl.modify(fm, strict).length;
    else count = this.deleted(pl.delete(fm, strict));
    return { count, revalidated: count > 0 ? this.udpif.requestRevalidation() : Promise.resolve() };
  }

  /**
   * One group-mod (ofproto/group-mod.ts semantics; throws its GroupModError with nothing
   * changed). Deleting a group deletes the flows that use it; `count` counts groups changed
   * and flows deleted.
   */
  applyGroupMod(gm: GroupMod): Applied & { removedRules: Rule[] } {
    const r = applyGroupMod(this.ofproto.pipeline, gm);
    return { count: r.changed ? 1 + r.removedRules.length : 0, removedRules: r.removedRules,
      revalidated: r.changed ? this.udpif.requestRevalidation() : Promise.resolve() };
  }

  /**
   * Applies a flow-mod and asks for revalidation, so installed megaflows follow the new rules;
   * `revalidated` settles when they do. `add` with several flows is all or none: every line is
   * parsed and checked first. Errors are RuntimeErrors whose `field` is "flow" or "flows.N".
   */
  flowMod(c: FlowModCommand): Applied {
    let count: number;
    if (c.op === 'add') {
      const fms = c.flows.map((text, i) => parseOr(text, 'add', c.flows.length === 1 ? 'flow' : `flows.${i}`));
      fms.forEach((fm, i) => {
        for (const a of fm.actions) {
          if (a.type === 'goto_table' && a.table <= (fm.table ?? 0)) {
            throw new RuntimeError(`goto_table:${a.table} must name a table after table ${fm.table ?? 0}`, c.flows.length === 1 ? 'flow' : `flows.${i}`);
          }
        }
        this.checkMeters(fm, c.flows.length === 1 ? 'flow' : `flows.${i}`);
      });
      for (const fm of fms) this.ofproto.pipeline.add(fm);
      count = fms.length;
    } else if (c.op === 'modify') {
      const fm = parseOr(c.flow, 'add', 'flow');
      this.checkMeters(fm, 'flow');
      count = this.ofproto.pipeline.modify(fm, c.strict ?? false).length;
    } else {
      const fm = c.flow === undefined ? parseOr('', 'del', 'flow') : parseOr(c.flow, 'del', 'flow');
      count = this.deleted(this.ofproto.pipeline.delete(fm, c.strict ?? false));
    }
    return { count, revalidated: count > 0 ? this.udpif.requestRevalidation() : Promise.resolve() };
  }

  /** A flow naming a meter the bridge lacks is refused, as over OpenFlow (OFPMMFC_INVALID_METER). */
  private checkMeters(fm: FlowMod, field: string): void {
    try {
      checkMeterRefs(this.ofproto.meters, fm.actions);
    } catch (e) {
      if (e instanceof MeterError) throw new RuntimeError(e.message, field, { cause: e });
      throw e;
    }
  }

  /**
   * Runs `fn`'s flow-mods (applyFlowMod) as one change, an atomic bundle's commit: if it
   * throws, the tables are put back as they were (src/ofproto undoable) and nothing was told to
   * anyone; else the flow-removed it caused go out once it has returned. `count` is fn's.
   */
  atomically(fn: () => number): Applied {
    if (this.held) throw new RuntimeError('atomically: already inside a change');
    const held: RemovedRule[] = (this.held = []);
    let count: number;
    try { count = undoable(this.ofproto.pipeline, fn); } finally { this.held = undefined; }
    if (held.length > 0) this.udpif.sinks.rulesRemoved?.(held);
    return { count, revalidated: count > 0 ? this.udpif.requestRevalidation() : Promise.resolve() };
  }

  /** Flow-removed held back while inside atomically(). */
  private held: RemovedRule[] | undefined;

  /** Tells the OpenFlow connections (flow-removed) of rules a delete removed; their count. */
  private deleted(removed: RemovedRule[]): number {
    if (this.held) this.held.push(...removed);
    else if (removed.length > 0) this.udpif.sinks.rulesRemoved?.(removed);
    return removed.length;
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

  /** fdb/flush for this bridge: the number of entries removed, and when megaflows follow. */
  fdbFlush(): Applied {
    const n = this.ofproto.mac.size;
    for (const p of [...this.ofproto.ports.keys()]) this.ofproto.mac.flushPort(p);
    // Entries on ports since removed are flushed too.
    for (const e of [...this.ofproto.mac]) this.ofproto.mac.flushPort(e.port);
    return { count: n, revalidated: n > 0 ? this.udpif.requestRevalidation() : Promise.resolve() };
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
    const u = this.udpif, h = u.handler, r = u.revalidator;
    return {
      flows: { current: r.lastFlows, average: Math.round(r.avgFlows), max: r.maxFlows, limit: u.flowLimit },
      dump_duration_ms: r.lastDumpMs,
      max_idle_ms: u.maxIdleMs,
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
}

function parseOr(text: string, mode: 'add' | 'del', field: string): FlowMod {
  try {
    return parseFlow(text, mode);
  } catch (e) {
    if (e instanceof FlowSyntaxError || e instanceof TableError) throw new RuntimeError(e.message, field, { cause: e });
    throw e;
  }
}
