/**
 * OfSwitch: a bridge as an OpenFlow switch (OVS: ofproto.c's handle_openflow, and connmgr.c's
 * per-connection state). It answers the messages of every OpenFlow connection of one bridge,
 * reading and changing the same BridgeRuntime that `bvs ofctl` over NATS uses: one set of
 * tables, so a change through either path is seen through the other.
 *
 * Order: an OpenFlow switch may reorder nothing across a barrier. Each connection's messages
 * are handled one at a time in arrival order (a queue); a handler that returns a promise holds
 * the queue until it settles. A barrier is answered once every message before it has changed
 * the tables, as OVS answers it: the datapath follows within a revalidation pass (requested by
 * each change at once, a few milliseconds). Waiting for that pass made every barrier cost a
 * pass, and ovs-ofctl sends one after each flow-mod (add-flows ran at one pass per flow).
 *
 * Invariant: a message is either applied whole or refused with an OfpError (answered with
 * OFPT_ERROR by the connection); nothing half-applied. Errors of other kinds are defects:
 * logged by the caller (onDefect), answered with OFPBRC_EPERM, and the switch keeps serving.
 */
import { OFPP, type Bridge } from '../ofproto/index.ts';
import {
  decodeFlowMod, decodeNxFlowMod, OFP10, OFP14, OfpError, OFPP_ANY, OFPCR_ROLE, portFrom10, portTo10, type Decoded, type FlowModMsg,
  type OfConn, type OfpPort, type PortStats,
} from '../openflow/index.ts';
import { aggregateStats, applyFlowMod, flowStats } from './flows.ts';
import { flowRemovedFor, packetInFor, portStatusFor } from './async.ts';
import { packetOut } from './packet-out.ts';
import { resume } from './resume.ts';
import { asyncConfig, newSession, wantsImplicitMiss, type Limiter, type Session } from './session.ts';
import type { PacketIn } from '../vswitch/index.ts';
import type { RemovedRule } from '../ofproto/index.ts';
import { groupDescs, groupFeatures, groupMod, groupStats } from './groups.ts';
import { N_TABLES, tableFeatures, tableStats } from './tables.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import { datapathIdOf, describePort } from './ports.ts';
import { checkFlowMeters, meterConfigs, meterFeatures, meterMod, meterStats, type MeterDatapath } from './meters.ts';
import { bundleAdd, bundleControl } from './bundles.ts';
import { FlowMonitors } from './monitor.ts';
import { bridgeConfig, portMod } from './portmod.ts';

/** What the switch needs of a runtime (BridgeRuntime has it). */
export type SwitchRuntime = Pick<BridgeRuntime, 'name' | 'ofproto' | 'findPort' | 'applyFlowMod' | 'atomically' | 'applyGroupMod'> & {
  udpif: Pick<BridgeRuntime['udpif'], 'requestRevalidation'>;
  datapath: Pick<BridgeRuntime['datapath'], 'portStats' | 'execute'> & Partial<MeterDatapath>;
};

export interface SwitchInfo {
  /** Software version for the desc reply. */
  version: string;
  /** other_config:datapath-id when set (16 hex digits), else derived from the bridge MAC. */
  datapathId?: bigint;
  /** Called when connections come, go or change what they ask for (the connection manager
   *  recomputes whether table misses go to controllers). */
  onSessions?: () => void;
}

/** ofp_controller_role_reason: another controller asked to be master. */
const OFPCRR_MASTER_REQUEST = 0;
/** Messages a slave may not send (OpenFlow 1.3 §6.3.6): they change the switch. */
const CHANGES_STATE: ReadonlySet<string> = new Set([
  'flow_mod', 'nx_flow_mod', 'packet_out', 'group_mod', 'port_mod', 'table_mod', 'meter_mod', 'bundle_control', 'bundle_add_message',
]);
const CAPABILITIES_10 = 0x1 | 0x2 | 0x4 | 0x80;
const CAPABILITIES_11 = 0x1 | 0x2 | 0x4 | 0x8;
/** 1.0 OFPAT_* bitmap: output, set_vlan_vid/pcp, strip_vlan, set_dl_src/dst, set_nw_src/dst/tos, set_tp_src/dst. */
const ACTIONS_10 = 0x7ff;

export class OfSwitch {
  private readonly sessions = new Map<OfConn, Session>();
  private readonly monitors = new FlowMonitors(() => this.runtime.ofproto.pipeline);
  private generationId: bigint | undefined;
  readonly started = Date.now();

