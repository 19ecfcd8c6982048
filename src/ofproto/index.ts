/**
 * ofproto: the OpenFlow pipeline of bvs (public surface).
 *
 *   const br = new Bridge('br0', { now, mac: { maxEntries, idleSeconds, onMove } });
 *   br.addPort({ name: 'p1', ofport: 1, dpPort: 7, tag: 10 });           // access / trunks
 *   br.pipeline.add(parseFlow('priority=0,actions=NORMAL'));              // flow-mods
 *   const r = xlate(br, upcallKey, { sideEffects: true, onPacketIn });    // DpAction[] + megaflow
 *   isStale(br, r);                                                       // revalidation
 *   br.pipeline.credit(rule, packets, bytes, used); br.pipeline.expire(); br.mac.expire();
 *   trace(br, key) / formatTrace(report, 'br0');                          // ofproto/trace
 */
export { Bridge, BridgeError, PortSpecError, parsePortSpec, type BridgePort, type BridgeOptions, type PortConfig } from './bridge.ts';
export { Classifier, type ClsRule } from './classifier.ts';
export { Match } from './match.ts';
export { OFPP, W, N_WORDS, N_REGS, wordsFromKey, keyFromWords, type Words } from './flow.ts';
export { fieldByName, type FieldDef } from './fields.ts';
export { type OfAction, type SubField, type LearnAction, type LearnSpec, type HashFields, MAX_RESUBMIT_DEPTH } from './actions.ts';
export { FlowSyntaxError, parseFlow, DEFAULT_PRIORITY, type FlowMod, type ParseMode } from './parse.ts';
export { parseActions } from './parse-actions.ts';
export { formatMatch, formatActions, formatAction, formatFlow, formatFlowStats } from './format.ts';
export {
  Pipeline, Rule, TableError, N_TABLES, MAX_PRIORITY, REMOVED_REASON, type RemovedRule, type RemovedReason, type TableChange,
} from './table.ts';
export { undoable } from './txn.ts';
export { MacTable, isMulticastMac, type MacEntry, type MacDep, type LearnResult } from './mac-learning.ts';
export {
  parseGroup, formatGroup, selectBucket, creditGroups, newBucket, GROUP_TYPES, OFPG_ALL, OFPG_ANY, OFPG_MAX,
  type Group, type Bucket, type GroupHit, type GroupType,
} from './groups.ts';
export {
  applyGroupMod, groupsUsed, rulesUsingGroup, GroupModError, BUCKET_ALL, BUCKET_FIRST, BUCKET_LAST,
  type GroupMod, type GroupModCode, type GroupModCommand, type GroupModResult,
} from './group-mod.ts';
export {
  MeterTable, MeterError, METER_FLAGS, METER_BAND, OFPM_MAX, OFPM_ALL, checkMeterRefs, metersOf, rulesUsing,
  type Meter, type MeterSpec, type MeterBandSpec, type MeterErrorCode, type DatapathMeter,
} from './meters.ts';
export { xlate, xlateActions, xlateResume, isStale, inMegaflow, type XlateResult } from './xlate.ts';
export { bridgeId, sameBridge, type FrozenState, type FrozenFrame } from './freeze.ts';
export { applyLearned } from './xlate-learn.ts';
export { isConjunctive } from './conj.ts';
export { flowHash, multipathLink } from './hash.ts';
export {
  XlateError, encodeControllerCookie, decodeControllerCookie, USERSPACE_KIND,
  type LearnedFlow, type PacketInEvent, type XlateOptions, type TraceStep,
} from './xlate-ctx.ts';
export { trace, formatTrace, loadFlows, offlineBridge, packetFromText, formatPacket, TraceInputError, type TraceReport } from './trace.ts';
