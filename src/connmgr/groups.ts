/**
 * Groups from the OpenFlow channel (OVS ofproto.c handle_group_mod and the group multipart
 * requests), on the bridge's one group table (Pipeline.groups: the table offline trace and any
 * other path also use).
 *
 * The wire messages (src/openflow/msg-group.ts, msg-meter-group.ts) carry numbers; this file
 * gives them their meaning and OpenFlow's errors:
 *   - an unknown command is OFPGMFC_BAD_COMMAND, an unknown type OFPGMFC_BAD_TYPE;
 *   - command_bucket_id must be "all" except for insert_bucket (a bucket id, first or last) and
 *     remove_bucket (those or all): otherwise OFPGMFC_BAD_BUCKET (OVS ofputil_pull_ofp15_group_mod);
 *   - the table's own refusals (ofproto/group-mod.ts GroupModError) become OFPGMFC_<code>;
 *   - a flow whose actions use a group that does not exist is OFPBAC_BAD_OUT_GROUP
 *     (checkGroupRefs, OVS ofproto_check_ofpacts).
 * Group-mods apply whole or not at all, and ask for revalidation like flow-mods (the caller
 * keeps the promise for the next barrier).
 */
import {
  BUCKET_ALL, BUCKET_FIRST, BUCKET_LAST, GROUP_TYPES, GroupModError, groupsUsed, OFPG_ALL, OFPG_ANY, OFPG_MAX, OFPP,
  rulesUsingGroup, type Bucket, type Group, type GroupModCommand, type OfAction, type Pipeline,
} from '../ofproto/index.ts';
import {
  OFP10, OfpError, type GroupDesc, type GroupFeatures, type GroupModMsg, type GroupStats, type WireBucket,
} from '../openflow/index.ts';
import type { Applied, BridgeRuntime } from '../vswitch/index.ts';

export type GroupRuntime = Pick<BridgeRuntime, 'ofproto' | 'applyGroupMod'>;

/** OFPGC11_* / OFPGC15_* numbers (OVS: add_or_mod is its own 0x8000). */
const COMMANDS = new Map<number, GroupModCommand>([
  [0, 'add'], [1, 'modify'], [2, 'delete'], [3, 'insert_bucket'], [5, 'remove_bucket'], [0x8000, 'add_or_mod'],
]);
/** OFPGFC_SELECT_WEIGHT | SELECT_LIVENESS | CHAINING, as OVS advertises. */
const CAPABILITIES = 0x1 | 0x2 | 0x4;
/** 1.1+ action bits bvs runs: output, set_nw_ttl... (OFPAT11 numbers) below; 1.0: OFPAT10 0..10. */
const ACTIONS_11 = (1 << 0) | (1 << 17) | (1 << 18) | (1 << 22) | (1 << 23) | (1 << 24) | (1 << 25);
const ACTIONS_10 = 0x7ff;

function toBucket(b: WireBucket): Bucket {
  const out: Bucket = { id: b.id, weight: b.weight, actions: b.actions, packets: 0, bytes: 0 };
  if (b.watchPort !== OFPP.NONE) out.watchPort = b.watchPort;
  if (b.watchGroup !== OFPG_ANY) out.watchGroup = b.watchGroup;
  return out;
}

function toWire(b: Bucket): WireBucket {
  return { id: b.id, weight: b.weight, watchPort: b.watchPort ?? OFPP.NONE, watchGroup: b.watchGroup ?? OFPG_ANY, actions: b.actions };
}

function checkCommandBucket(command: GroupModCommand, id: number): void {
  const anchor = id <= OFPG_MAX || id === BUCKET_FIRST || id === BUCKET_LAST;
  const ok = command === 'insert_bucket' ? anchor : command === 'remove_bucket' ? anchor || id === BUCKET_ALL : id === BUCKET_ALL;
  if (!ok) throw new OfpError('OFPGMFC_BAD_BUCKET', `command_bucket_id 0x${id.toString(16)} with ${command}`);
}

/** OFPT_GROUP_MOD / NXT_GROUP_MOD. */
export function groupMod(rt: GroupRuntime, m: GroupModMsg): Applied {
  const command = COMMANDS.get(m.command);
  if (!command) throw new OfpError('OFPGMFC_BAD_COMMAND', `group command ${m.command}`);
  const type = GROUP_TYPES[m.type];
  if (!type && command !== 'delete') throw new OfpError('OFPGMFC_BAD_TYPE', `group type ${m.type}`);
  checkCommandBucket(command, m.commandBucketId);
  try {
    return rt.applyGroupMod({ command, id: m.groupId, type: type ?? 'all', buckets: m.buckets.map(toBucket), commandBucketId: m.commandBucketId });
  } catch (err) {
    if (err instanceof GroupModError) throw new OfpError(`OFPGMFC_${err.code}`, err.message, { cause: err });
    throw err;
  }
}

function selectedGroups(p: Pipeline, id: number): Group[] {
  if (id === OFPG_ALL) return [...p.groups.values()].sort((a, b) => a.id - b.id);
  const g = p.groups.get(id);
  return g ? [g] : [];
}

/** OFPST_GROUP: counters credited from the datapath; ref_count is the flows using the group. */
export function groupStats(rt: GroupRuntime, id: number): GroupStats[] {
  const p = rt.ofproto.pipeline;
  const now = p.now();
  return selectedGroups(p, id).map((g) => {
    const age = Math.max(0, now - g.created);
    return {
      groupId: g.id, refCount: rulesUsingGroup(p, g.id).length, packetCount: BigInt(g.packets), byteCount: BigInt(g.bytes),
      durationSec: Math.floor(age / 1000), durationNsec: (age % 1000) * 1_000_000,
      buckets: g.buckets.map((b) => ({ packetCount: BigInt(b.packets), byteCount: BigInt(b.bytes) })),
    };
  });
}

/** OFPST_GROUP_DESC. */
export function groupDescs(rt: GroupRuntime, id: number): GroupDesc[] {
  return selectedGroups(rt.ofproto.pipeline, id).map((g) => ({ type: GROUP_TYPES.indexOf(g.type), groupId: g.id, buckets: g.buckets.map(toWire) }));
}

/** OFPST_GROUP_FEATURES: every type, OFPG_MAX groups each, the actions bvs runs. */
export function groupFeatures(version: number): GroupFeatures {
  const actions = version === OFP10 ? ACTIONS_10 : ACTIONS_11;
  return { types: 0xf, capabilities: CAPABILITIES, maxGroups: [OFPG_MAX, OFPG_MAX, OFPG_MAX, OFPG_MAX], actions: [actions, actions, actions, actions] };
}

/** A flow may only use groups that exist (OVS ofproto_check_ofpacts): OFPBAC_BAD_OUT_GROUP. */
export function checkGroupRefs(p: Pipeline, actions: readonly OfAction[]): void {
  for (const id of groupsUsed(actions)) {
    if (!p.groups.has(id)) throw new OfpError('OFPBAC_BAD_OUT_GROUP', `group ${id} does not exist`);
  }
}
