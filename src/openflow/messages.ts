/**
 * OpenFlow messages: the typed union and the one codec entry point, decodeMessage(buf) and
 * encodeMessage(version, xid, msg).
 *
 * Layers: header.ts says how a kind is framed per version (a type number, a Nicira/ONF
 * subtype, a stat type); this file peels that framing off and hands the rest, the body, to
 * the body codec of the kind in BODY. A body codec is `decode(version, body)` /
 * `encode(version, msg)` (msg-*.ts here; oxm/match/actions/flow-msgs.ts for the flow messages,
 * which the lead plugs in by replacing their RAW entries below). Multipart replies with many
 * entries may also give `entries()`, so that encodeReplies can split a long reply into several
 * messages, each under 64 KiB, all but the last with the MORE flag (OpenFlow 1.3 §7.3.5).
 *
 * Errors: decodeMessage throws only OfpError: BAD_LEN when a length disagrees (the header's
 * with the buffer, a body with its layout), BAD_VERSION for a version bvs does not speak,
 * BAD_TYPE / BAD_VENDOR / BAD_SUBTYPE / BAD_STAT for a kind it does not know in that version.
 */
import { Reader, Writer } from './bytes.ts';
import type { OfpErrorName } from './errors.ts';
import { OfpError } from './errors.ts';
import {
  HEADER_LEN, kindOf, MAX_MSG_LEN, NX_VENDOR_ID, OFPSF_REPLY_MORE, OFPST_VENDOR, OFPT_VENDOR, ONF_VENDOR_ID, readHeader,
  statsHeaderLen, statsReplyType, statsRequestType, wireOf, writeHeader, type MsgKind, type Wire,
} from './header.ts';
import {
  decodeDesc, decodeTableFeatures, decodeTableStatsReply, encodeDesc, encodeTableFeaturesEntries, encodeTableStatsEntries,
  type Desc, type TableFeatures, type TableStats,
} from './msg-multipart.ts';
import {
  decodeControllerId, decodeFlowModTableId, decodeNxRole, decodeSetFlowFormat, decodeSetPacketInFormat, encodeControllerId,
  encodeFlowModTableId, encodeNxRole, encodeSetFlowFormat, encodeSetPacketInFormat, type ControllerId, type FlowModTableId,
  type Format, type NxRole,
} from './msg-nx.ts';
import {
  decodePortDescRequest, decodePortMod, decodePortStatsReply, decodePortStatsRequest, decodePortStatus, encodePort,
  encodePortDescRequest, encodePortMod, encodePortStatsEntries, encodePortStatsRequest, encodePortStatus, readPorts,
  type OfpPort, type PortDescRequest, type PortMod, type PortStats, type PortStatus,
} from './msg-port.ts';
import {
  decodeAsync, decodeEcho, decodeEmpty, decodeError, decodeFeaturesReply, decodeHello, decodeRole, decodeRoleStatus,
  decodeSwitchConfig, decodeTableMod, encodeAsync, encodeEcho, encodeEmpty, encodeError, encodeFeaturesReply, encodeHello,
  encodeRole, encodeRoleStatus, encodeSwitchConfig, encodeTableMod, type AsyncConfig, type Echo, type ErrorMsg,
  type FeaturesReply, type Hello, type RoleMsg, type RoleStatus, type SwitchConfig, type TableMod,
} from './msg-switch.ts';
import {
  decodeGroupFeatures, decodeGroupStats, decodeIdRequest, decodeMeterConfigs, decodeMeterFeatures, decodeMeterMod,
  decodeMeterStats, encodeGroupFeatures, encodeGroupStatsEntries, encodeIdRequest, encodeMeterConfigEntries,
  encodeMeterFeatures, encodeMeterMod, encodeMeterStatsEntries, type GroupFeatures, type GroupStats, type IdRequest,
  type MeterConfig, type MeterFeatures, type MeterMod, type MeterStats,
} from './msg-meter-group.ts';
import { FLOW_BODY, type FlowBodies } from './msg-flow.ts';
import { decodeResume, encodeResume, type ResumeMsg } from './msg-resume.ts';
import {
  decodeFlowMonitorCancel, decodeFlowMonitorRequest, decodeFlowUpdates, encodeFlowMonitorCancel, encodeFlowMonitorRequest,
  encodeFlowUpdate, type FlowMonitorRequest, type FlowUpdate,
} from './msg-monitor.ts';
import { decodeBundleAdd, decodeBundleControl, encodeBundleAdd, encodeBundleControl, type BundleAdd, type BundleControl } from './msg-bundle.ts';
import { decodeGroupDescs, decodeGroupMod, encodeGroupDescEntries, encodeGroupMod, type GroupDesc, type GroupModMsg } from './msg-group.ts';
import { isSupportedVersion, OFP13, type OfpVersion } from './version.ts';

