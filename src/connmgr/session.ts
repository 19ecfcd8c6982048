/**
 * One OpenFlow connection's state in the switch (OVS connmgr.c's struct ofconn): its kind,
 * role, flow-mod and packet-in formats, the asynchronous messages it wants, and the queue that
 * keeps its messages in order (switch.ts).
 *
 * Asynchronous messages (OpenFlow 1.3 §6.1.1, as OVS's ofputil_async_cfg_default): a master or
 * equal controller gets packet-ins for a miss and the controller action (not invalid_ttl), every
 * port-status, and flow-removed; a slave only port-status. A table miss with no flow ("implicit
 * miss") goes to OpenFlow 1.0 connections only: 1.3 and later drop such packets. A service
 * connection (ovs-ofctl on BR.mgmt) gets nothing until it sets a non-zero miss_send_len.
 */
import { OFP10, OFP13, OFPCR_ROLE, type AsyncConfig, type AsyncKind, type Decoded, type OfConn, type OfpVersion } from '../openflow/index.ts';

/** OVS's OFP_DEFAULT_MISS_SEND_LEN. */
export const DEFAULT_MISS_SEND_LEN = 128;

/** ofp_packet_in_reason bits. */
export const PIN_REASON = { no_match: 0, action: 1, invalid_ttl: 2 } as const;
const FLOW_REMOVED_BITS: Readonly<Record<number, number>> = { [OFP10]: 0x7, [OFP13]: 0xf };

export interface Limiter {
  take(): boolean;
}

export interface Session {
  conn: OfConn;
  type: 'service' | 'primary';
  flags: number;
  missSendLen: number;
  role: number;
  /** NXT_SET_CONTROLLER_ID: controller(id=N) actions reach the connections with that id. */
  controllerId: number;
  /** NXPIF_*: 0 the version's own packet-in, 2 NXT_PACKET_IN2. */
  packetInFormat: number;
  /** Set by OFPT_SET_ASYNC / NXT_SET_ASYNC_CONFIG; undefined: the version's defaults. */
  async: AsyncConfig | undefined;
  /** controller_rate_limit of the Controller the connection belongs to. */
  limiter: Limiter | undefined;
  /** Controller.enable_async_messages=false: no packet-in, flow-removed or port-status at all. */
  asyncOff: boolean;
  /** NXT_FLOW_MOD_TABLE_ID: 1.0/Nicira flow-mods carry a table id in their command's high byte. */
  tableIdExt: boolean;
  queue: { d: Decoded; frame: Uint8Array }[];
  busy: boolean;
}

export function newSession(conn: OfConn, type: Session['type'], limiter?: Limiter, asyncOff = false): Session {
  return {
    conn, type, flags: 0, missSendLen: type === 'primary' ? DEFAULT_MISS_SEND_LEN : 0, role: OFPCR_ROLE.EQUAL,
    controllerId: 0, packetInFormat: 0, async: undefined, limiter, asyncOff, tableIdExt: false, queue: [], busy: false,
  };
}

/** The async config in force (the version's defaults until the controller sets one). */
export function asyncConfig(s: Session): AsyncConfig {
  if (s.async) return s.async;
  const v = s.conn.version ?? OFP10;
  return {
    master: { packetIn: (1 << PIN_REASON.no_match) | (1 << PIN_REASON.action), portStatus: 0x7, flowRemoved: FLOW_REMOVED_BITS[v] ?? 0x3f },
    slave: { packetIn: 0, portStatus: 0x7, flowRemoved: 0 },
  };
}

/** Whether the connection wants an asynchronous message of `kind` with reason bit `reason`. */
export function wants(s: Session, kind: AsyncKind, reason: number): boolean {
  if (s.conn.closed || s.conn.version === undefined) return false;
  if (s.asyncOff || (s.type === 'service' && s.missSendLen === 0)) return false;
  const cfg = asyncConfig(s);
  const masks = s.role === OFPCR_ROLE.SLAVE ? cfg.slave : cfg.master;
  return ((masks[kind] ?? 0) >>> reason & 1) === 1;
}

/** Whether a table miss with no flow reaches this connection (1.0 only, see the note). */
export function wantsImplicitMiss(s: Session): boolean {
  return (s.conn.version as OfpVersion | undefined) === OFP10 && wants(s, 'packetIn', PIN_REASON.no_match);
}
