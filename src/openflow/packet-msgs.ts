/**
 * Flow-removed, packet-out and packet-in bodies (after the 8-byte ofp_header; Nicira's after
 * the 16-byte nicira_header):
 *
 *   OFPT_FLOW_REMOVED      decodeFlowRemoved(v, body)  encodeFlowRemoved(v, msg)   1.0, 1.1-1.4, 1.5 (OXS stats)
 *   NXT_FLOW_REMOVED (14)  decodeNxFlowRemoved / encodeNxFlowRemoved
 *   OFPT_PACKET_OUT        decodePacketOut / encodePacketOut       1.0 (16-bit in_port), 1.1-1.4, 1.5 (in_port in a match)
 *   OFPT_PACKET_IN         decodePacketIn / encodePacketIn         1.0, 1.3+ (OXM match of pipeline fields)
 *   NXT_PACKET_IN2 (30)    decodePacketIn2 / encodePacketIn2       properties (OVS nicira-ext.h NXPINT_*)
 *
 * bvs never buffers packets: it sends buffer_id OFP_NO_BUFFER; a packet-out naming a buffer is
 * decoded as is and the caller answers OFPBRC_BUFFER_UNKNOWN.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { OFPP, W } from '../ofproto/flow.ts';
import { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP15, type OfpVersion } from './version.ts';
import { Reader, Writer } from './bytes.ts';
import { decodeActions, encodeActions } from './actions.ts';
import { decodeNxMatch, decodeOf10Match, decodeOxmMatch, encodeNxMatch, encodeOf10Match, encodeOxmMatch } from './match.ts';
import { decodeOxs, encodeOxs } from './flow-stats.ts';
import { port11 } from './flow-msgs.ts';
import { portToOf11 } from './oxm.ts';

/** ofp_flow_removed_reason. */
export const FLOW_REMOVED_REASON = { idle_timeout: 0, hard_timeout: 1, delete: 2, group_delete: 3, meter_delete: 4, eviction: 5 } as const;

export interface FlowRemovedMsg {
  cookie: bigint;
  priority: number;
  reason: number;
  table: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
}

export function decodeFlowRemoved(version: OfpVersion, body: Uint8Array): FlowRemovedMsg {
  const r = new Reader(body);
  if (version === OFP10) {
    r.needAt(0, 80, 'ofp_flow_removed');
    return {
      match: decodeOf10Match(body, 0), cookie: r.u64(40), priority: r.u16(48), reason: r.u8(50), table: 0,
      durationSec: r.u32(52), durationNsec: r.u32(56), idleTimeout: r.u16(60), hardTimeout: 0,
      packetCount: r.u64(64), byteCount: r.u64(72),
    };
  }
  if (version >= OFP15) {
    r.needAt(0, 16, 'ofp15_flow_removed');
    const { match, size } = decodeOxmMatch(body, 16);
    const s = decodeOxs(r, 16 + size, body.length);
    return {
      table: r.u8(0), reason: r.u8(1), priority: r.u16(2), idleTimeout: r.u16(4), hardTimeout: r.u16(6), cookie: r.u64(8),
      match, durationSec: s.durationSec, durationNsec: s.durationNsec, packetCount: s.packetCount, byteCount: s.byteCount,
    };
  }
  r.needAt(0, 40, 'ofp_flow_removed');
  return {
    cookie: r.u64(0), priority: r.u16(8), reason: r.u8(10), table: r.u8(11), durationSec: r.u32(12), durationNsec: r.u32(16),
    idleTimeout: r.u16(20), hardTimeout: r.u16(22), packetCount: r.u64(24), byteCount: r.u64(32),
    match: decodeOxmMatch(body, 40).match,
  };
}

export function encodeFlowRemoved(version: OfpVersion, m: FlowRemovedMsg): Uint8Array {
  const w = new Writer();
  if (version === OFP10) {
    return w.bytes(encodeOf10Match(m.match)).u64(m.cookie).u16(m.priority).u8(m.reason).u8(0).u32(m.durationSec)
      .u32(m.durationNsec).u16(m.idleTimeout).pad(2).u64(m.packetCount).u64(m.byteCount).finish();
  }
  if (version >= OFP15) {
    w.u8(m.table).u8(m.reason).u16(m.priority).u16(m.idleTimeout).u16(m.hardTimeout).u64(m.cookie).bytes(encodeOxmMatch(m.match, version));
    encodeOxs(w, { durationSec: m.durationSec, durationNsec: m.durationNsec, packetCount: m.packetCount, byteCount: m.byteCount });
    return w.finish();
  }
  return w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.table).u32(m.durationSec).u32(m.durationNsec).u16(m.idleTimeout)
    .u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount).bytes(encodeOxmMatch(m.match, version)).finish();
}