/** A body bvs does not decode here: the bytes after the framing, as they came. */
export interface RawBody { body: Uint8Array }
type Empty = Record<never, never>;

/** Each kind's decoded body (the flow kinds' in msg-flow.ts; flow-mods stay raw, see there). */
export interface Bodies extends FlowBodies {
  hello: Hello; error: ErrorMsg; echo_request: Echo; echo_reply: Echo;
  features_request: Empty; features_reply: FeaturesReply;
  get_config_request: Empty; get_config_reply: SwitchConfig; set_config: SwitchConfig;
  port_status: PortStatus; flow_mod: RawBody;
  group_mod: GroupModMsg; port_mod: PortMod; table_mod: TableMod;
  barrier_request: Empty; barrier_reply: Empty;
  role_request: RoleMsg; role_reply: RoleMsg; role_status: RoleStatus;
  get_async_request: Empty; get_async_reply: AsyncConfig; set_async: AsyncConfig; meter_mod: MeterMod;
  bundle_control: BundleControl; bundle_add_message: BundleAdd;
  nx_flow_monitor_request: { monitors: FlowMonitorRequest[] }; nx_flow_monitor_reply: { updates: FlowUpdate[] };
  nx_flow_monitor_cancel: { id: number }; nx_flow_monitor_paused: Empty; nx_flow_monitor_resumed: Empty;
  nx_role_request: NxRole; nx_role_reply: NxRole; nx_set_flow_format: Format; nx_flow_mod: RawBody;
  nx_flow_mod_table_id: FlowModTableId; nx_set_packet_in_format: Format;
  nx_packet_in: RawBody; nx_set_async_config: AsyncConfig; nx_set_controller_id: ControllerId;
  nx_tlv_table_request: Empty; nx_resume: ResumeMsg;
  desc_request: Empty; desc_reply: Desc;
  table_stats_request: Empty; table_stats_reply: { tables: TableStats[] };
  port_stats_request: { portNo: number }; port_stats_reply: { stats: PortStats[] };
  queue_stats_request: RawBody; queue_stats_reply: RawBody;
  group_stats_request: IdRequest; group_stats_reply: { groups: GroupStats[] };
  group_desc_request: IdRequest; group_desc_reply: { groups: GroupDesc[] };
  group_features_request: Empty; group_features_reply: GroupFeatures;
  meter_stats_request: IdRequest; meter_stats_reply: { meters: MeterStats[] };
  meter_config_request: IdRequest; meter_config_reply: { meters: MeterConfig[] };
  meter_features_request: Empty; meter_features_reply: MeterFeatures;
  /** A request with tables asks to change them (bvs refuses); without, it asks for them. */
  table_features_request: { tables: TableFeatures[] }; table_features_reply: { tables: TableFeatures[] };
  port_desc_request: PortDescRequest; port_desc_reply: { ports: OfpPort[] };
}

export type OfpMessage = { [K in MsgKind]: { kind: K } & Bodies[K] }[MsgKind];
export type MessageOf<K extends MsgKind> = { kind: K } & Bodies[K];

export interface BodyCodec<B> {
  decode(version: number, body: Uint8Array): B;
  encode(version: number, msg: B): Uint8Array;
  /** Multipart replies: the body as entries that may go into separate messages. */
  entries?(version: number, msg: B): Uint8Array[];
}

const raw: BodyCodec<RawBody> = { decode: (_v, body) => ({ body: body.slice() }), encode: (_v, m) => m.body };
const empty = (what: string): BodyCodec<Empty> => ({ decode: decodeEmpty(what), encode: encodeEmpty });
const fromEntries = <B>(decode: (v: number, b: Uint8Array) => B, entries: (v: number, m: B) => Uint8Array[]): BodyCodec<B> =>
  ({ decode, encode: (v, m) => concat(entries(v, m)), entries });

