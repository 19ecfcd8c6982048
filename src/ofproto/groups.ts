/**
 * OpenFlow groups of type all and select (OpenFlow 1.3 §5.6), in ovs-ofctl add-group syntax:
 *   group_id=1,type=all,bucket=output:1,bucket=mod_vlan_vid:10,output:2
 *   group_id=2,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2
 * Everything after `bucket=` up to the next `bucket=` is that bucket: optional `weight:N` /
 * `bucket_id:N`, then its actions (with or without `actions=`).
 *
 * Select picks a bucket from a symmetric hash of the L2-L4 addresses (OVS's
 * NX_HASH_FIELDS_SYMMETRIC_L4), weighted; xlate un-wildcards the hashed fields.
 */
import type { OfAction } from './actions.ts';
import { ETH, PROTO, W, type Words } from './flow.ts';
import { formatActions } from './format.ts';
import { FlowSyntaxError, parseUint, tokenize } from './parse-lex.ts';
import { parseActions } from './parse-actions.ts';
import { mix } from './hash.ts';

export interface Bucket {
  id: number;
  weight: number;
  actions: OfAction[];
}

export interface Group {
  id: number;
  type: 'all' | 'select';
  buckets: Bucket[];
}

/** OpenFlow 1.1+ ofp_bucket.weight is 16 bits; OpenFlow 1.5 bucket ids stop at OFPG15_BUCKET_MAX. */
const MAX_WEIGHT = 0xffff;
const MAX_BUCKET_ID = 0xffffff00;

export function parseGroup(text: string): Group {
  const bi = text.search(/(^|[\s,])bucket\s*=/);
  const head = bi < 0 ? text : text.slice(0, bi);
  let id: number | undefined;
  let type: Group['type'] | undefined;
  for (const tok of tokenize(head)) {
    const k = tok.key.toLowerCase();
    if (k === 'group_id' && tok.value !== undefined) id = Number(parseUint(tok.value, 0xffffff00n, tok, 'group_id'));
    else if (k === 'type' && (tok.value === 'all' || tok.value === 'select')) type = tok.value;
    else if (k === 'type') throw new FlowSyntaxError(`group type "${tok.value ?? ''}" is not supported (all, select)`, tok.pos, tok.text);
    else throw new FlowSyntaxError(`unknown group field "${tok.key}"`, tok.pos, tok.text);
  }
  if (id === undefined) throw new FlowSyntaxError('a group needs group_id', 0, text.slice(0, 20));
  if (type === undefined) throw new FlowSyntaxError('a group needs type=all or type=select', 0, text.slice(0, 20));
  const buckets: Bucket[] = [];
  if (bi >= 0) {
    const re = /(^|[\s,])bucket\s*=/g;
    const starts: [number, number][] = [];
    for (let m = re.exec(text); m; m = re.exec(text)) starts.push([m.index + m[1]!.length, m.index + m[0].length]);
    starts.forEach(([, body], i) => {
      let end = i + 1 < starts.length ? starts[i + 1]![0] : text.length;
      // Trailing separators end no action. A loop: /[\s,]+$/ backtracks quadratically on a
      // long run of commas that is not at the end.
      while (end > body && /[\s,]/.test(text[end - 1]!)) end--;
      const s = text.slice(body, end);
      const b: Bucket = { id: i, weight: 1, actions: [] };
      // Sticky regexes walk the bucket without re-slicing it for each option.
      const option = /(\s*)((weight|bucket_id)[:=](\d+))\s*,?/y;
      let at = 0;
      for (let m = option.exec(s); m; option.lastIndex = at, m = option.exec(s)) {
        const [all, space, token, name, digits] = m as unknown as [string, string, string, string, string];
        const pos = body + at + space.length;
        if (name === 'weight' && type !== 'select') {
          // As ovs-ofctl: a weight means nothing in an `all` group, and would not print back.
          throw new FlowSyntaxError('only select groups can have bucket weights', pos, token);
        }
        const max = name === 'weight' ? MAX_WEIGHT : MAX_BUCKET_ID;
        if (BigInt(digits) > BigInt(max)) throw new FlowSyntaxError(`${name}: ${digits} is out of range (max ${max})`, pos, token);
        if (name === 'weight') b.weight = Number(digits); else b.id = Number(digits);
        at += all.length;
      }
      const actions = /\s*actions?\s*[=:]/y;
      actions.lastIndex = at;
      const a = actions.exec(s);
      if (a) at += a[0].length;
      b.actions = parseActions(s.slice(at), body + at);
      buckets.push(b);
    });
  }
  if (type === 'select' && buckets.some((b) => b.weight === 0) && buckets.every((b) => b.weight === 0)) {
    throw new FlowSyntaxError('a select group needs a bucket with a non-zero weight', 0, text.slice(0, 20));
  }
  return { id, type, buckets };
}

export function formatGroup(g: Group): string {
  const bs = g.buckets.map((b) => `bucket=bucket_id:${b.id},${g.type === 'select' ? `weight:${b.weight},` : ''}actions=${formatActions(b.actions)}`);
  return [`group_id=${g.id}`, `type=${g.type}`, ...bs].join(',');
}

/**
 * The bucket a select group gives `flow`, and the fields the choice read (ORed into wc).
 * Symmetric: swapping source and destination picks the same bucket.
 */
export function selectBucket(g: Group, flow: Words, wc: Words): Bucket | undefined {
  const live = g.buckets.filter((b) => b.weight > 0);
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