/** nx_flow_removed: cookie, priority, reason, table_id, durations, idle, match_len, counts, nx_match. */
export function decodeNxFlowRemoved(_version: OfpVersion, body: Uint8Array): FlowRemovedMsg {
  const r = new Reader(body);
  r.needAt(0, 40, 'nx_flow_removed');
  const mlen = r.u16(22);
  return {
    cookie: r.u64(0), priority: r.u16(8), reason: r.u8(10), table: r.u8(11), durationSec: r.u32(12), durationNsec: r.u32(16),
    idleTimeout: r.u16(20), hardTimeout: 0, packetCount: r.u64(24), byteCount: r.u64(32), match: decodeNxMatch(body, 40, mlen).match,
  };
}

export function encodeNxFlowRemoved(_version: OfpVersion, m: FlowRemovedMsg): Uint8Array {
  const nxm = encodeNxMatch(m.match);
  return new Writer().u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.table).u32(m.durationSec).u32(m.durationNsec)
    .u16(m.idleTimeout).u16(nxm.length).u64(m.packetCount).u64(m.byteCount).bytes(nxm).align8().finish();
}

// ---- Packet-out

export interface PacketOutMsg {
  bufferId: number;
  /** bvs numbering; OFPP.CONTROLLER when a 1.5 match names none (as OVS). */
  inPort: number;
  /** OpenFlow 1.5: the pipeline fields besides in_port (metadata, registers); undefined before. */
  metadata?: Match;
  actions: OfAction[];
  data: Uint8Array;
}

export function decodePacketOut(version: OfpVersion, body: Uint8Array): PacketOutMsg {
  const r = new Reader(body);
  let inPort: number, actionsAt: number, metadata: Match | undefined;
  if (version === OFP10) {
    r.needAt(0, 8, 'ofp_packet_out');
    inPort = r.u16(4);
    actionsAt = 8;
  } else if (version >= OFP15) {
    r.needAt(0, 8, 'ofp15_packet_out');
    const { match, size } = decodeOxmMatch(body, 8);
    inPort = match.mask[W.IN_PORT] ? match.value[W.IN_PORT]! : OFPP.CONTROLLER;
    metadata = match;
    metadata.mask[W.IN_PORT] = 0;
    metadata.value[W.IN_PORT] = 0;
    actionsAt = 8 + size;
  } else {
    r.needAt(0, 16, 'ofp_packet_out');
    inPort = port11(r.u32(4), 'packet-out in_port');
    actionsAt = 16;
  }
  const alen = r.u16(version >= OFP15 ? 4 : version === OFP10 ? 6 : 8);
  r.needAt(actionsAt, alen, 'packet-out actions');
  const out: PacketOutMsg = {
    bufferId: r.u32(0), inPort, actions: decodeActions(version, body, actionsAt, alen), data: body.slice(actionsAt + alen),
  };
  if (metadata) out.metadata = metadata;
  return out;
}

export function encodePacketOut(version: OfpVersion, m: PacketOutMsg): Uint8Array {
  const acts = encodeActions(version, m.actions);
  const w = new Writer().u32(m.bufferId);
  if (version === OFP10) w.u16(m.inPort).u16(acts.length);
  else if (version >= OFP15) {
    const match = m.metadata?.clone() ?? new Match();
    match.mask[W.IN_PORT] = 0xffffffff;
    match.value[W.IN_PORT] = m.inPort;
    w.u16(acts.length).pad(2).bytes(encodeOxmMatch(match, version));
  } else w.u32(portToOf11(m.inPort)).u16(acts.length).pad(6);
  return w.bytes(acts).bytes(m.data).finish();
}

// ---- Packet-in

export interface PacketInMsg {
  bufferId: number;
  totalLen: number;
  /** ofp_packet_in_reason: 0 no_match, 1 action, 2 invalid_ttl (1.4+: 3 action_set, 4 group, 5 packet_out). */
  reason: number;
  table: number;
  cookie: bigint;
  /** in_port and the pipeline fields (metadata, registers) the packet had. */
  match: Match;
  data: Uint8Array;
  /** NXT_PACKET_IN2 only: controller2 userdata and the opaque continuation (msg-resume.ts; the
   *  content of the nested property, without its padding). */
  userdata?: Uint8Array;
  continuation?: Uint8Array;
}

export function decodePacketIn(version: OfpVersion, body: Uint8Array): PacketInMsg {
  const r = new Reader(body);
  if (version === OFP10) {
    r.needAt(0, 10, 'ofp_packet_in');
    const match = new Match();
    match.mask[W.IN_PORT] = 0xffffffff;
    match.value[W.IN_PORT] = r.u16(6);
    return { bufferId: r.u32(0), totalLen: r.u16(4), reason: r.u8(8), table: 0, cookie: 0xffffffffffffffffn, match, data: body.slice(10) };
  }
  r.needAt(0, 16, 'ofp_packet_in');
  const { match, size } = decodeOxmMatch(body, 16);
  r.needAt(16 + size, 2, 'ofp_packet_in pad');
  return {
    bufferId: r.u32(0), totalLen: r.u16(4), reason: r.u8(6), table: r.u8(7), cookie: r.u64(8), match, data: body.slice(16 + size + 2),
  };
}

