/**
 * OpenFlow groups (OpenFlow 1.3 §5.6, OVS ofproto's ofgroup): the model, the ovs-ofctl
 * add-group syntax, and the two choices a translation makes, liveness and selection.
 *
 *   group_id=1,type=all,bucket=output:1,bucket=mod_vlan_vid:10,output:2
 *   group_id=2,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2
 *   group_id=3,type=indirect,bucket=output:4
 *   group_id=4,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3
 *
 * Everything after `bucket=` up to the next `bucket=` is that bucket: optional `weight:N`,
 * `bucket_id:N`, `watch_port:P`, `watch_group:G`, then its actions (with or without `actions=`).
 *
 * Types: `all` runs every bucket on a copy of the packet; `indirect` its one bucket; `select` one
 * live bucket chosen by a symmetric hash of the L2-L4 addresses (OVS's NX_HASH_FIELDS_SYMMETRIC_L4),
 * weighted; `ff` (fast failover) the first live bucket. A bucket is live when it watches nothing,
 * or its watch_port is a port of the bridge with its link up, or its watch_group has a live bucket
 * (OVS bucket_is_alive); a select bucket of weight 0 never is. Liveness is bridge state (ports'
 * link state bumps Bridge.portGeneration; group changes the pipeline generation), so megaflows
 * that depended on it are revalidated when it changes, and it adds nothing to the megaflow mask.
 *
 * Counters: each group and bucket counts the packets and bytes the datapath credited to the
 * megaflows that went through it (xlate records GroupHits; the upcall handler and revalidator
 * credit them, as for rules).
 */
import type { OfAction } from './actions.ts';
import { ETH, OFPP, PROTO, W, formatPort, parsePortName, type Words } from './flow.ts';
import { formatActions } from './format.ts';
import { FlowSyntaxError, parseUint, tokenize } from './parse-lex.ts';
import { parseActions } from './parse-actions.ts';
import { mix } from './hash.ts';

/** In OFPGT11_* order: the wire type is the index. `ff` is OVS's name for fast failover. */
export const GROUP_TYPES = ['all', 'select', 'indirect', 'ff'] as const;
export type GroupType = (typeof GROUP_TYPES)[number];

export interface Bucket {
  id: number;
  /** Select groups: the share of flows (default 1). Other types: 0. */
  weight: number;
  /** An OpenFlow port whose liveness decides the bucket's; absent: none (OFPP_ANY). */
  watchPort?: number;
  /** A group whose liveness decides the bucket's; absent: none (OFPG_ANY). */
  watchGroup?: number;
  actions: OfAction[];
  packets: number;
  bytes: number;
}

export interface Group {
  id: number;
  type: GroupType;
  buckets: Bucket[];
  packets: number;
  bytes: number;
  /** When it was added (ms, the pipeline's clock); a modify keeps it, as OVS does. */
  created: number;
}

/** One group (and, for select/ff, the bucket) a translation went through: what gets credited. */
export interface GroupHit { group: Group; bucket: Bucket | undefined }

/** OpenFlow 1.1+ group ids stop at OFPG_MAX; 1.5 bucket ids at OFPG15_BUCKET_MAX. */
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;
export const BUCKET_MAX = 0xffffff00;
const MAX_WEIGHT = 0xffff;
/** OVS MAX_LIVENESS_RECURSION: watch_group chains deeper than this are not live. */
const MAX_LIVENESS_DEPTH = 128;

export function newBucket(id: number, type: GroupType, actions: OfAction[] = []): Bucket {
  return { id, weight: type === 'select' ? 1 : 0, actions, packets: 0, bytes: 0 };
}

