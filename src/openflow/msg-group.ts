/**
 * The group messages that carry buckets of actions: group-mod and the group desc reply, in the
 * two layouts OVS speaks (lib/ofp-group.c).
 *
 *   1.1-1.4 (ofp11): group_mod = command u16, type u8, pad, group_id u32, then buckets; a bucket
 *     is len u16, weight u16, watch_port u32, watch_group u32, pad 4, actions. Bucket ids are not
 *     on the wire: they are the buckets' positions (0, 1, ...). Desc entry = length u16, type u8,
 *     pad, group_id u32, buckets.
 *   1.5, and OpenFlow 1.0 through Nicira's NXT_GROUP_MOD / NXST_GROUP_DESC (ofp15): group_mod =
 *     command u16, type u8, pad, group_id u32, bucket_array_len u16, pad 2, command_bucket_id u32,
 *     buckets, group properties; a bucket is len u16, action_array_len u16, bucket_id u32,
 *     actions, then properties (OFPGBPT15_WEIGHT u16, WATCH_PORT u32, WATCH_GROUP u32). Desc entry
 *     = length u16, type u8, pad, group_id u32, bucket_list_len u16, pad 6, buckets, properties.
 *     A missing weight is 1 in a select group and 0 otherwise, as OVS reads it.
 *
 * Actions are the version's action lists (actions.ts: OpenFlow 1.0 actions and Nicira's in
 * 1.0). Ports are bvs numbers (16-bit, OFPP_NONE for "no watch_port"); group ids and command
 * and type stay numbers here, so that a value the switch refuses (BAD_COMMAND, BAD_TYPE) is
 * refused there with the right code. Group properties (NTR selection_method) are refused with
 * OFPBPC_BAD_TYPE: bvs selects with its own hash only.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { OFPP } from '../ofproto/flow.ts';
import { decodeActions, encodeActions } from './actions.ts';
import { Reader, Writer, readProps, writeProp } from './bytes.ts';
import { OfpError } from './errors.ts';
import { portFromOf11, portToOf11 } from './oxm.ts';
import { OFP10, OFP15, type OfpVersion } from './version.ts';

export interface WireBucket {
  id: number;
  weight: number;
  /** bvs port number; OFPP_NONE (0xffff) for none. */
  watchPort: number;
  /** OFPG_ANY (0xffffffff) for none. */
  watchGroup: number;
  actions: OfAction[];
}
export interface GroupModMsg { command: number; type: number; groupId: number; commandBucketId: number; buckets: WireBucket[] }
export interface GroupDesc { type: number; groupId: number; buckets: WireBucket[] }

export const OFPGC = { add: 0, modify: 1, delete: 2, add_or_mod: 0x8000, insert_bucket: 3, remove_bucket: 5 } as const;
export const OFPGT_SELECT = 1;
const OFPG_ANY = 0xffffffff;
const OFPG15_BUCKET_ALL = 0xffffffff;
const OFPGBPT = { weight: 0, watchPort: 1, watchGroup: 2 } as const;
const BUCKET11_LEN = 16;
const BUCKET15_LEN = 8;

/** The 1.5 layout in 1.5 and, through Nicira's messages, in 1.0. */
const ofp15 = (v: number): boolean => v === OFP10 || v >= OFP15;

function watchPortFrom(p: number): number {
  const port = portFromOf11(p);
  if (port === undefined) throw new OfpError('OFPGMFC_BAD_WATCH', `watch_port 0x${p.toString(16)}`);
  return port;
}

function bucketErr(what: string): OfpError {
  return new OfpError('OFPGMFC_BAD_BUCKET', what);
}

/** Splits the next bucket (its u16 length first) off `r`; a short or overlong one is BAD_BUCKET. */
function nextBucket(r: Reader, min: number): Reader {
  if (r.remaining < min) throw bucketErr(`buckets end with ${r.remaining} leftover bytes`);
  const len = (r.b[r.off]! << 8) | r.b[r.off + 1]!;
  if (len < min || len > r.remaining) throw bucketErr(`bucket of length ${len} (${r.remaining} bytes left)`);
  return r.sub(len, 'bucket');
}

function readBuckets11(v: number, r: Reader): WireBucket[] {
  const out: WireBucket[] = [];
  while (r.remaining > 0) {
    const b = nextBucket(r, BUCKET11_LEN);
    b.skip(2);
    const weight = b.u16(), watchPort = watchPortFrom(b.u32()), watchGroup = b.u32();
    b.skip(4);
    out.push({ id: out.length, weight, watchPort, watchGroup, actions: decodeActions(v as OfpVersion, b.rest()) });
  }
  return out;
}

function writeBuckets11(v: number, w: Writer, buckets: readonly WireBucket[]): void {
  for (const b of buckets) {
    const actions = encodeActions(v as OfpVersion, b.actions);
    w.u16(BUCKET11_LEN + actions.length).u16(b.weight).u32(portToOf11(b.watchPort)).u32(b.watchGroup).pad(4).bytes(actions);
  }
}

