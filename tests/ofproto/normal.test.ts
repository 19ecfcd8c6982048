import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { Bridge, isStale, MacTable, parseFlow, xlate } from '../../src/ofproto/index.ts';

const t = suite('ofproto-normal');

const A = 0x020000000001, B = 0x020000000002, BCAST = 0xffffffffffff;

function bridge(now: { t: number }): Bridge {
  const b = new Bridge('br0', { now: () => now.t });
  b.addPort({ name: 'trunk1', ofport: 1 });                   // all VLANs
  b.addPort({ name: 'acc10', ofport: 2, tag: 10 });
  b.addPort({ name: 'acc20', ofport: 3, tag: 20 });
  b.addPort({ name: 'trunk1020', ofport: 4, trunks: [10, 20] });
  b.addPort({ name: 'acc10b', ofport: 5, tag: 10 });
  b.pipeline.add(parseFlow('priority=0,actions=NORMAL'));
  return b;
}

function pkt(inPort: number, src: number, dst: number, vlanTci = 0): FlowKey {
  return { ...emptyKey(), inPort, ethSrc: src, ethDst: dst, ethType: 0x0800, vlanTci, ipProto: 17 };
}

t('access port: flood only within its VLAN, tagged on trunks, never back to ingress', () => {
  const b = bridge({ t: 0 });
  const r = xlate(b, pkt(2, A, BCAST));
  assert.is(formatDp(r.actions), '5,push_vlan(vid=10,pcp=0),1,4');
  assert.is(r.megaflow.mask.ethDst, 0xffffffffffff);
  assert.is(r.megaflow.mask.ethSrc, 0xffffffffffff);
  assert.is(r.megaflow.mask.ipv4Src, 0, 'NORMAL does not look at L3');
});

t('trunk port: tagged frame goes to its VLAN, untagged to access ports; other VLANs and untagged on a 10/20 trunk', () => {
  const b = bridge({ t: 0 });
  assert.is(formatDp(xlate(b, pkt(1, A, BCAST, 0x1000 | 20)).actions), '4,pop_vlan,3', 'tagged ports first: one pop, no push');
  assert.is(formatDp(xlate(b, pkt(1, A, BCAST, 0x1000 | 30)).actions), 'drop', 'VLAN 30: only trunk1 carries it');
  assert.is(formatDp(xlate(b, pkt(4, A, BCAST, 0x1000 | 30)).actions), 'drop', 'not in trunks: dropped');
  assert.is(formatDp(xlate(b, pkt(4, A, BCAST, 0)).actions), 'drop', 'untagged is VLAN 0, not trunked on 10/20');
  assert.is(formatDp(xlate(b, pkt(1, A, BCAST, 0)).actions), 'drop', 'VLAN 0 has no other port');
});

t('access port drops tagged frames', () => {
  const b = bridge({ t: 0 });
  const r = xlate(b, pkt(2, A, BCAST, 0x1000 | 10), { trace: true });
  assert.equal(r.actions, []);
  assert.ok(r.steps[0]!.notes.some((n) => n.includes('access port')));
});

t('learning, unicast forwarding with the right tagging, and the learned-port-is-input drop', () => {
  const now = { t: 0 };
  const b = bridge(now);
  xlate(b, pkt(2, A, BCAST), { sideEffects: true });           // A learned on acc10, VLAN 10
  assert.is(b.mac.lookup(10, A), 2);
  const r = xlate(b, pkt(4, B, A, 0x1000 | 10), { sideEffects: true });
  assert.is(formatDp(r.actions), 'pop_vlan,2');
  assert.equal(r.macDeps, [{ vlan: 10, mac: A }]);
  assert.is(formatDp(xlate(b, pkt(1, B, A, 0x1000 | 10)).actions), 'pop_vlan,2');
  assert.is(formatDp(xlate(b, pkt(5, B, A)).actions), '2', 'access to access in the same VLAN: untagged');
  assert.is(formatDp(xlate(b, pkt(1, B, A, 0x1000 | 20)).actions), '4,pop_vlan,3', 'A is unknown in VLAN 20: flood VLAN 20');
  assert.is(formatDp(xlate(b, pkt(2, B, A)).actions), 'drop', 'learned port is the input port');
});

t('a MAC move updates the entry, fires onMove, and makes dependent megaflows stale', () => {
  const now = { t: 0 };
  const moves: number[] = [];
  const b = new Bridge('br0', { now: () => now.t, mac: { onMove: (e, old) => moves.push(old, e.port) } });
  for (let i = 1; i <= 3; i++) b.addPort({ name: `p${i}`, ofport: i });
  b.pipeline.add(parseFlow('priority=0,actions=NORMAL'));
  xlate(b, pkt(1, A, BCAST), { sideEffects: true });
  const toA = xlate(b, pkt(2, B, A), { sideEffects: true });
  assert.is(formatDp(toA.actions), '1');
  const fromB = xlate(b, pkt(3, 0x020000000003, B), { sideEffects: true });
  assert.not.ok(isStale(b, toA));
  xlate(b, pkt(3, A, BCAST), { sideEffects: true });          // A moves to port 3
  assert.equal(moves, [1, 3]);
  assert.ok(isStale(b, toA), 'the flow to A must be revalidated');
  assert.not.ok(isStale(b, fromB), 'a flow to B did not depend on A');
  assert.is(formatDp(xlate(b, pkt(2, B, A)).actions), '3');
  b.pipeline.add(parseFlow('priority=5,ip,actions=drop'));
  assert.ok(isStale(b, fromB), 'a flow-mod makes every megaflow stale');
});

t('MAC aging (300 s default) and the size limit (oldest evicted)', () => {
  const now = { t: 0 };
  const m = new MacTable({ now: () => now.t, maxEntries: 3 });
  assert.is(m.learn(1, A, 1), 'new');
  now.t = 299_000;
  assert.is(m.lookup(1, A), 1);
  assert.is(m.learn(1, A, 1), 'refreshed');
  now.t = 598_999;
  assert.is(m.lookup(1, A), 1);
  now.t = 599_000;
  assert.is(m.lookup(1, A), undefined, 'aged out 300 s after the last refresh');
  const gen = m.generation;
  assert.is(m.expire().length, 1);
  assert.ok(!m.isValid([{ vlan: 1, mac: A }], gen));
  for (let i = 1; i <= 4; i++) m.learn(1, 0x020000000010 + i, i);
  assert.is(m.size, 3);
  assert.is(m.lookup(1, 0x020000000011), undefined, 'the oldest was evicted');
  assert.is(m.lookup(1, 0x020000000014), 4);
  assert.is(m.learn(1, 0x010000000001, 1), 'ignored', 'multicast sources are not learned');
});

t.run();