  constructor(readonly runtime: SwitchRuntime, readonly info: SwitchInfo) {}

  get bridge(): Bridge {
    return this.runtime.ofproto;
  }

  /**
   * A new connection: its messages go through this switch from now on. A service connection
   * (the management socket, ovs-ofctl) starts with miss_send_len 0 and a controller's
   * ('primary') with 128, as OVS's connmgr does: packet-ins go to controllers unless asked.
   */
  attach(conn: OfConn, type: 'service' | 'primary' = 'service', limiter?: Limiter, asyncOff = false): void {
    this.sessions.set(conn, newSession(conn, type, limiter, asyncOff));
    this.info.onSessions?.();
  }

  detach(conn: OfConn): void {
    const s = this.sessions.get(conn);
    if (s) this.monitors.forget(s);
    if (this.sessions.delete(conn)) this.info.onSessions?.();
  }

  /** The connection's OFPCR_ROLE (EQUAL when unknown). */
  roleOf(conn: OfConn): number {
    return this.sessions.get(conn)?.role ?? OFPCR_ROLE.EQUAL;
  }

  /** Whether a connection wants table misses (OpenFlow 1.0 controllers: session.ts). */
  wantsMisses(): boolean {
    for (const s of this.sessions.values()) if (wantsImplicitMiss(s)) return true;
    return false;
  }

  /** Whether any controller ('primary') connection has completed hello. */
  hasController(): boolean {
    for (const s of this.sessions.values()) if (s.type === 'primary' && s.conn.version !== undefined && !s.conn.closed) return true;
    return false;
  }

  // ---- asynchronous messages (async.ts builds them per connection) -------------------------

  packetIn(pi: PacketIn): void {
    for (const s of this.sessions.values()) {
      const m = packetInFor(s, pi);
      if (m) s.conn.send(m, 0);
    }
  }

  rulesRemoved(removed: readonly RemovedRule[]): void {
    const now = this.bridge.now();
    for (const r of removed) {
      if (!r.rule.sendFlowRem) continue;
      for (const s of this.sessions.values()) {
        const m = flowRemovedFor(s, r, now);
        if (m) s.conn.send(m, 0);
      }
    }
  }

  portStatus(changes: readonly { reason: number; port: OfpPort }[]): void {
    for (const c of changes) {
      for (const s of this.sessions.values()) {
        const m = portStatusFor(s, c.reason, c.port);
        if (m) s.conn.send(m, 0);
      }
    }
  }

  get connections(): number {
    return this.sessions.size;
  }

  /** OfConn's onMessage: queues the message; handled in order (see the design note). */
  receive(d: Decoded, conn: OfConn, frame: Uint8Array): void {
    const s = this.sessions.get(conn);
    if (!s) return;
    s.queue.push({ d, frame });
    if (!s.busy) void this.drain(s);
  }

  private async drain(s: Session): Promise<void> {
    s.busy = true;
    while (s.queue.length > 0 && !s.conn.closed) {
      const { d, frame } = s.queue.shift()!;
      try {
        const wait = this.monitors.during(s, d.xid, () => this.handle(d, s));
        if (wait) await wait;
      } catch (err) {
        // OFPT_ERROR with the message's first bytes; a non-OfpError is a defect, reported.
        s.conn.sendError(err, d.xid, frame);
      }
    }
    s.busy = false;
  }