/**
 * The dispatch table: each kind's body codec. The lead replaces the `raw` entries of the flow
 * kinds (flow_mod, packet_in/out, flow_removed, flow/aggregate stats, nx_flow_mod, ...) with
 * flow-msgs.ts's codecs, and changes their Bodies types to match.
 */
export const BODY: { [K in MsgKind]: BodyCodec<Bodies[K]> } = {
  hello: { decode: decodeHello, encode: encodeHello },
  error: { decode: decodeError, encode: encodeError },
  echo_request: { decode: decodeEcho, encode: encodeEcho }, echo_reply: { decode: decodeEcho, encode: encodeEcho },
  features_request: empty('features request'),
  features_reply: { decode: decodeFeaturesReply, encode: encodeFeaturesReply },
  get_config_request: empty('get config request'),
  get_config_reply: { decode: decodeSwitchConfig, encode: encodeSwitchConfig },
  set_config: { decode: decodeSwitchConfig, encode: encodeSwitchConfig },
  ...FLOW_BODY,
  flow_mod: raw, group_mod: { decode: decodeGroupMod, encode: encodeGroupMod },
  meter_mod: { decode: decodeMeterMod, encode: encodeMeterMod },
  port_status: { decode: decodePortStatus, encode: encodePortStatus },
  port_mod: { decode: decodePortMod, encode: encodePortMod },
  table_mod: { decode: decodeTableMod, encode: encodeTableMod },
  barrier_request: empty('barrier request'), barrier_reply: empty('barrier reply'),
  role_request: { decode: decodeRole, encode: encodeRole }, role_reply: { decode: decodeRole, encode: encodeRole },
  role_status: { decode: decodeRoleStatus, encode: encodeRoleStatus },
  get_async_request: empty('get async request'),
  get_async_reply: { decode: decodeAsync, encode: encodeAsync }, set_async: { decode: decodeAsync, encode: encodeAsync },
  bundle_control: { decode: decodeBundleControl, encode: encodeBundleControl },
  bundle_add_message: { decode: decodeBundleAdd, encode: encodeBundleAdd },
  nx_flow_monitor_request: { decode: (v, b) => decodeFlowMonitorRequest(v as OfpVersion, b), encode: (v, m) => encodeFlowMonitorRequest(v as OfpVersion, m) },
  nx_flow_monitor_reply: fromEntries((v, b) => decodeFlowUpdates(v as OfpVersion, b), (v, m) => m.updates.map((u) => encodeFlowUpdate(v as OfpVersion, u))),
  nx_flow_monitor_cancel: { decode: (v, b) => decodeFlowMonitorCancel(v as OfpVersion, b), encode: (v, m) => encodeFlowMonitorCancel(v as OfpVersion, m) },
  nx_flow_monitor_paused: empty('flow monitor paused'), nx_flow_monitor_resumed: empty('flow monitor resumed'),
  nx_role_request: { decode: decodeNxRole, encode: encodeNxRole }, nx_role_reply: { decode: decodeNxRole, encode: encodeNxRole },
  nx_set_flow_format: { decode: decodeSetFlowFormat, encode: encodeSetFlowFormat },
  nx_set_packet_in_format: { decode: decodeSetPacketInFormat, encode: encodeSetPacketInFormat },
  nx_flow_mod_table_id: { decode: decodeFlowModTableId, encode: encodeFlowModTableId },
  // NXT_SET_ASYNC_CONFIG has OpenFlow 1.3's layout in every version.
  nx_set_async_config: { decode: (_v, b) => decodeAsync(OFP13, b), encode: (_v, m) => encodeAsync(OFP13, m) },
  nx_set_controller_id: { decode: decodeControllerId, encode: encodeControllerId },
  nx_tlv_table_request: empty('tlv table request'),
  nx_resume: { decode: decodeResume, encode: encodeResume },
  nx_flow_mod: raw, nx_packet_in: raw,
  desc_request: empty('desc request'), desc_reply: { decode: decodeDesc, encode: encodeDesc },
  table_stats_request: empty('table stats request'),
  table_stats_reply: fromEntries(decodeTableStatsReply, encodeTableStatsEntries),
  port_stats_request: { decode: decodePortStatsRequest, encode: encodePortStatsRequest },
  port_stats_reply: fromEntries((v, b) => ({ stats: decodePortStatsReply(v, b) }), (v, m) => encodePortStatsEntries(v, m.stats)),
  queue_stats_request: raw, queue_stats_reply: raw,
  group_stats_request: { decode: decodeIdRequest('group stats request'), encode: encodeIdRequest() },
  group_stats_reply: fromEntries(decodeGroupStats, encodeGroupStatsEntries),
  group_desc_request: { decode: decodeIdRequest('group desc request', true), encode: encodeIdRequest(true) },
  group_desc_reply: fromEntries(decodeGroupDescs, encodeGroupDescEntries),
  group_features_request: empty('group features request'),
  group_features_reply: { decode: decodeGroupFeatures, encode: encodeGroupFeatures },
  meter_stats_request: { decode: decodeIdRequest('meter stats request'), encode: encodeIdRequest() },
  meter_stats_reply: fromEntries(decodeMeterStats, encodeMeterStatsEntries),
  meter_config_request: { decode: decodeIdRequest('meter config request'), encode: encodeIdRequest() },
  meter_config_reply: fromEntries(decodeMeterConfigs, encodeMeterConfigEntries),
  meter_features_request: empty('meter features request'),
  meter_features_reply: { decode: decodeMeterFeatures, encode: encodeMeterFeatures },
  table_features_request: fromEntries(decodeTableFeatures, encodeTableFeaturesEntries),
  table_features_reply: fromEntries(decodeTableFeatures, encodeTableFeaturesEntries),
  port_desc_request: { decode: decodePortDescRequest, encode: encodePortDescRequest },
  port_desc_reply: fromEntries((v, b) => ({ ports: readPorts(v, new Reader(b)) }), (v, m) => m.ports.map((p) => encodePort(v, p))),
};

