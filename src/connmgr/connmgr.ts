/**
 * The connection manager of one bridge (OVS connmgr.c, fail-open.c): the bridge's OpenFlow
 * switch, its management socket (RUN/BR.mgmt), and a service per Controller row.
 *
 * Default flows and fail mode, as OVS:
 * - With no controller and fail_mode standalone the tables hold `priority=0,actions=NORMAL`;
 *   with fail_mode secure they start empty ("flushed", below).
 * - When the bridge gains its first controller or loses its last, and when the fail mode
 *   changes with no controller, every flow is deleted and the default is put back (flush).
 * - Standalone with controllers ("fail open"): once no controller has been connected for three
 *   times the longest inactivity probe, the tables are flushed and a hidden flow (priority
 *   0xf0f0f0, above any OpenFlow priority, not shown by dump-flows) sends everything to NORMAL;
 *   the first controller to connect again removes it. Secure never does: its flows stay and
 *   it never floods on its own.
 *
 * Other duties: packet-ins and removed rules reach the switch's connections in process
 * (Udpif sinks; per-packet work never crosses NATS); port changes are seen by polling the
 * ports' descriptions each second (add, delete, and link/admin changes alike) and sent as
 * port-status; table misses go to controllers while an OpenFlow 1.0 controller wants them.
 * Time is injected (ConnTimers for timers, Clock for rate limits).
 */
import { parseFlow, type BridgePort } from '../ofproto/index.ts';
import { systemTimers, SUPPORTED_VERSIONS, type ConnTimers, type OfpPort, type OfpVersion } from '../openflow/index.ts';
import { systemClock, type BridgeRuntime, type Clock } from '../vswitch/index.ts';
import { portChanges } from './async.ts';
import { MgmtListener } from './mgmt.ts';
import { describePort } from './ports.ts';
import { bridgeConfig } from './portmod.ts';
import { OfService, type ServiceConfig, type ServiceStatus } from './service.ts';
import { OfSwitch } from './switch.ts';
import { isPassive } from './target.ts';

/** OVS FAIL_OPEN_PRIORITY: above every OpenFlow priority, so the flow is hidden. */
export const FAIL_OPEN_PRIORITY = 0xf0f0f0;
const TICK_MS = 1000;

export interface ControllerSpec extends ServiceConfig {
  /** The Controller row, for status write-back. */
  uuid: string;
}

export interface ConnMgrConfig {
  controllers: ControllerSpec[];
  failMode: 'standalone' | 'secure';
  versions: OfpVersion[];
  datapathId?: bigint;
}

export interface ConnMgrOptions {
  runDir: string;
  software: string;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  onMgmtReject?: () => void;
  /** Controller connection state changed: write Controller status (the caller coalesces). */
  onStatus?: () => void;
  timers?: ConnTimers;
  clock?: Clock;
}

export type ConnMgrRuntime = Pick<BridgeRuntime, 'name' | 'ofproto' | 'findPort' | 'applyFlowMod' | 'applyGroupMod' | 'atomically' | 'datapath' | 'udpif'>;