  /** Handles one message; returns a promise when the queue must wait for it. */
  private handle(d: Decoded, s: Session): Promise<void> | void {
    const { msg, xid, version } = d;
    const c = s.conn;
    if (s.role === OFPCR_ROLE.SLAVE && CHANGES_STATE.has(msg.kind)) {
      throw new OfpError('OFPBRC_IS_SLAVE', `${msg.kind} from a slave controller`);
    }
    switch (msg.kind) {
      case 'features_request':
        c.send({
          kind: 'features_reply', datapathId: this.datapathId(), nBuffers: 0, nTables: N_TABLES, auxiliaryId: 0,
          capabilities: version === OFP10 ? CAPABILITIES_10 : CAPABILITIES_11, actions: version === OFP10 ? ACTIONS_10 : 0,
          ports: version === OFP10 ? this.ports() : [],
        }, xid);
        return;
      case 'get_config_request':
        c.send({ kind: 'get_config_reply', flags: s.flags, missSendLen: s.missSendLen }, xid);
        return;
      case 'set_config':
        s.flags = msg.flags;
        s.missSendLen = msg.missSendLen;
        this.info.onSessions?.();
        return;
      case 'desc_request':
        c.send({
          kind: 'desc_reply', mfrDesc: 'bvs', hwDesc: 'bvs (eBPF TC datapath)', swDesc: this.info.version,
          serialNum: 'None', dpDesc: 'None',
        }, xid);
        return;
      case 'port_desc_request': {
        const ports = this.ports().filter((p) => msg.portNo === OFPP_ANY || p.portNo === msg.portNo);
        c.sendReplies({ kind: 'port_desc_reply', ports }, xid);
        return;
      }
      case 'port_stats_request':
        c.sendReplies({ kind: 'port_stats_reply', stats: this.portStats(msg.portNo) }, xid);
        return;
      case 'table_stats_request':
        c.sendReplies({ kind: 'table_stats_reply', tables: tableStats(this.bridge.pipeline) }, xid);
        return;
      case 'table_features_request':
        // A request that carries tables asks to change them: bvs's tables are fixed.
        if (msg.tables.length > 0) throw new OfpError('OFPTFFC_EPERM', 'table features cannot be changed');
        c.sendReplies({ kind: 'table_features_reply', tables: tableFeatures() }, xid);
        return;
      case 'barrier_request':
        // Everything before it in this connection's queue is applied (handled in order).
        c.send({ kind: 'barrier_reply' }, xid);
        return;
      case 'flow_mod':
        this.flowMod(s, version, decodeFlowMod(version, msg.body, { tableIdExt: s.tableIdExt }));
        return;
      case 'nx_flow_mod':
        this.flowMod(s, version, decodeNxFlowMod(version, msg.body, { tableIdExt: s.tableIdExt }));
        return;
      case 'flow_stats_request':
        c.sendReplies({ kind: 'flow_stats_reply', flows: flowStats(this.runtime, msg, this.bridge.now()) }, xid);
        return;
      case 'nx_flow_stats_request':
        c.sendReplies({ kind: 'nx_flow_stats_reply', flows: flowStats(this.runtime, msg, this.bridge.now()) }, xid);
        return;
      case 'aggregate_request':
        c.send({ kind: 'aggregate_reply', ...aggregateStats(this.runtime, msg) }, xid);
        return;
      case 'nx_aggregate_request':
        c.send({ kind: 'nx_aggregate_reply', ...aggregateStats(this.runtime, msg) }, xid);
        return;
      case 'meter_mod':
        meterMod(this.runtime, msg);
        return;
      case 'meter_stats_request':
        c.sendReplies({ kind: 'meter_stats_reply', meters: meterStats(this.runtime, msg.id) }, xid);
        return;
      case 'meter_config_request':
        c.sendReplies({ kind: 'meter_config_reply', meters: meterConfigs(this.runtime, msg.id) }, xid);
        return;
      case 'meter_features_request':
        c.send({ kind: 'meter_features_reply', ...meterFeatures(this.runtime) }, xid);
        return;
      case 'group_mod':
        groupMod(this.runtime, msg);
        return;
      case 'group_stats_request': c.sendReplies({ kind: 'group_stats_reply', groups: groupStats(this.runtime, msg.id) }, xid); return;
      case 'group_desc_request': c.sendReplies({ kind: 'group_desc_reply', groups: groupDescs(this.runtime, msg.id) }, xid); return;
      case 'group_features_request': c.send({ kind: 'group_features_reply', ...groupFeatures(version) }, xid); return;
      case 'nx_flow_mod_table_id':
        s.tableIdExt = msg.enable;
        return;
      case 'role_request':
        c.send({ kind: 'role_reply', ...this.changeRole(s, msg.role, msg.generationId) }, xid);
        return;
      case 'nx_set_flow_format':
        // Accepted: every flow message is decoded by its own format.
        return;
      case 'nx_set_packet_in_format':
        if (msg.format === 1) throw new OfpError('OFPBRC_EPERM', 'the NXT_PACKET_IN format is not supported: use standard or NXT_PACKET_IN2');
        s.packetInFormat = msg.format;
        return;
      case 'nx_set_controller_id':
        s.controllerId = msg.controllerId;
        return;
      case 'set_async': case 'nx_set_async_config':
        s.async = { master: { ...asyncConfig(s).master, ...msg.master }, slave: { ...asyncConfig(s).slave, ...msg.slave } };
        this.info.onSessions?.();
        return;
      case 'get_async_request':
        c.send({ kind: 'get_async_reply', ...asyncConfig(s) }, xid);
        return;
      case 'packet_out':
        packetOut(this.runtime, msg, (pi) => this.packetIn(pi));
        return;
      case 'nx_resume': resume(this.runtime, msg, (pi) => this.packetIn(pi)); return;
      case 'bundle_control':
        return bundleControl(this.runtime, s, d, msg);
      case 'bundle_add_message':
        return bundleAdd(s, d, msg);
      case 'port_mod':
        return portMod(this.runtime, msg, version);
      case 'nx_flow_monitor_request':
        return this.monitors.request(s, xid, msg.monitors);
      case 'nx_flow_monitor_cancel':
        return this.monitors.cancel(s, msg.id);
      case 'echo_reply': case 'hello': case 'error':
        return;
      case 'nx_tlv_table_request':
        throw new OfpError('NXR_NOT_SUPPORTED', 'no Geneve TLV table: bvs has no Geneve tunnels yet');
      default:
        throw new OfpError('OFPBRC_BAD_TYPE', `${msg.kind} is not supported by bvs yet`);
    }
  }