export function encodePacketIn(version: OfpVersion, m: PacketInMsg): Uint8Array {
  const w = new Writer().u32(m.bufferId).u16(m.totalLen);
  if (version === OFP10) return w.u16(m.match.value[W.IN_PORT]! & 0xffff).u8(m.reason).u8(0).bytes(m.data).finish();
  return w.u8(m.reason).u8(m.table).u64(m.cookie).bytes(encodeOxmMatch(m.match, version)).pad(2).bytes(m.data).finish();
}

const NXPINT = { PACKET: 0, FULL_LEN: 1, BUFFER_ID: 2, TABLE_ID: 3, COOKIE: 4, REASON: 5, METADATA: 6, USERDATA: 7, CONTINUATION: 8 } as const;
/** Exact property lengths (header included); the rest are variable. */
const NXPINT_LEN = new Map<number, number>([[NXPINT.FULL_LEN, 8], [NXPINT.BUFFER_ID, 8], [NXPINT.TABLE_ID, 5], [NXPINT.COOKIE, 16], [NXPINT.REASON, 5]]);

/** NXT_PACKET_IN2: a list of properties (type, len, value, padded to 8); unknown ones are refused. */
export function decodePacketIn2(_version: OfpVersion, body: Uint8Array): PacketInMsg {
  const r = new Reader(body);
  const m: PacketInMsg = { bufferId: 0xffffffff, totalLen: 0, reason: 0, table: 0, cookie: 0n, match: new Match(), data: new Uint8Array(0) };
  let fullLen: number | undefined;
  const seen = new Set<number>();
  for (let at = 0; at < body.length;) {
    const type = r.u16(at, 'packet-in2 property'), len = r.u16(at + 2, 'packet-in2 property');
    if (len < 4 || at + len > body.length) throw new OfpError('OFPBRC_BAD_LEN', `packet-in2 property ${type} of length ${len}`);
    const want = NXPINT_LEN.get(type);
    if (want !== undefined && len !== want) throw new OfpError('OFPBRC_BAD_LEN', `packet-in2 property ${type} has length ${len}, wants ${want}`);
    if (seen.has(type)) throw new OfpError('OFPBRC_BAD_LEN', `packet-in2 property ${type} appears twice`);
    seen.add(type);
    const value = body.subarray(at + 4, at + len);
    switch (type) {
      case NXPINT.PACKET: m.data = value.slice(); break;
      case NXPINT.FULL_LEN: fullLen = r.u32(at + 4); break;
      case NXPINT.BUFFER_ID: m.bufferId = r.u32(at + 4); break;
      case NXPINT.TABLE_ID: m.table = r.u8(at + 4); break;
      case NXPINT.COOKIE: m.cookie = r.u64(at + 8); break;
      case NXPINT.REASON: m.reason = r.u8(at + 4); break;
      case NXPINT.METADATA: m.match = decodeNxMatch(body, at + 4, len - 4).match; break;
      case NXPINT.USERDATA: m.userdata = value.slice(); break;
      case NXPINT.CONTINUATION:
        // A nested property (OVS ofpprop_put_nested): 4 bytes of padding, then the content.
        if (len < 8) throw new OfpError('OFPBRC_BAD_LEN', `packet-in2 continuation of length ${len}`);
        m.continuation = body.slice(at + 8, at + len);
        break;
      default: throw new OfpError('OFPBRC_BAD_TYPE', `packet-in2 property ${type} is unknown`);
    }
    at += (len + 7) & ~7;
  }
  m.totalLen = fullLen ?? m.data.length;
  return m;
}

export function encodePacketIn2(_version: OfpVersion, m: PacketInMsg): Uint8Array {
  const w = new Writer();
  const prop = (type: number, write: () => void): void => {
    const at = w.len;
    w.u16(type).u16(0);
    write();
    w.setU16(at + 2, w.len - at);
    w.align8();
  };
  prop(NXPINT.PACKET, () => w.bytes(m.data));
  if (m.totalLen !== m.data.length) prop(NXPINT.FULL_LEN, () => w.u32(m.totalLen));
  if (m.bufferId !== 0xffffffff) prop(NXPINT.BUFFER_ID, () => w.u32(m.bufferId));
  prop(NXPINT.TABLE_ID, () => w.u8(m.table));
  prop(NXPINT.COOKIE, () => w.pad(4).u64(m.cookie));
  prop(NXPINT.REASON, () => w.u8(m.reason));
  prop(NXPINT.METADATA, () => w.bytes(encodeNxMatch(m.match)));
  if (m.userdata) prop(NXPINT.USERDATA, () => w.bytes(m.userdata!));
  // The continuation property holds 4 bytes of padding, then the nested properties (OVS).
  if (m.continuation) prop(NXPINT.CONTINUATION, () => w.pad(4).bytes(m.continuation!));
  return w.finish();
}
