/**
 * The OpenFlow message header and the numbering of message kinds per version.
 *
 * Every message starts with ofp_header (OpenFlow 1.3 §7.1): version u8, type u8, length u16
 * (the whole message, header included), xid u32. What follows depends on the type, and the type
 * numbers differ between OpenFlow 1.0 and 1.1+ (1.0's PORT_MOD is 15, 1.1+ put GROUP_MOD there;
 * 1.0 has STATS_REQUEST/REPLY 16/17 where 1.3 has MULTIPART 18/19; barrier moved from 18/19 to
 * 20/21). Three more framings nest inside a type:
 *   - 'nx': OFPT_VENDOR (1.0) / OFPT_EXPERIMENTER (1.1+), type 4, then vendor u32 = 0x00002320
 *     (Nicira) and subtype u32. ONF experimenter messages (vendor 0x4f4e4600, exp_type u32)
 *     have the same shape: OVS uses them for OpenFlow 1.3 bundles (ONFT 2300/2301).
 *   - 'stats': 1.0 stats (type u16, flags u16 after the header: 12 bytes) and 1.1+ multipart
 *     (type u16, flags u16, pad 4: 16 bytes). Stat type 0xffff is a vendor stat, and Nicira's
 *     ('nxst') add vendor u32, subtype u32 and 4 bytes of padding (1.0: 24 bytes; 1.3: 28).
 *
 * A message "kind" (MsgKind) names one of these wire identities independent of version, and
 * WIRE says, per version, how the kind is framed; a kind without an entry for a version does
 * not exist in it (a decode answers OFPBRC_BAD_TYPE / BAD_SUBTYPE / BAD_STAT). The reverse
 * tables are Maps keyed by numbers read from input.
 */
import { NX_VENDOR_ID, OfpError, ONF_VENDOR_ID } from './errors.ts';
import { OFP10, OFP13, OFP14, OFP15, type OfpVersion } from './version.ts';

export const HEADER_LEN = 8;
/** ofp_header.length is 16 bits: no message is longer. */
export const MAX_MSG_LEN = 0xffff;
export { NX_VENDOR_ID, ONF_VENDOR_ID };
export const OFPT_VENDOR = 4;
export const OFPSF_REPLY_MORE = 1;
export const OFPST_VENDOR = 0xffff;

export interface OfpHeader { version: number; type: number; length: number; xid: number }

export function readHeader(b: Uint8Array, off = 0): OfpHeader {
  if (b.length - off < HEADER_LEN) throw new OfpError('OFPBRC_BAD_LEN', `message of ${b.length - off} bytes has no header`);
  const dv = new DataView(b.buffer, b.byteOffset + off, HEADER_LEN);
  return { version: dv.getUint8(0), type: dv.getUint8(1), length: dv.getUint16(2), xid: dv.getUint32(4) };
}

export function writeHeader(b: Uint8Array, h: OfpHeader): void {
  const dv = new DataView(b.buffer, b.byteOffset, HEADER_LEN);
  dv.setUint8(0, h.version); dv.setUint8(1, h.type); dv.setUint16(2, h.length); dv.setUint32(4, h.xid);
}

export type Wire =
  | { frame: 'ofpt'; type: number }
  | { frame: 'nx'; vendor: number; subtype: number }
  | { frame: 'stats'; reply: boolean; stat: number }
  | { frame: 'nxst'; reply: boolean; subtype: number };

const T = (type: number): Wire => ({ frame: 'ofpt', type });
const NX = (subtype: number): Wire => ({ frame: 'nx', vendor: NX_VENDOR_ID, subtype });
const ONF = (subtype: number): Wire => ({ frame: 'nx', vendor: ONF_VENDOR_ID, subtype });
const ST = (reply: boolean, stat: number): Wire => ({ frame: 'stats', reply, stat });
const NXST = (reply: boolean, subtype: number): Wire => ({ frame: 'nxst', reply, subtype });