  private flowMod(s: Session, version: Decoded['version'], m: FlowModMsg): void {
    checkFlowMeters(this.runtime, m);
    applyFlowMod(this.runtime, version, m);
  }

  /** The datapath id as Bridge.datapath_id shows it: 16 hex digits. */
  datapathIdHex(): string {
    return this.datapathId().toString(16).padStart(16, '0');
  }

  private datapathId(): bigint {
    return this.info.datapathId ?? datapathIdOf(this.runtime.findPort(OFPP.LOCAL));
  }

  private ports() {
    return this.bridge.sortedPorts().map((p) => describePort(p, bridgeConfig(this.bridge, p)));
  }

  private portStats(portNo: number): PortStats[] {
    const want = portNo === OFPP_ANY ? undefined : portTo10(portNo);
    const ports = this.bridge.sortedPorts().filter((p) => want === undefined || p.ofport === want);
    if (want !== undefined && ports.length === 0) throw new OfpError('OFPBRC_BAD_PORT', `no port ${want} on bridge ${this.runtime.name}`);
    const up = Date.now() - this.started;
    return ports.map((p) => {
      const st = this.runtime.datapath.portStats(p.dpPort);
      return {
        portNo: portFrom10(p.ofport), rxPackets: BigInt(st.rxPackets), txPackets: BigInt(st.txPackets),
        rxBytes: BigInt(st.rxBytes), txBytes: BigInt(st.txBytes), rxDropped: BigInt(st.rxDropped), txDropped: BigInt(st.txDropped),
        rxErrors: 0n, txErrors: 0n, rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n, collisions: 0n,
        durationSec: Math.floor(up / 1000), durationNsec: (up % 1000) * 1_000_000,
      };
    });
  }

  /** OpenFlow 1.2+ roles (§6.3.6): a stale generation id for master/slave is refused. */
  private changeRole(s: Session, role: number, generationId: bigint): { role: number; generationId: bigint } {
    if (role === OFPCR_ROLE.NOCHANGE) return { role: s.role, generationId: this.generationId ?? 0xffffffffffffffffn };
    if (role === OFPCR_ROLE.MASTER || role === OFPCR_ROLE.SLAVE) {
      if (this.generationId !== undefined && BigInt.asIntN(64, generationId - this.generationId) < 0n) {
        throw new OfpError('OFPRRFC_STALE', `generation id ${generationId} is older than ${this.generationId}`);
      }
      this.generationId = generationId;
    } else if (role !== OFPCR_ROLE.EQUAL) {
      throw new OfpError('OFPRRFC_BAD_ROLE', `role ${role}`);
    }
    // A new master demotes the old one (§6.3.6).
    if (role === OFPCR_ROLE.MASTER) {
      for (const o of this.sessions.values()) {
        if (o === s || o.role !== OFPCR_ROLE.MASTER) continue;
        o.role = OFPCR_ROLE.SLAVE;
        // OpenFlow 1.4+ tells the demoted master (OFPCRR_MASTER_REQUEST), as OVS does.
        if ((o.conn.version ?? 0) >= OFP14) {
          o.conn.send({ kind: 'role_status', role: OFPCR_ROLE.SLAVE, reason: OFPCRR_MASTER_REQUEST, generationId: this.generationId ?? 0n }, 0);
        }
      }
    }
    s.role = role;
    this.info.onSessions?.();
    return { role, generationId: this.generationId ?? 0xffffffffffffffffn };
  }
}