export interface Decoded {
  version: OfpVersion;
  xid: number;
  msg: OfpMessage;
  /** Stats/multipart: the MORE flag (another message of this request or reply follows). */
  more: boolean;
}

/** Decodes one whole message (its header's length must be the buffer's). Throws only OfpError. */
export function decodeMessage(buf: Uint8Array): Decoded {
  const h = readHeader(buf);
  if (h.length !== buf.length) throw new OfpError('OFPBRC_BAD_LEN', `header says ${h.length} bytes, message has ${buf.length}`);
  if (!isSupportedVersion(h.version)) throw new OfpError('OFPBRC_BAD_VERSION', `version 0x${h.version.toString(16)}`);
  const v = h.version;
  const r = new Reader(buf.subarray(HEADER_LEN), 'OFPBRC_BAD_LEN', 'message');
  let more = false;
  let kind: MsgKind | undefined;
  if (h.type === OFPT_VENDOR) {
    const vendor = r.u32(), subtype = r.u32();
    kind = kindOf(v, { frame: 'nx', vendor, subtype });
    if (!kind) throw unknown(vendor === NX_VENDOR_ID || vendor === ONF_VENDOR_ID ? 'OFPBRC_BAD_SUBTYPE' : 'OFPBRC_BAD_VENDOR', `vendor 0x${vendor.toString(16)} subtype ${subtype}`);
  } else if (h.type === statsRequestType(v) || h.type === statsReplyType(v)) {
    const reply = h.type === statsReplyType(v);
    const stat = r.u16(), flags = r.u16();
    r.skip(statsHeaderLen(v) - 4);
    more = (flags & OFPSF_REPLY_MORE) !== 0;
    if (stat === OFPST_VENDOR) {
      const vendor = r.u32();
      if (vendor !== NX_VENDOR_ID) throw unknown('OFPBRC_BAD_VENDOR', `stats vendor 0x${vendor.toString(16)}`);
      const subtype = r.u32(); r.skip(4);
      kind = kindOf(v, { frame: 'nxst', reply, subtype });
      if (!kind) throw unknown('OFPBRC_BAD_SUBTYPE', `nicira stats subtype ${subtype}`);
    } else {
      kind = kindOf(v, { frame: 'stats', reply, stat });
      if (!kind) throw unknown('OFPBRC_BAD_STAT', `stats type ${stat}`);
    }
  } else {
    kind = kindOf(v, { frame: 'ofpt', type: h.type });
    if (!kind) throw unknown('OFPBRC_BAD_TYPE', `message type ${h.type}`);
  }
  const body = (BODY[kind] as BodyCodec<unknown>).decode(v, r.rest()) as object;
  return { version: v, xid: h.xid, msg: { ...body, kind } as OfpMessage, more };
}

