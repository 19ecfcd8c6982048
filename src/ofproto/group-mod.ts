/**
 * Group-mods on a pipeline's group table, with OpenFlow's semantics (1.3 §6.5, 1.5 §7.3.4.2) as
 * OVS's ofproto.c applies them (add_group_start, modify_group_start, delete_groups_start,
 * copy_buckets_for_insert/remove_bucket) and ofputil_check_group_mod checks them:
 *
 *   - add of an existing id: GROUP_EXISTS; modify (and insert/remove bucket) of a missing one:
 *     UNKNOWN_GROUP; add_or_mod does whichever applies; delete of a missing id does nothing;
 *     delete of OFPG_ALL deletes every group.
 *   - Deleting a group deletes the flows whose actions use it (OVS: OFPRR_GROUP_DELETE).
 *   - A modify replaces the group: new buckets, counters from zero, the creation time kept.
 *   - Checks: group id <= OFPG_MAX (INVALID_GROUP); indirect has exactly one bucket
 *     (INVALID_GROUP); weights only in select groups (INVALID_GROUP); watches in all/indirect
 *     (WATCH_UNSUPPORTED); an ff bucket must watch something (INVALID_GROUP); bucket ids unique
 *     (BAD_BUCKET); remove_bucket carries no buckets (BAD_BUCKET); insert_bucket's new ids
 *     must be free (BUCKET_EXISTS) and its/remove_bucket's anchor must exist (UNKNOWN_BUCKET).
 *   - A group whose buckets lead back to itself through group actions or watch_group is
 *     refused with LOOP (OpenFlow 1.3 §6.5). OVS accepts it and cuts the recursion when
 *     translating; refusing it is what the specification asks and costs one walk.
 *
 * Every check runs before anything changes: a group-mod applies whole or not at all. Errors
 * are GroupModError carrying the OFPGMFC code name; the OpenFlow layer turns them into
 * OFPT_ERROR (src/connmgr/groups.ts).
 */
import type { OfAction } from './actions.ts';
import { BUCKET_MAX, OFPG_ALL, OFPG_MAX, type Bucket, type Group, type GroupType } from './groups.ts';
import type { Pipeline, Rule } from './table.ts';

export type GroupModCommand = 'add' | 'modify' | 'add_or_mod' | 'delete' | 'insert_bucket' | 'remove_bucket';
/** OFPG15_BUCKET_FIRST / LAST / ALL: command_bucket_id's special values. */
export const BUCKET_FIRST = 0xfffffffd;
export const BUCKET_LAST = 0xfffffffe;
export const BUCKET_ALL = 0xffffffff;

export interface GroupMod {
  command: GroupModCommand;
  id: number;
  type: GroupType;
  buckets: Bucket[];
  /** insert_bucket: after which bucket (or FIRST/LAST); remove_bucket: which (or FIRST/LAST/ALL). */
  commandBucketId: number;
}

export type GroupModCode =
  | 'GROUP_EXISTS' | 'INVALID_GROUP' | 'UNKNOWN_GROUP' | 'BAD_TYPE' | 'BAD_BUCKET' | 'WATCH_UNSUPPORTED'
  | 'LOOP' | 'UNKNOWN_BUCKET' | 'BUCKET_EXISTS';

export class GroupModError extends Error {
  override name = 'GroupModError';
  constructor(readonly code: GroupModCode, message: string) {
    super(message);
  }
}

export interface GroupModResult {
  /** The flows deleted with the groups they used. */
  removedRules: Rule[];
  /** Whether anything changed (megaflows need revalidating). */
  changed: boolean;
}

/** The group ids an action list uses, nested lists (clone) included. */
export function groupsUsed(actions: readonly OfAction[], out = new Set<number>()): Set<number> {
  for (const a of actions) {
    if (a.type === 'group') out.add(a.id);
    else if (a.type === 'clone') groupsUsed(a.actions, out);
  }
  return out;
}

/** The rules whose actions use group `id`: OpenFlow's group reference count. */
export function rulesUsingGroup(p: Pipeline, id: number): Rule[] {
  return p.allRules().filter((r) => groupsUsed(r.actions).has(id));
}