type PerVersion = Partial<Record<OfpVersion, Wire>>;
/** The same framing in every version. */
const all = (w: Wire): PerVersion => ({ [OFP10]: w, [OFP13]: w, [OFP14]: w, [OFP15]: w });
/** `of10` in 1.0 (if any), `later` from version `from` on. */
function split(of10: Wire | undefined, later: Wire | undefined, from: OfpVersion = OFP13): PerVersion {
  const p: PerVersion = {};
  if (of10) p[OFP10] = of10;
  if (later) for (const v of [OFP13, OFP14, OFP15] as const) if (v >= from) p[v] = later;
  return p;
}
const stats = (stat: number, of10 = true, from: OfpVersion = OFP13): [PerVersion, PerVersion] =>
  [split(of10 ? ST(false, stat) : undefined, ST(false, stat), from), split(of10 ? ST(true, stat) : undefined, ST(true, stat), from)];

const [descQ, descR] = stats(0);
const [flowQ, flowR] = stats(1);
const [aggQ, aggR] = stats(2);
const [tableQ, tableR] = stats(3);
const [portQ, portR] = stats(4);
const [queueQ, queueR] = stats(5);
// OpenFlow 1.0 has groups through Nicira's extensions (NXT_GROUP_MOD, NXST_GROUP*), as in OVS.
const nxstats = (sub: number, stat: number): [PerVersion, PerVersion] =>
  [split(NXST(false, sub), ST(false, stat)), split(NXST(true, sub), ST(true, stat))];
const [groupQ, groupR] = nxstats(7, 6);
const [groupDescQ, groupDescR] = nxstats(8, 7);
const [groupFeatQ, groupFeatR] = nxstats(9, 8);
const [meterQ, meterR] = stats(9, false);
const [meterConfQ, meterConfR] = stats(10, false);
const [meterFeatQ, meterFeatR] = stats(11, false);
const [tfQ, tfR] = stats(12, false);
// OVS carries port desc as stat 13 in OpenFlow 1.0 too (an extension ovs-ofctl uses).
const [portDescQ, portDescR] = stats(13);

/**
 * Every message kind bvs frames, and its wire identity per version. Flow-related kinds are
 * here too: their bodies belong to flow-msgs.ts (messages.ts's BODY table says who decodes).
 */