const unknown = (name: OfpErrorName, what: string): OfpError => new OfpError(name, `unknown ${what}`);

/** The framing bytes between ofp_header and the body, for `wire` in version `v`. */
function prefix(v: OfpVersion, w: Wire, more: boolean): { type: number; bytes: Uint8Array } {
  const p = new Writer();
  switch (w.frame) {
    case 'ofpt': return { type: w.type, bytes: p.finish() };
    case 'nx': return { type: OFPT_VENDOR, bytes: p.u32(w.vendor).u32(w.subtype).finish() };
    case 'stats':
    case 'nxst': {
      const flags = more ? OFPSF_REPLY_MORE : 0;
      p.u16(w.frame === 'stats' ? w.stat : OFPST_VENDOR).u16(flags).pad(statsHeaderLen(v) - 4);
      if (w.frame === 'nxst') p.u32(NX_VENDOR_ID).u32(w.subtype).pad(4);
      return { type: w.reply ? statsReplyType(v) : statsRequestType(v), bytes: p.finish() };
    }
  }
}

function wireFor(v: OfpVersion, kind: MsgKind): Wire {
  const w = wireOf(v, kind);
  if (!w) throw new OfpError('OFPBRC_BAD_TYPE', `${kind} does not exist in OpenFlow version 0x${v.toString(16)}`);
  return w;
}

function frame(v: OfpVersion, xid: number, w: Wire, parts: readonly Uint8Array[], more: boolean): Uint8Array {
  const pre = prefix(v, w, more);
  const length = HEADER_LEN + pre.bytes.length + parts.reduce((n, p) => n + p.length, 0);
  if (length > MAX_MSG_LEN) throw new OfpError('OFPBRC_BAD_LEN', `message of ${length} bytes exceeds 65535`);
  const out = new Uint8Array(length);
  writeHeader(out, { version: v, type: pre.type, length, xid });
  out.set(pre.bytes, HEADER_LEN);
  let at = HEADER_LEN + pre.bytes.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Encodes one message. `more` sets the stats/multipart MORE flag. Throws OfpError if `msg`
 *  does not exist in `version` or would exceed 65535 bytes (use encodeReplies for those). */
export function encodeMessage(version: OfpVersion, xid: number, msg: OfpMessage, more = false): Uint8Array {
  const body = (BODY[msg.kind] as BodyCodec<unknown>).encode(version, msg);
  return frame(version, xid, wireFor(version, msg.kind), [body], more);
}

/**
 * Encodes a reply as one message or, when its entries do not fit in one, as several, each at
 * most 65535 bytes, with MORE on all but the last (the same xid on all). Entries are never
 * cut. An entry that alone exceeds a message is OFPBRC_MULTIPART_BUFFER_OVERFLOW.
 */
export function encodeReplies(version: OfpVersion, xid: number, msg: OfpMessage): Uint8Array[] {
  const codec = BODY[msg.kind] as BodyCodec<unknown>;
  const w = wireFor(version, msg.kind);
  if (!codec.entries || (w.frame !== 'stats' && w.frame !== 'nxst')) return [encodeMessage(version, xid, msg)];
  const room = MAX_MSG_LEN - HEADER_LEN - prefix(version, w, false).bytes.length;
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [], size = 0;
  for (const e of codec.entries(version, msg)) {
    if (e.length > room) throw new OfpError('OFPBRC_MULTIPART_BUFFER_OVERFLOW', `one entry of ${e.length} bytes`);
    if (size + e.length > room) { out.push(frame(version, xid, w, batch, true)); batch = []; size = 0; }
    batch.push(e); size += e.length;
  }
  out.push(frame(version, xid, w, batch, false));
  return out;
}

/** The OFPT_ERROR for `name`, carrying `data` (the offending message's first 64 bytes). */
export function errorMessage(name: OfpErrorName, data: Uint8Array): MessageOf<'error'> {
  return { kind: 'error', name, errType: 0, code: 0, vendor: 0, data };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
