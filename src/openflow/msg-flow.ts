/**
 * The flow kinds' entries of the dispatch table (messages.ts BODY): flow stats and aggregate
 * (OpenFlow and Nicira), flow-removed, packet-in and packet-out, wired to the codecs of
 * flow-stats.ts and packet-msgs.ts. Flow-mods (OFPT_FLOW_MOD, NXT_FLOW_MOD) stay raw bodies
 * here: an OpenFlow 1.0 or Nicira flow-mod reads differently once its connection turned on
 * NXT_FLOW_MOD_TABLE_ID, so the switch decodes them with that connection's state
 * (flow-msgs.ts decodeFlowMod / decodeNxFlowMod).
 */
import {
  decodeAggregateReply, decodeFlowStatsReply, decodeFlowStatsRequest, decodeNxFlowStatsReply, decodeNxFlowStatsRequest,
  encodeAggregateReply, encodeFlowStatsReply, encodeFlowStatsRequest, encodeNxFlowStatsReply, encodeNxFlowStatsRequest,
  type AggregateStats, type FlowStats, type FlowStatsRequest,
} from './flow-stats.ts';
import {
  decodeFlowRemoved, decodeNxFlowRemoved, decodePacketIn, decodePacketIn2, decodePacketOut, encodeFlowRemoved,
  encodeNxFlowRemoved, encodePacketIn, encodePacketIn2, encodePacketOut, type FlowRemovedMsg, type PacketInMsg, type PacketOutMsg,
} from './packet-msgs.ts';
import type { OfpVersion } from './version.ts';

export interface FlowBodies {
  flow_stats_request: FlowStatsRequest; nx_flow_stats_request: FlowStatsRequest;
  aggregate_request: FlowStatsRequest; nx_aggregate_request: FlowStatsRequest;
  flow_stats_reply: { flows: FlowStats[] }; nx_flow_stats_reply: { flows: FlowStats[] };
  aggregate_reply: AggregateStats; nx_aggregate_reply: AggregateStats;
  flow_removed: FlowRemovedMsg; nx_flow_removed: FlowRemovedMsg;
  packet_in: PacketInMsg; nx_packet_in2: PacketInMsg;
  packet_out: PacketOutMsg;
}

interface Codec<B> {
  decode(version: number, body: Uint8Array): B;
  encode(version: number, msg: B): Uint8Array;
  entries?(version: number, msg: B): Uint8Array[];
}

// The header codec has checked the version (isSupportedVersion) before any body is decoded.
const v = (n: number): OfpVersion => n as OfpVersion;

const pair = <B>(dec: (v: OfpVersion, b: Uint8Array) => B, enc: (v: OfpVersion, m: B) => Uint8Array): Codec<B> =>
  ({ decode: (n, b) => dec(v(n), b), encode: (n, m) => enc(v(n), m) });

/** A flow stats reply split per flow, so a long dump goes out in several messages. */
const flowReply = (dec: (v: OfpVersion, b: Uint8Array) => FlowStats[], enc: (v: OfpVersion, e: readonly FlowStats[]) => Uint8Array):
  Codec<{ flows: FlowStats[] }> => ({
  decode: (n, b) => ({ flows: dec(v(n), b) }),
  encode: (n, m) => enc(v(n), m.flows),
  entries: (n, m) => m.flows.map((f) => enc(v(n), [f])),
});

export const FLOW_BODY: { [K in keyof FlowBodies]: Codec<FlowBodies[K]> } = {
  flow_stats_request: pair(decodeFlowStatsRequest, encodeFlowStatsRequest),
  aggregate_request: pair(decodeFlowStatsRequest, encodeFlowStatsRequest),
  nx_flow_stats_request: pair(decodeNxFlowStatsRequest, encodeNxFlowStatsRequest),
  nx_aggregate_request: pair(decodeNxFlowStatsRequest, encodeNxFlowStatsRequest),
  flow_stats_reply: flowReply(decodeFlowStatsReply, encodeFlowStatsReply),
  nx_flow_stats_reply: flowReply(decodeNxFlowStatsReply, encodeNxFlowStatsReply),
  aggregate_reply: pair(decodeAggregateReply, encodeAggregateReply),
  nx_aggregate_reply: pair(decodeAggregateReply, encodeAggregateReply),
  flow_removed: pair(decodeFlowRemoved, encodeFlowRemoved),
  nx_flow_removed: pair(decodeNxFlowRemoved, encodeNxFlowRemoved),
  packet_in: pair(decodePacketIn, encodePacketIn),
  nx_packet_in2: pair(decodePacketIn2, encodePacketIn2),
  packet_out: pair(decodePacketOut, encodePacketOut),
};
