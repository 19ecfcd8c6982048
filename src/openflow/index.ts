/**
 * The public surface of src/openflow: the OpenFlow codec (framing, messages) and the channel
 * (one connection). The flow codecs (oxm, match, actions, flow-msgs) are exported here by the
 * lead when merged.
 */
export * from './version.ts';
export * from './errors.ts';
export {
  HEADER_LEN, MAX_MSG_LEN, OFPSF_REPLY_MORE, WIRE, kindOf, readHeader,
  wireOf, writeHeader, type MsgKind, type OfpHeader, type Wire,
} from './header.ts';
export {
  BODY, decodeMessage, encodeMessage, encodeReplies, errorMessage, type Bodies, type BodyCodec, type Decoded, type MessageOf,
  type OfpMessage, type RawBody,
} from './messages.ts';
export {
  OFPCR_ROLE, ASYNC_KINDS, type AsyncConfig, type AsyncKind, type Echo, type ErrorMsg, type FeaturesReply, type Hello,
  type RoleMsg, type RoleStatus, type SwitchConfig, type TableMod,
} from './msg-switch.ts';
export {
  OFPP_ANY, OFPP_MAX, OFPPR, portFrom10, portTo10, type OfpPort, type PortDescRequest, type PortMod, type PortStats,
  type PortStatus,
} from './msg-port.ts';
export { OFPTFPT, type Desc, type TableFeatureProp, type TableFeatures, type TableStats } from './msg-multipart.ts';
export { NX_ROLE, NXFF, NXPIF, type ControllerId, type FlowModTableId, type Format, type NxRole } from './msg-nx.ts';
export { OfConn, systemTimers, type CloseReason, type ConnHandlers, type ConnOptions, type ConnTimers } from './conn.ts';
export {
  decodeFlowMod, decodeNxFlowMod, encodeFlowMod, encodeNxFlowMod, FLOW_MOD_COMMAND, FLOW_MOD_FLAGS,
  type FlowModMsg, type FlowModOptions,
} from './flow-msgs.ts';
export type { AggregateStats, FlowStats, FlowStatsRequest } from './flow-stats.ts';
export type { FlowRemovedMsg, PacketInMsg, PacketOutMsg } from './packet-msgs.ts';
export type { FlowBodies } from './msg-flow.ts';
export { encodeContinuation, decodeContinuation, type ResumeMsg } from './msg-resume.ts';
export { OFPBCT, OFPBF, type BundleAdd, type BundleControl } from './msg-bundle.ts';
export { NXFME, NXFMF, type FlowMonitorRequest, type FlowUpdate } from './msg-monitor.ts';
export { OFPGC, type GroupDesc, type GroupModMsg, type WireBucket } from './msg-group.ts';
export type { GroupFeatures, GroupStats } from './msg-meter-group.ts';
export { OXM_CLASS, OXM_FIELDS, type OxmField } from './oxm.ts';
export type { MeterBand, MeterConfig, MeterFeatures, MeterMod, MeterStats } from './msg-meter-group.ts';