export const WIRE = {
  hello: all(T(0)), error: all(T(1)), echo_request: all(T(2)), echo_reply: all(T(3)),
  features_request: all(T(5)), features_reply: all(T(6)),
  get_config_request: all(T(7)), get_config_reply: all(T(8)), set_config: all(T(9)),
  packet_in: all(T(10)), flow_removed: all(T(11)), port_status: all(T(12)),
  packet_out: all(T(13)), flow_mod: all(T(14)),
  group_mod: split(NX(31), T(15)), port_mod: split(T(15), T(16)), table_mod: split(undefined, T(17)),
  barrier_request: split(T(18), T(20)), barrier_reply: split(T(19), T(21)),
  role_request: split(undefined, T(24)), role_reply: split(undefined, T(25)),
  get_async_request: split(undefined, T(26)), get_async_reply: split(undefined, T(27)),
  set_async: split(undefined, T(28)), meter_mod: split(undefined, T(29)),
  role_status: split(undefined, T(30), OFP14),
  bundle_control: { [OFP13]: ONF(2300), [OFP14]: T(33), [OFP15]: T(33) },
  bundle_add_message: { [OFP13]: ONF(2301), [OFP14]: T(34), [OFP15]: T(34) },
  // Nicira extensions (include/openflow/nicira-ext.h). NXT_SET_FLOW_FORMAT exists in 1.0 only.
  nx_role_request: all(NX(10)), nx_role_reply: all(NX(11)),
  nx_set_flow_format: split(NX(12), undefined), nx_flow_mod: all(NX(13)), nx_flow_removed: all(NX(14)),
  nx_flow_mod_table_id: all(NX(15)), nx_set_packet_in_format: all(NX(16)), nx_packet_in: all(NX(17)),
  nx_set_async_config: all(NX(19)), nx_set_controller_id: all(NX(20)),
  nx_tlv_table_request: all(NX(25)), nx_resume: all(NX(28)), nx_packet_in2: all(NX(30)),
  // Flow monitor (msg-monitor.ts): Nicira's exists up to 1.2; 1.3 has ONF's, 1.4+ OFPMP_FLOW_MONITOR.
  nx_flow_monitor_cancel: split(NX(21), undefined), nx_flow_monitor_paused: split(NX(22), undefined),
  nx_flow_monitor_resumed: split(NX(23), undefined),
  // Stats / multipart.
  desc_request: descQ, desc_reply: descR, flow_stats_request: flowQ, flow_stats_reply: flowR,
  aggregate_request: aggQ, aggregate_reply: aggR, table_stats_request: tableQ, table_stats_reply: tableR,
  port_stats_request: portQ, port_stats_reply: portR, queue_stats_request: queueQ, queue_stats_reply: queueR,
  group_stats_request: groupQ, group_stats_reply: groupR, group_desc_request: groupDescQ, group_desc_reply: groupDescR,
  group_features_request: groupFeatQ, group_features_reply: groupFeatR,
  meter_stats_request: meterQ, meter_stats_reply: meterR, meter_config_request: meterConfQ, meter_config_reply: meterConfR,
  meter_features_request: meterFeatQ, meter_features_reply: meterFeatR,
  table_features_request: tfQ, table_features_reply: tfR,
  port_desc_request: portDescQ, port_desc_reply: portDescR,
  nx_flow_stats_request: split(NXST(false, 0), undefined), nx_flow_stats_reply: split(NXST(true, 0), undefined),
  nx_aggregate_request: split(NXST(false, 1), undefined), nx_aggregate_reply: split(NXST(true, 1), undefined),
  nx_flow_monitor_request: split(NXST(false, 2), undefined), nx_flow_monitor_reply: split(NXST(true, 2), undefined),
} as const satisfies Record<string, PerVersion>;

export type MsgKind = keyof typeof WIRE;

export function wireKey(w: Wire): string {
  switch (w.frame) {
    case 'ofpt': return `t${w.type}`;
    case 'nx': return `v${w.vendor}/${w.subtype}`;
    case 'stats': return `s${w.reply ? 1 : 0}/${w.stat}`;
    case 'nxst': return `x${w.reply ? 1 : 0}/${w.subtype}`;
  }
}

/** Per version: wireKey -> kind. Built once; lookups by numbers from input go through Map.get. */
const BY_WIRE = new Map<number, Map<string, MsgKind>>();
for (const [kind, per] of Object.entries(WIRE) as [MsgKind, PerVersion][]) {
  for (const [v, w] of Object.entries(per) as [string, Wire][]) {
    let m = BY_WIRE.get(Number(v));
    if (!m) BY_WIRE.set(Number(v), m = new Map());
    m.set(wireKey(w), kind);
  }
}

export function kindOf(version: number, w: Wire): MsgKind | undefined {
  return BY_WIRE.get(version)?.get(wireKey(w));
}

export function wireOf(version: OfpVersion, kind: MsgKind): Wire | undefined {
  return (WIRE[kind] as PerVersion)[version];
}

/** The type numbers of the framing messages themselves, per version. */
export const statsRequestType = (v: number): number => (v === OFP10 ? 16 : 18);
export const statsReplyType = (v: number): number => (v === OFP10 ? 17 : 19);
/** Bytes after ofp_header in a stats/multipart header (type, flags, and 1.1+'s pad). */
export const statsHeaderLen = (v: number): number => (v === OFP10 ? 4 : 8);
