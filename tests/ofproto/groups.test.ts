/**
 * Groups in ofproto: the group-mod semantics (group-mod.ts) and the four types in translation
 * (xlate-group.ts): indirect, fast failover following link state, select skipping dead buckets,
 * the megaflow going stale when liveness changes, and the hits credited to group and buckets.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { emptyKey } from '../../src/datapath/flow.ts';
import {
  applyGroupMod, Bridge, BUCKET_ALL, BUCKET_FIRST, creditGroups, formatGroup, GroupModError, isStale, OFPG_ALL, parseFlow,
  parseGroup, xlate, type GroupMod, type GroupModCommand,
} from '../../src/ofproto/index.ts';

const t = suite('ofproto-groups');

function bridge(): Bridge {
  const b = new Bridge('br0', { now: () => 5_000 });
  for (const i of [1, 2, 3, 4]) b.addPort({ name: `p${i}`, ofport: i });
  return b;
}

function mod(command: GroupModCommand, text: string, commandBucketId = BUCKET_ALL): GroupMod {
  const g = parseGroup(text);
  return { command, id: g.id, type: g.type, buckets: g.buckets, commandBucketId };
}

const key = () => ({ ...emptyKey(), inPort: 1, ethType: 0x0800, ipProto: 17, ipv4Src: 0x0a000001, ipv4Dst: 0x0a000002, tpSrc: 5, tpDst: 6 });
const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { if (e instanceof GroupModError) return e.code; throw e; }
  return undefined;
};

t('group-mod: add, modify keeps the creation time, add_or_mod, delete takes the flows using it', () => {
  const b = bridge();
  const p = b.pipeline;
  applyGroupMod(p, mod('add', 'group_id=1,type=all,bucket=output:2'));
  assert.is(code(() => applyGroupMod(p, mod('add', 'group_id=1,type=all,bucket=output:3'))), 'GROUP_EXISTS');
  assert.is(code(() => applyGroupMod(p, mod('modify', 'group_id=2,type=all,bucket=output:3'))), 'UNKNOWN_GROUP');
  applyGroupMod(p, mod('add_or_mod', 'group_id=2,type=indirect,bucket=output:3'));
  applyGroupMod(p, mod('modify', 'group_id=1,type=select,bucket=output:3,bucket=output:4'));
  assert.is(formatGroup(p.groups.get(1)!), 'group_id=1,type=select,bucket=bucket_id:0,weight:1,actions=output:3,bucket=bucket_id:1,weight:1,actions=output:4');
  assert.is(p.groups.get(1)!.created, 5_000);
  p.add(parseFlow('priority=5,udp,actions=group:1'));
  p.add(parseFlow('priority=6,tcp,actions=clone(group:2)'));
  p.add(parseFlow('priority=7,icmp,actions=output:1'));
  const r = applyGroupMod(p, { command: 'delete', id: OFPG_ALL, type: 'all', buckets: [], commandBucketId: BUCKET_ALL });
  assert.is(r.removedRules.length, 2);
  assert.equal(p.allRules().map((x) => x.priority), [7]);
  assert.is(p.groups.size, 0);
});

t('group-mod refusals apply nothing', () => {
  const p = bridge().pipeline;
  applyGroupMod(p, mod('add', 'group_id=1,type=all,bucket=output:2'));
  const gen = p.generation;
  const cases: [GroupMod, string][] = [
    [mod('add', 'group_id=2,type=indirect'), 'INVALID_GROUP'],
    [{ ...mod('add', 'group_id=2,type=all,bucket=output:1'), buckets: [{ ...parseGroup('group_id=2,type=all,bucket=output:1').buckets[0]!, watchPort: 3 }] }, 'WATCH_UNSUPPORTED'],
    [{ ...mod('add', 'group_id=2,type=all,bucket=output:1,bucket=output:2'), buckets: parseGroup('group_id=2,type=all,bucket=bucket_id:4,output:1,bucket=bucket_id:4,output:2').buckets }, 'BAD_BUCKET'],
    [mod('modify', 'group_id=1,type=all,bucket=group:1'), 'LOOP'],
    [mod('insert_bucket', 'group_id=1,type=all,bucket=bucket_id:0,actions=output:3', BUCKET_FIRST), 'BUCKET_EXISTS'],
    [mod('remove_bucket', 'group_id=1,type=all', 7), 'UNKNOWN_BUCKET'],
  ];
  for (const [gm, want] of cases) assert.is(code(() => applyGroupMod(p, gm)), want, want);
  assert.is(p.generation, gen);
  assert.is(formatGroup(p.groups.get(1)!), 'group_id=1,type=all,bucket=bucket_id:0,actions=output:2');
});

t('indirect runs its bucket; fast failover follows link state and the megaflow goes stale', () => {
  const b = bridge();
  applyGroupMod(b.pipeline, mod('add', 'group_id=1,type=indirect,bucket=output:4'));
  applyGroupMod(b.pipeline, mod('add', 'group_id=2,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3'));
  b.pipeline.add(parseFlow('priority=5,udp,actions=group:2,group:1'));
  const r1 = xlate(b, key());
  assert.is(formatDp(r1.actions), '2,4');
  assert.equal(r1.groupHits.map((h) => [h.group.id, h.bucket?.id]), [[2, 0], [1, undefined]]);
  assert.ok(b.setLinkUp('p2', false));
  assert.ok(isStale(b, r1), 'liveness changed: the megaflow must be revalidated');
  assert.is(formatDp(xlate(b, key()).actions), '3,4');
  b.setLinkUp('p3', false);
  assert.is(formatDp(xlate(b, key()).actions), '4', 'no live bucket: the group does nothing');
  b.setLinkUp('p2', true);
  assert.is(formatDp(xlate(b, key()).actions), '2,4');
});

t('select skips dead buckets; hits credit group totals and buckets', () => {
  const b = bridge();
  applyGroupMod(b.pipeline, mod('add', 'group_id=1,type=select,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3'));
  b.pipeline.add(parseFlow('priority=5,udp,actions=group:1'));
  b.setLinkUp('p2', false);
  for (let i = 0; i < 16; i++) assert.is(formatDp(xlate(b, { ...key(), tpSrc: 1000 + i }).actions), '3');
  const r = xlate(b, key());
  creditGroups(r.groupHits, 10, 1000);
  const g = b.pipeline.groups.get(1)!;
  assert.equal([g.packets, g.bytes, g.buckets[0]!.packets, g.buckets[1]!.packets], [10, 1000, 0, 10]);
});

t.run();