function readBuckets15(v: number, r: Reader, type: number): WireBucket[] {
  const out: WireBucket[] = [];
  while (r.remaining > 0) {
    const b = nextBucket(r, BUCKET15_LEN);
    const len = b.u16(), actionsLen = b.u16(), id = b.u32();
    if (actionsLen > len - BUCKET15_LEN) throw bucketErr(`bucket actions of ${actionsLen} bytes in a bucket of ${len}`);
    const actions = decodeActions(v as OfpVersion, b.bytes(actionsLen));
    let weight = type === OFPGT_SELECT ? 1 : 0, watchPort: number = OFPP.NONE, watchGroup = OFPG_ANY;
    for (const p of readProps(b, 'group bucket')) {
      if (p.type === OFPGBPT.weight) weight = p.r.u16();
      else if (p.type === OFPGBPT.watchPort) { watchPort = watchPortFrom(p.r.u32()); p.r.end(); }
      else if (p.type === OFPGBPT.watchGroup) { watchGroup = p.r.u32(); p.r.end(); }
      else throw new OfpError('OFPBPC_BAD_TYPE', `group bucket property ${p.type}`);
    }
    if (id > 0xffffff00) throw bucketErr(`bucket id ${id} is out of range`);
    if (out.some((o) => o.id === id)) throw bucketErr(`bucket id ${id} appears twice`);
    out.push({ id, weight, watchPort, watchGroup, actions });
  }
  return out;
}

function writeBuckets15(v: number, w: Writer, buckets: readonly WireBucket[], type: number): void {
  for (const b of buckets) {
    const start = w.len;
    const actions = encodeActions(v as OfpVersion, b.actions);
    w.u16(0).u16(actions.length).u32(b.id).bytes(actions);
    if (type === OFPGT_SELECT || b.weight !== 0) writeProp(w, OFPGBPT.weight, (x) => x.u16(b.weight).pad(2));
    if (b.watchPort !== OFPP.NONE) writeProp(w, OFPGBPT.watchPort, (x) => x.u32(portToOf11(b.watchPort)));
    if (b.watchGroup !== OFPG_ANY) writeProp(w, OFPGBPT.watchGroup, (x) => x.u32(b.watchGroup));
    w.setU16(start, w.len - start);
  }
}

function refuseGroupProps(r: Reader): void {
  for (const p of readProps(r, 'group')) throw new OfpError('OFPBPC_BAD_TYPE', `group property ${p.type} (bvs has no selection methods)`);
}

export function decodeGroupMod(v: number, body: Uint8Array): GroupModMsg {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'group mod');
  const command = r.u16(), type = r.u8();
  r.skip(1);
  const groupId = r.u32();
  if (!ofp15(v)) {
    const buckets = readBuckets11(v, r);
    // OpenFlow 1.3.5+ prescribes an error for a delete that carries buckets (OVS does too).
    if (command === OFPGC.delete && buckets.length > 0) throw new OfpError('OFPGMFC_INVALID_GROUP', 'a group delete carries no buckets');
    return { command, type, groupId, commandBucketId: OFPG15_BUCKET_ALL, buckets };
  }
  const listLen = r.u16();
  r.skip(2);
  const commandBucketId = r.u32();
  if (listLen > r.remaining) throw new OfpError('OFPBRC_BAD_LEN', `bucket list of ${listLen} bytes, ${r.remaining} left`);
  const buckets = readBuckets15(v, r.sub(listLen, 'buckets'), type);
  refuseGroupProps(r);
  return { command, type, groupId, commandBucketId, buckets };
}

export function encodeGroupMod(v: number, m: GroupModMsg): Uint8Array {
  const w = new Writer().u16(m.command).u8(m.type).pad(1).u32(m.groupId);
  if (!ofp15(v)) { writeBuckets11(v, w, m.buckets); return w.finish(); }
  const at = w.len;
  w.u16(0).pad(2).u32(m.commandBucketId);
  const start = w.len;
  writeBuckets15(v, w, m.buckets, m.type);
  w.setU16(at, w.len - start);
  return w.finish();
}

const DESC11_LEN = 8;
const DESC15_LEN = 16;

export function decodeGroupDescs(v: number, body: Uint8Array): { groups: GroupDesc[] } {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'group desc');
  const groups: GroupDesc[] = [];
  const min = ofp15(v) ? DESC15_LEN : DESC11_LEN;
  while (r.remaining > 0) {
    r.need(2);
    const len = (r.b[r.off]! << 8) | r.b[r.off + 1]!;
    if (len < min) throw new OfpError('OFPBRC_BAD_LEN', `group desc entry of length ${len}`);
    const e = r.sub(len, 'group desc entry');
    e.skip(2);
    const type = e.u8();
    e.skip(1);
    const groupId = e.u32();
    if (!ofp15(v)) { groups.push({ type, groupId, buckets: readBuckets11(v, e) }); continue; }
    const listLen = e.u16();
    e.skip(6);
    if (listLen > e.remaining) throw new OfpError('OFPBRC_BAD_LEN', `bucket list of ${listLen} bytes, ${e.remaining} left`);
    groups.push({ type, groupId, buckets: readBuckets15(v, e.sub(listLen, 'buckets'), type) });
    refuseGroupProps(e);
  }
  return { groups };
}

export function encodeGroupDescEntries(v: number, m: { groups: readonly GroupDesc[] }): Uint8Array[] {
  return m.groups.map((g) => {
    const w = new Writer().u16(0).u8(g.type).pad(1).u32(g.groupId);
    if (!ofp15(v)) writeBuckets11(v, w, g.buckets);
    else {
      w.u16(0).pad(6);
      writeBuckets15(v, w, g.buckets, g.type);
      w.setU16(8, w.len - DESC15_LEN);
    }
    w.setU16(0, w.len);
    return w.finish();
  });
}