/** Applies one group-mod to `p`; throws GroupModError (nothing changed) when it is refused. */
export function applyGroupMod(p: Pipeline, gm: GroupMod): GroupModResult {
  if (gm.command === 'delete') return deleteGroups(p, gm.id);
  if (gm.id > OFPG_MAX) throw new GroupModError('INVALID_GROUP', `group id ${gm.id} is above OFPG_MAX`);
  const old = p.groups.get(gm.id);
  let command = gm.command;
  if (command === 'add_or_mod') command = old ? 'modify' : 'add';
  if (command === 'add' && old) throw new GroupModError('GROUP_EXISTS', `group ${gm.id} exists`);
  if (command !== 'add' && !old) throw new GroupModError('UNKNOWN_GROUP', `no group ${gm.id}`);
  // Inserting or removing buckets keeps the group's type (OVS, EXT-570).
  const type = command === 'insert_bucket' || command === 'remove_bucket' ? old!.type : gm.type;
  checkBuckets(type, gm);
  let buckets = gm.buckets;
  if (command === 'insert_bucket') buckets = insertBuckets(old!.buckets, gm.buckets, gm.commandBucketId);
  else if (command === 'remove_bucket') buckets = removeBuckets(old!.buckets, gm.commandBucketId);
  if (type === 'indirect' && buckets.length !== 1) throw new GroupModError('INVALID_GROUP', 'an indirect group has exactly one bucket');
  const g: Group = {
    id: gm.id, type, buckets: buckets.map((b) => ({ ...b, packets: 0, bytes: 0 })), packets: 0, bytes: 0,
    created: old?.created ?? p.now(),
  };
  if (reaches(p, g, gm.id)) throw new GroupModError('LOOP', `group ${gm.id} would lead back to itself`);
  p.addGroup(g);
  return { removedRules: [], changed: true };
}

function deleteGroups(p: Pipeline, id: number): GroupModResult {
  const ids = id === OFPG_ALL ? [...p.groups.keys()] : p.groups.has(id) ? [id] : [];
  const removedRules: Rule[] = [];
  if (ids.length === 0) return { removedRules, changed: false };
  const gone = new Set(ids);
  for (const r of p.allRules()) {
    for (const g of groupsUsed(r.actions)) if (gone.has(g)) { removedRules.push(r); break; }
  }
  for (const r of removedRules) p.removeRule(r);
  for (const g of ids) p.deleteGroup(g);
  return { removedRules, changed: true };
}

/** OVS ofputil_check_group_mod, for the buckets the message carries. */
function checkBuckets(type: GroupType, gm: GroupMod): void {
  if (gm.command === 'remove_bucket' && gm.buckets.length > 0) throw new GroupModError('BAD_BUCKET', 'remove_bucket carries no buckets');
  const ids = new Set<number>();
  for (const b of gm.buckets) {
    if (b.id > BUCKET_MAX) throw new GroupModError('BAD_BUCKET', `bucket id ${b.id} is out of range`);
    if (ids.has(b.id)) throw new GroupModError('BAD_BUCKET', `bucket id ${b.id} appears twice`);
    ids.add(b.id);
    if (b.weight !== 0 && type !== 'select' && gm.command !== 'insert_bucket') {
      throw new GroupModError('INVALID_GROUP', `a ${type} group has no bucket weights`);
    }
    const watches = b.watchPort !== undefined || b.watchGroup !== undefined;
    if (watches && (type === 'all' || type === 'indirect')) throw new GroupModError('WATCH_UNSUPPORTED', `a ${type} group watches nothing`);
    if (!watches && type === 'ff') throw new GroupModError('INVALID_GROUP', `fast failover bucket ${b.id} watches no port or group`);
  }
}

function insertBuckets(old: readonly Bucket[], add: readonly Bucket[], at: number): Bucket[] {
  let i: number;
  if (at === BUCKET_FIRST) i = 0;
  else if (at === BUCKET_LAST) i = old.length;
  else {
    const k = old.findIndex((b) => b.id === at);
    if (k < 0) throw new GroupModError('UNKNOWN_BUCKET', `no bucket ${at} to insert after`);
    i = k + 1;
  }
  for (const b of add) if (old.some((o) => o.id === b.id)) throw new GroupModError('BUCKET_EXISTS', `bucket ${b.id} exists`);
  return [...old.slice(0, i), ...add, ...old.slice(i)];
}

function removeBuckets(old: readonly Bucket[], which: number): Bucket[] {
  if (which === BUCKET_ALL) return [];
  if (which === BUCKET_FIRST) return old.slice(1);
  if (which === BUCKET_LAST) return old.slice(0, -1);
  const k = old.findIndex((b) => b.id === which);
  if (k < 0) throw new GroupModError('UNKNOWN_BUCKET', `no bucket ${which} to remove`);
  return [...old.slice(0, k), ...old.slice(k + 1)];
}

/** Whether `g` (about to replace the group of its id) leads to group `target` (a DFS). */
function reaches(p: Pipeline, g: Group, target: number): boolean {
  const seen = new Set<number>();
  const next = (x: Group): number[] => x.buckets.flatMap((b) => [...groupsUsed(b.actions), ...(b.watchGroup !== undefined ? [b.watchGroup] : [])]);
  const stack = next(g);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    const x = p.groups.get(id);
    if (x) stack.push(...next(x));
  }
  return false;
}
