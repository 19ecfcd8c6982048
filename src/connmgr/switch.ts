/**
 * OfSwitch: a bridge as an OpenFlow switch (OVS: ofproto.c's handle_openflow, and connmgr.c's
 * per-connection state). It answers the messages of every OpenFlow connection of one bridge,
 * reading and changing the same BridgeRuntime that `bvs ofctl` over NATS uses: one set of
 * tables, so a change through either path is seen through the other.
 *
 * Order: an OpenFlow switch may reorder nothing across a barrier. Each connection's messages
 * are handled one at a time in arrival order (a queue); a handler that must wait (a barrier,
 * for the revalidations its flow-mods asked for) holds the queue until it is done, so every
 * reply after it is also after the change is live in the datapath.
 *
 * Invariant: a message is either applied whole or refused with an OfpError (answered with
 * OFPT_ERROR by the connection); nothing half-applied. Errors of other kinds are defects:
 * logged by the caller (onDefect), answered with OFPBRC_EPERM, and the switch keeps serving.
 */
import { OFPP, type Bridge } from '../ofproto/index.ts';
import {
  decodeFlowMod, decodeNxFlowMod, OFP10, OfpError, OFPP_ANY, OFPCR_ROLE, portFrom10, portTo10, type Decoded, type FlowModMsg,
  type OfConn, type PortStats,
} from '../openflow/index.ts';
import { aggregateStats, applyFlowMod, flowStats } from './flows.ts';
import { groupDescs, groupFeatures, groupMod, groupStats } from './groups.ts';
import { N_TABLES, tableFeatures, tableStats } from './tables.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import { datapathIdOf, describePort } from './ports.ts';

/** What the switch needs of a runtime (BridgeRuntime has it). */
export type SwitchRuntime = Pick<BridgeRuntime, 'name' | 'ofproto' | 'findPort' | 'applyFlowMod' | 'applyGroupMod'> & {
  datapath: Pick<BridgeRuntime['datapath'], 'portStats'>;
};

export interface SwitchInfo {
  /** Software version for the desc reply. */
  version: string;
  /** other_config:datapath-id when set (16 hex digits), else derived from the bridge MAC. */
  datapathId?: bigint;
}

/** Longest a barrier waits for the datapath to follow earlier flow-mods (then it replies). */
export const BARRIER_WAIT_MS = 5_000;
/** OVS's OFP_DEFAULT_MISS_SEND_LEN. */
const DEFAULT_MISS_SEND_LEN = 128;
/** OFPC_FLOW_STATS | TABLE_STATS | PORT_STATS, plus ARP_MATCH_IP (1.0) or GROUP_STATS (1.1+). */
const CAPABILITIES_10 = 0x1 | 0x2 | 0x4 | 0x80;
const CAPABILITIES_11 = 0x1 | 0x2 | 0x4 | 0x8;
/** 1.0 OFPAT_* bitmap: output, set_vlan_vid/pcp, strip_vlan, set_dl_src/dst, set_nw_src/dst/tos, set_tp_src/dst. */
const ACTIONS_10 = 0x7ff;

/** Per-connection OpenFlow state (connmgr's ofconn). */
interface Session {
  conn: OfConn;
  flags: number;
  missSendLen: number;
  role: number;
  /** NXT_FLOW_MOD_TABLE_ID: 1.0/Nicira flow-mods carry a table id in their command's high byte. */
  tableIdExt: boolean;
  /**
   * The revalidation the latest flow-mod since the last barrier asked for. One is enough: a
   * request settles after a pass that started after it, which is after every earlier request.
   */
  pending: Promise<void> | undefined;
  queue: { d: Decoded; frame: Uint8Array }[];
  busy: boolean;
}

export class OfSwitch {
  private readonly sessions = new Map<OfConn, Session>();
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
  attach(conn: OfConn, type: 'service' | 'primary' = 'service'): void {
    const missSendLen = type === 'primary' ? DEFAULT_MISS_SEND_LEN : 0;
    this.sessions.set(conn, { conn, flags: 0, missSendLen, role: OFPCR_ROLE.EQUAL, tableIdExt: false, pending: undefined, queue: [], busy: false });
  }

  detach(conn: OfConn): void {
    this.sessions.delete(conn);
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
        const wait = this.handle(d, s);
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
        // Everything before it in this connection's queue is applied (handled in order); the
        // reply also waits for the datapath to follow those flow-mods.
        return this.barrier(s, xid);
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
      case 'group_mod': {
        const done = groupMod(this.runtime, msg);
        if (done.count > 0) s.pending = done.revalidated;
        return;
      }
      case 'group_stats_request': c.sendReplies({ kind: 'group_stats_reply', groups: groupStats(this.runtime, msg.id) }, xid); return;
      case 'group_desc_request': c.sendReplies({ kind: 'group_desc_reply', groups: groupDescs(this.runtime, msg.id) }, xid); return;
      case 'group_features_request': c.send({ kind: 'group_features_reply', ...groupFeatures(version) }, xid); return;
      case 'nx_flow_mod_table_id':
        s.tableIdExt = msg.enable;
        return;
      case 'role_request':
        c.send({ kind: 'role_reply', ...this.changeRole(s, msg.role, msg.generationId) }, xid);
        return;
      case 'nx_set_flow_format': case 'nx_set_packet_in_format': case 'nx_set_controller_id':
      case 'set_async': case 'nx_set_async_config':
        // Accepted; they shape later messages of this connection (flow formats are decoded per
        // message, packet-ins are not sent on the management socket yet).
        return;
      case 'echo_reply': case 'hello': case 'error':
        return;
      case 'nx_tlv_table_request':
        throw new OfpError('NXR_NOT_SUPPORTED', 'no Geneve TLV table: bvs has no Geneve tunnels yet');
      default:
        throw new OfpError('OFPBRC_BAD_TYPE', `${msg.kind} is not supported by bvs yet`);
    }
  }

  private flowMod(s: Session, version: Decoded['version'], m: FlowModMsg): void {
    const done = applyFlowMod(this.runtime, version, m);
    if (done.count > 0) s.pending = done.revalidated;
  }

  private async barrier(s: Session, xid: number): Promise<void> {
    const pending = s.pending;
    s.pending = undefined;
    if (pending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pending, new Promise((r) => { timer = setTimeout(r, BARRIER_WAIT_MS); })]);
      clearTimeout(timer);
    }
    s.conn.send({ kind: 'barrier_reply' }, xid);
  }

  private datapathId(): bigint {
    return this.info.datapathId ?? datapathIdOf(this.runtime.findPort(OFPP.LOCAL));
  }

  private ports() {
    return this.bridge.sortedPorts().map(describePort);
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
    if (role === OFPCR_ROLE.MASTER) for (const o of this.sessions.values()) if (o !== s && o.role === OFPCR_ROLE.MASTER) o.role = OFPCR_ROLE.SLAVE;
    s.role = role;
    return { role, generationId: this.generationId ?? 0xffffffffffffffffn };
  }
}