export function parseGroup(text: string): Group {
  const bi = text.search(/(^|[\s,])bucket\s*=/);
  const head = bi < 0 ? text : text.slice(0, bi);
  let id: number | undefined;
  let type: GroupType | undefined;
  for (const tok of tokenize(head)) {
    const k = tok.key.toLowerCase();
    if (k === 'group_id' && tok.value !== undefined) id = Number(parseUint(tok.value, BigInt(OFPG_MAX), tok, 'group_id'));
    else if (k === 'type') {
      const v = tok.value === 'fast_failover' ? 'ff' : tok.value;
      type = GROUP_TYPES.find((t) => t === v);
      if (!type) throw new FlowSyntaxError(`group type "${tok.value ?? ''}" is not supported (all, select, indirect, ff)`, tok.pos, tok.text);
    } else throw new FlowSyntaxError(`unknown group field "${tok.key}"`, tok.pos, tok.text);
  }
  if (id === undefined) throw new FlowSyntaxError('a group needs group_id', 0, text.slice(0, 20));
  if (type === undefined) throw new FlowSyntaxError('a group needs a type (all, select, indirect, ff)', 0, text.slice(0, 20));
  const buckets = bi < 0 ? [] : parseBuckets(text, type);
  if (type === 'indirect' && buckets.length > 1) throw new FlowSyntaxError('indirect groups can have at most one bucket', bi, 'bucket=');
  return { id, type, buckets, packets: 0, bytes: 0, created: 0 };
}

function parseBuckets(text: string, type: GroupType): Bucket[] {
  const re = /(^|[\s,])bucket\s*=/g;
  const starts: [number, number][] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push([m.index + m[1]!.length, m.index + m[0].length]);
  return starts.map(([, body], i) => {
    let end = i + 1 < starts.length ? starts[i + 1]![0] : text.length;
    // Trailing separators end no action. A loop: /[\s,]+$/ backtracks quadratically on a
    // long run of commas that is not at the end.
    while (end > body && /[\s,]/.test(text[end - 1]!)) end--;
    const s = text.slice(body, end);
    const b = newBucket(i, type);
    // Sticky regexes walk the bucket without re-slicing it for each option.
    const option = /(\s*)((weight|bucket_id|watch_port|watch_group)[:=]([A-Za-z0-9_]+))\s*,?/y;
    let at = 0;
    for (let m = option.exec(s); m; option.lastIndex = at, m = option.exec(s)) {
      const [all, space, token, name, value] = m as unknown as [string, string, string, string, string];
      const bad = (msg: string): FlowSyntaxError => new FlowSyntaxError(msg, body + at + space.length, token);
      if (name === 'watch_port') {
        const p = parsePortName(value);
        // As ovs-ofctl: a physical port or CONTROLLER.
        if (p === undefined || (p >= OFPP.MAX && p !== OFPP.CONTROLLER)) throw bad(`${value}: invalid watch_port`);
        b.watchPort = p;
      } else {
        if (!/^\d+$/.test(value)) throw bad(`${name}: "${value}" is not a number`);
        const max = name === 'weight' ? MAX_WEIGHT : name === 'watch_group' ? OFPG_MAX : BUCKET_MAX;
        if (BigInt(value) > BigInt(max)) throw bad(`${name}: ${value} is out of range (max ${max})`);
        const n = Number(value);
        // As ovs-ofctl: a weight means nothing outside a select group and would not print back.
        if (name === 'weight' && n !== 0 && type !== 'select') throw bad('only select groups can have bucket weights');
        if (name === 'weight') b.weight = n; else if (name === 'bucket_id') b.id = n; else b.watchGroup = n;
      }
      at += all.length;
    }
    const actions = /\s*actions?\s*[=:]/y;
    actions.lastIndex = at;
    const a = actions.exec(s);
    if (a) at += a[0].length;
    b.actions = parseActions(s.slice(at), body + at);
    if (type === 'ff' && b.watchPort === undefined && b.watchGroup === undefined) {
      throw new FlowSyntaxError('fast failover bucket requires watch_port or watch_group', body, s.slice(0, 20));
    }
    return b;
  });
}