export class ConnMgr {
  readonly sw: OfSwitch;
  private readonly services = new Map<string, { uuid: string; fp: string; svc: OfService }>();
  private cfg: ConnMgrConfig = { controllers: [], failMode: 'standalone', versions: [...SUPPORTED_VERSIONS] };
  private mgmt: MgmtListener | undefined;
  private readonly timers: ConnTimers;
  private tickTimer: unknown;
  private ports = new Map<number, OfpPort>();
  /** Last time a controller was connected (or controllers were first configured). */
  private lastAdmitted: number;
  private failOpen = false;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly rt: ConnMgrRuntime, private readonly o: ConnMgrOptions) {
    this.timers = o.timers ?? systemTimers;
    this.lastAdmitted = this.timers.now();
    this.sw = new OfSwitch(rt, { version: o.software, onSessions: () => this.sessionsChanged() });
    rt.udpif.sinks.packetIn = (pi) => this.sw.packetIn(pi);
    rt.udpif.sinks.rulesRemoved = (rs) => this.sw.rulesRemoved(rs);
  }

  /** Serves BR.mgmt and the configured controllers; puts the default flow in place. */
  static async open(rt: ConnMgrRuntime, cfg: ConnMgrConfig, o: ConnMgrOptions): Promise<ConnMgr> {
    const m = new ConnMgr(rt, o);
    m.cfg = { ...cfg, controllers: [] };
    m.sw.info.datapathId = cfg.datapathId;
    m.flushed();
    m.mgmt = await MgmtListener.open(m.sw, {
      runDir: o.runDir, allowed: () => m.cfg.versions, log: o.log, onReject: o.onMgmtReject,
    });
    m.ports = m.portSnapshot();
    await m.configure(cfg);
    m.arm();
    return m;
  }

  /**
   * Applies a new configuration: controllers added/removed/changed, fail mode, versions.
   * Calls run one after another (each waits for the one before), in the order made.
   */
  configure(cfg: ConnMgrConfig): Promise<void> {
    const next = this.chain.then(() => this.apply(cfg));
    this.chain = next.catch(() => {});
    return next;
  }

  private async apply(cfg: ConnMgrConfig): Promise<void> {
    if (this.closed) return;
    const changed = fingerprintAll(cfg) !== fingerprintAll(this.cfg) || cfg.controllers.some((c) => this.services.get(c.text)?.uuid !== c.uuid);
    if (!changed) return;
    const had = this.services.size > 0;
    const oldMode = this.cfg.failMode;
    this.cfg = cfg;
    this.sw.info.datapathId = cfg.datapathId;
    const want = new Map(cfg.controllers.map((c) => [c.text, c]));
    for (const [text, e] of this.services) {
      const c = want.get(text);
      if (c && fingerprint(c) === e.fp) { e.uuid = c.uuid; continue; }
      this.services.delete(text);
      this.o.log('info', `removed ${e.svc.passive ? 'service' : 'primary'} controller "${text}"`);
      await e.svc.close();
    }
    const started: Promise<void>[] = [];
    for (const c of cfg.controllers) {
      if (this.services.has(c.text)) continue;
      const svc = new OfService(c, {
        sw: this.sw, versions: () => this.cfg.versions, timers: this.timers, clock: this.o.clock ?? systemClock,
        log: this.o.log, onChange: () => this.serviceChanged(),
      });
      this.services.set(c.text, { uuid: c.uuid, fp: fingerprint(c), svc });
      this.o.log('info', `added ${isPassive(c.target) ? 'service' : 'primary'} controller "${c.text}"`);
      started.push(svc.start());
    }
    await Promise.all(started);
    const has = this.services.size > 0;
    if (has && !had) this.lastAdmitted = this.timers.now();
    if (had !== has || (!has && oldMode !== cfg.failMode)) this.flush();
    if (this.failOpen && (cfg.failMode === 'secure' || !has)) this.recover();
    this.o.onStatus?.();
  }

  /** Controller row uuid -> its connection status. */
  controllerStatus(): Map<string, ServiceStatus> {
    const out = new Map<string, ServiceStatus>();
    for (const e of this.services.values()) out.set(e.uuid, e.svc.status());
    return out;
  }

  get failOpenActive(): boolean {
    return this.failOpen;
  }

  /** The service of a target (tests read a ptcp:0 service's bound port). */
  service(text: string): OfService | undefined {
    return this.services.get(text)?.svc;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer);
    this.rt.udpif.sinks.packetIn = undefined;
    this.rt.udpif.sinks.rulesRemoved = undefined;
    await Promise.all([...this.services.values()].map((e) => e.svc.close()));
    this.services.clear();
    await this.mgmt?.close();
  }

  // ---- fail mode --------------------------------------------------------------------------

  /** Deletes every flow, then puts back what the mode wants (ofproto_flush_flows). */
  private flush(): void {
    this.rt.applyFlowMod('delete', parseFlow('', 'del'), false);
    if (this.failOpen) this.deleteFailOpenFlow();
    this.failOpen = false;
    this.flushed();
  }

  private deleteFailOpenFlow(): void {
    const fm = parseFlow('priority=0', 'del');
    fm.priority = FAIL_OPEN_PRIORITY;
    this.rt.applyFlowMod('delete', fm, true);
  }

  /** connmgr_flushed: the NORMAL flow of a standalone bridge without controllers. */
  private flushed(): void {
    if (this.services.size === 0 && this.cfg.failMode === 'standalone') {
      this.rt.applyFlowMod('add', parseFlow('priority=0,actions=NORMAL'));
    }
  }

  private serviceChanged(): void {
    if (this.closed) return;
    if (this.anyConnected()) {
      this.lastAdmitted = this.timers.now();
      if (this.failOpen) this.recover();
    }
    this.o.onStatus?.();
  }

  private anyConnected(): boolean {
    for (const e of this.services.values()) if (e.svc.connected) return true;
    return false;
  }

  private recover(): void {
    this.failOpen = false;
    this.deleteFailOpenFlow();
    this.o.log('warn', 'No longer in fail-open mode');
  }

  private tick(): void {
    this.checkFailOpen();
    this.checkPorts();
  }

  private checkFailOpen(): void {
    if (this.cfg.failMode !== 'standalone' || this.services.size === 0) return;
    const now = this.timers.now();
    if (this.anyConnected()) { this.lastAdmitted = now; return; }
    const probeS = Math.max(0, ...[...this.services.values()].map((e) => Math.floor(e.svc.cfg.probeMs / 1000)));
    const disconnS = Math.floor((now - this.lastAdmitted) / 1000);
    if (this.failOpen || disconnS <= 0 || disconnS < 3 * probeS) return;
    this.o.log('warn', `Could not connect to controller for ${disconnS} seconds, failing open`);
    this.flush();
    this.failOpen = true;
    const fm = parseFlow('priority=0,actions=NORMAL');
    fm.priority = FAIL_OPEN_PRIORITY;
    this.rt.applyFlowMod('add', fm);
  }

  // ---- ports and misses ----------------------------------------------------------------------

  private portSnapshot(): Map<number, OfpPort> {
    const out = new Map<number, OfpPort>();
    for (const p of this.rt.ofproto.ports.values() as Iterable<BridgePort>) out.set(p.ofport, describePort(p, bridgeConfig(this.rt.ofproto, p)));
    return out;
  }

  private checkPorts(): void {
    const now = this.portSnapshot();
    const changes = portChanges(this.ports, now);
    this.ports = now;
    if (changes.length > 0) this.sw.portStatus(changes);
  }

  /** Connections came, went, or changed role or async config. */
  private sessionsChanged(): void {
    this.rt.ofproto.missToController = this.sw.wantsMisses();
    if (!this.closed) this.o.onStatus?.();
  }

  private arm(): void {
    if (this.closed) return;
    this.tickTimer = this.timers.setTimeout(() => {
      try { this.tick(); } catch (err) { this.o.log('warn', 'connection manager tick failed', { err }); }
      this.arm();
    }, TICK_MS);
  }
}

function fingerprint(c: ControllerSpec): string {
  return JSON.stringify([c.target, c.maxBackoffMs, c.probeMs, c.rateLimit, c.enableAsync]);
}

function fingerprintAll(c: ConnMgrConfig): string {
  return JSON.stringify([c.controllers.map((x) => [x.text, fingerprint(x)]), c.failMode, c.versions, c.datapathId?.toString()]);
}

