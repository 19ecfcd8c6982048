// The upcall path's resource limits (issue 9): a full flow table, full mask slots and the flow
// limit are each counted as a coverage event and reported for the log at most once a second
// per kind (on the injected clock), with every hit since the last report.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Coverage } from '../../src/bridge/index.ts';
import { BridgeRuntime, revalidate, type LimitHit } from '../../src/vswitch/index.ts';
import { FakeDatapath, missUpcall, udpKey } from './fake-datapath.ts';

const t = suite('vswitch-limits');

const A = '02:00:00:00:00:01';
const B = '02:00:00:00:00:02';

function setup(flowLimit?: number) {
  const dp = new FakeDatapath();
  const coverage = new Coverage();
  const hits: LimitHit[] = [];
  const rt = new BridgeRuntime({
    datapath: dp, flowLimit, clock: { monotonicNs: () => dp.nowNs },
    coverage, onLimit: (h) => { hits.push(h); },
  });
  rt.udpif.attachRevalidator(() => {});
  for (const i of [1, 2]) { dp.addPort(i, `p${i}`); rt.addPort({ name: `p${i}`, ofport: i }); }
  // One megaflow per UDP destination port, so every miss asks for its own install.
  rt.flowMod({ op: 'add', flows: ['priority=10,udp,actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG0[0..15],output:2'] });
  return { dp, rt, coverage, hits, advanceMs(ms: number) { dp.nowNs += BigInt(ms) * 1_000_000n; } };
}

t('a full flow table: counted per miss, reported once a second with the hits in between', () => {
  const { dp, rt, coverage, hits, advanceMs } = setup();
  for (let i = 0; i < 3; i++) {
    dp.failNext = 'FLOW_TABLE_FULL';
    rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 100 + i))]);
  }
  assert.is(coverage.total('dpif_flow_put_table_full'), 3);
  assert.is(hits.length, 1, 'the first hit is reported at once, the next two within the second are held');
  assert.equal(hits[0], { kind: 'flow-table-full', bridge: 'br0', events: 1, count: 0, limit: dp.maxFlows() });
  advanceMs(1000);
  dp.failNext = 'FLOW_TABLE_FULL';
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 200))]);
  assert.is(hits.length, 2);
  assert.is(hits[1]!.events, 3, 'the report a second later carries the two held hits and its own');
  assert.is(coverage.total('dpif_flow_put_table_full'), 4);
  assert.is(coverage.total('dpif_flow_put_masks_full'), 0);
});

t('full mask slots are their own event and their own report', () => {
  const { dp, rt, coverage, hits } = setup();
  dp.failNext = 'FLOW_TABLE_FULL';
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 1))]);
  dp.failNext = 'MASKS_FULL';
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 2))]);
  assert.is(coverage.total('dpif_flow_put_masks_full'), 1);
  assert.equal(hits.map((h) => h.kind), ['flow-table-full', 'masks-full'], 'one kind does not hold back another');
  assert.is(hits[1]!.limit, 64);
});

t('the flow limit: misses over it and revalidator deletions are counted', () => {
  const { dp, rt, coverage, hits, advanceMs } = setup(2);
  rt.udpif.handleBatch([1, 2, 3, 4].map((p) => missUpcall(udpKey(1, A, B, p))));
  assert.is(dp.flows.size, 2);
  assert.is(coverage.total('upcall_flow_limit_hit'), 2, 'the two misses over the limit');
  assert.equal(hits, [{ kind: 'flow-limit', bridge: 'br0', events: 2, count: 2, limit: 2 }]);
  rt.udpif.flowLimit = 1;
  advanceMs(1000);
  const p = revalidate(rt.udpif);
  assert.is(p.limit, 1);
  assert.is(coverage.total('revalidator_flow_limit_del'), 1);
  assert.is(hits.length, 2);
  assert.equal(hits[1], { kind: 'flow-limit', bridge: 'br0', events: 1, count: 2, limit: 1 });
});

t('packet-ins over the rate limit are counted', () => {
  const dp = new FakeDatapath();
  const coverage = new Coverage();
  const rt = new BridgeRuntime({ datapath: dp, clock: { monotonicNs: () => dp.nowNs }, coverage });
  dp.addPort(1, 'p1'); rt.addPort({ name: 'p1', ofport: 1 });
  rt.flowMod({ op: 'add', flows: ['priority=10,actions=controller'] });
  // The clock stands still: the bucket holds PACKET_IN_RATE tokens and is not refilled.
  const batch = Array.from({ length: 1100 }, (_, i) => missUpcall(udpKey(1, A, B, 1 + (i % 60000))));
  rt.udpif.handleBatch(batch);
  rt.udpif.handleBatch(dp.actionUpcalls.splice(0));
  // No OpenFlow connection: the 100 over the bus's limit are dropped before re-translation.
  assert.is(rt.udpif.handler.packetIns, 1000);
  assert.is(coverage.total('upcall_packet_in_dropped'), 100, 'over the bus limit: not published');
});

t('OpenFlow connections get every packet-in; only the bus is limited', () => {
  const dp = new FakeDatapath();
  const rt = new BridgeRuntime({ datapath: dp, clock: { monotonicNs: () => dp.nowNs } });
  dp.addPort(1, 'p1'); rt.addPort({ name: 'p1', ofport: 1 });
  rt.flowMod({ op: 'add', flows: ['priority=10,actions=controller'] });
  let toControllers = 0;
  rt.udpif.sinks.packetIn = () => { toControllers++; };
  rt.udpif.handleBatch(Array.from({ length: 1100 }, (_, i) => missUpcall(udpKey(1, A, B, 1 + (i % 60000)))));
  rt.udpif.handleBatch(dp.actionUpcalls.splice(0));
  assert.is(toControllers, 1100);
  assert.is(rt.udpif.handler.packetInsDropped, 100);
});

t.run();