/** ovs-ofctl dump-groups form (OpenFlow 1.5: bucket ids shown; select weights always). */
export function formatGroup(g: Group): string {
  const bs = g.buckets.map((b) => {
    const parts = [`bucket=bucket_id:${b.id}`];
    if (g.type === 'select' || b.weight !== 0) parts.push(`weight:${b.weight}`);
    if (b.watchPort !== undefined) parts.push(`watch_port:${formatPort(b.watchPort)}`);
    if (b.watchGroup !== undefined) parts.push(`watch_group:${b.watchGroup}`);
    parts.push(`actions=${formatActions(b.actions)}`);
    return parts.join(',');
  });
  return [`group_id=${g.id}`, `type=${g.type}`, ...bs].join(',');
}

/** What liveness reads of the bridge. */
export interface Liveness {
  portLive(ofport: number): boolean;
  group(id: number): Group | undefined;
}

/** OVS bucket_is_alive. A watch on CONTROLLER counts as live (bvs has no view of controllers here). */
export function bucketLive(l: Liveness, g: Group, b: Bucket, depth = 0): boolean {
  if (depth >= MAX_LIVENESS_DEPTH) return false;
  if (g.type === 'select' && b.weight === 0) return false;
  if (b.watchPort === undefined && b.watchGroup === undefined) return true;
  if (b.watchPort !== undefined && (b.watchPort === OFPP.CONTROLLER || l.portLive(b.watchPort))) return true;
  if (b.watchGroup !== undefined) {
    const w = l.group(b.watchGroup);
    if (w && firstLiveBucket(l, w, depth + 1)) return true;
  }
  return false;
}

export function firstLiveBucket(l: Liveness, g: Group, depth = 0): Bucket | undefined {
  return g.buckets.find((b) => bucketLive(l, g, b, depth));
}

/**
 * The bucket a select group gives `flow`, among the live ones, and the fields the choice read
 * (ORed into wc). Symmetric: swapping source and destination picks the same bucket.
 */
export function selectBucket(g: Group, flow: Words, wc: Words, l?: Liveness): Bucket | undefined {
  const live = g.buckets.filter((b) => (l ? bucketLive(l, g, b) : b.weight > 0));
  if (live.length === 0) return undefined;
  const read = (i: number, m: number): number => { wc[i] |= m; return flow[i]! & m; };
  let h = 0;
  h = mix(h, (read(W.DL_SRC, 0xffff) ^ read(W.DL_DST, 0xffff)) >>> 0);
  h = mix(h, (read(W.DL_SRC + 1, 0xffffffff) ^ read(W.DL_DST + 1, 0xffffffff)) >>> 0);
  h = mix(h, read(W.DL_TYPE, 0xffff));
  h = mix(h, read(W.VLAN_TCI, 0x1fff));
  const t = flow[W.DL_TYPE]!;
  if (t === ETH.IP || t === ETH.IPV6) {
    if (t === ETH.IP) h = mix(h, (read(W.NW_SRC, 0xffffffff) ^ read(W.NW_DST, 0xffffffff)) >>> 0);
    else for (let i = 0; i < 4; i++) h = mix(h, (read(W.IPV6_SRC + i, 0xffffffff) ^ read(W.IPV6_DST + i, 0xffffffff)) >>> 0);
    const p = read(W.NW_PROTO, 0xff);
    h = mix(h, p);
    if (p === PROTO.TCP || p === PROTO.UDP || p === PROTO.SCTP) h = mix(h, (read(W.TP_SRC, 0xffff) ^ read(W.TP_DST, 0xffff)) >>> 0);
  }
  const total = live.reduce((s, b) => s + b.weight, 0);
  let pick = (h >>> 0) % total;
  for (const b of live) {
    if (pick < b.weight) return b;
    pick -= b.weight;
  }
  return live[live.length - 1];
}

/**
 * Credits datapath statistics to the groups a megaflow went through: the group's totals and,
 * for select/ff, the chosen bucket; all/indirect run every bucket, so each is credited (OVS
 * group_dpif_credit_stats with no bucket).
 */
export function creditGroups(hits: readonly GroupHit[], packets: number, bytes: number): void {
  for (const { group, bucket } of hits) {
    group.packets += packets;
    group.bytes += bytes;
    for (const b of bucket ? [bucket] : group.buckets) { b.packets += packets; b.bytes += bytes; }
  }
}
