import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Commands, Events } from '../../src/bus/subjects.ts';
import { encodeControllerCookie } from '../../src/ofproto/index.ts';
import { hiddenName } from '../../src/netdev/index.ts';
import { BridgeRuntime, revalidate, revalidateSliced, type FastPathEvent } from '../../src/vswitch/index.ts';
import { FakeDatapath, macNum, missUpcall, udpKey } from './fake-datapath.ts';
import { ipv4, udp } from '../helpers/frames.ts';

const t = suite('vswitch-fastpath');

const A = '02:00:00:00:00:01';
const B = '02:00:00:00:00:02';
const C = '02:00:00:00:00:03';

function setup(opts: { flows?: string[]; flowLimit?: number; maxIdleMs?: number } = {}) {
  const dp = new FakeDatapath();
  let nowMs = 1_000_000;
  const events: { name: FastPathEvent; payload: unknown }[] = [];
  const rt = new BridgeRuntime({
    datapath: dp, flowLimit: opts.flowLimit, maxIdleMs: opts.maxIdleMs,
    clock: { monotonicNs: () => dp.nowNs }, bridgeOptions: { now: () => nowMs },
    publish: (name, payload) => { events.push({ name, payload }); },
  });
  let revalRequests = 0;
  rt.udpif.attachRevalidator(() => { revalRequests++; });
  for (const i of [1, 2, 3]) { dp.addPort(i, `p${i}`); rt.addPort({ name: `p${i}`, ofport: i }); }
  rt.flowMod({ op: 'add', flows: opts.flows ?? ['priority=0,actions=NORMAL'] });
  return {
    dp, rt, events, revals: () => revalRequests,
    advance(ms: number) { nowMs += ms; dp.nowNs += BigInt(ms) * 1_000_000n; },
  };
}

t('first packet with an empty MAC table: flood installed and executed, source learned', () => {
  const { dp, rt } = setup();
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B))]);
  assert.is(dp.flows.size, 1);
  const f = [...dp.flows.values()][0]!;
  assert.equal(f.actions, [{ type: 'output', port: 2 }, { type: 'output', port: 3 }]);
  assert.is(f.mask.ethSrc, 0xffffffffffff);
  assert.is(f.mask.tpDst, 0, 'NORMAL does not look at L4');
  assert.is(dp.executed.length, 1, 'first packet executed');
  assert.equal(dp.executed[0]!.actions, f.actions);
  assert.is(rt.ofproto.mac.lookup(0, macNum(A)), 1);
  assert.is(rt.udpif.handler.flowsInstalled, 1);
  assert.is(rt.udpif.handler.misses, 1);
  assert.is(rt.udpif.flowCount, 1);
});

t('reply is unicast to the learned port; a second miss of the same megaflow is FLOW_EXISTS', () => {
  const { dp, rt } = setup();
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B)), missUpcall(udpKey(2, B, A)), missUpcall(udpKey(2, B, A, 54))]);
  const back = [...dp.flows.values()].find((f) => f.key.inPort === 2)!;
  assert.equal(back.actions, [{ type: 'output', port: 1 }]);
  assert.is(rt.udpif.handler.flowExists, 1);
  assert.is(rt.udpif.handler.errors, 0);
  assert.is(dp.executed.length, 3, 'every packet executed, also the racing one');
});

t('MASKS_FULL and FLOW_TABLE_FULL are counted and the packet still goes out', () => {
  const { dp, rt, events } = setup();
  dp.failNext = 'MASKS_FULL';
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B))]);
  dp.failNext = 'FLOW_TABLE_FULL';
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, C))]);
  assert.is(rt.udpif.handler.masksFull, 1);
  assert.is(rt.udpif.handler.tableFull, 1);
  const full = events.filter((e) => e.name === 'flow-limit').map((e) => Events['flow-limit'].payload.parse(e.payload));
  assert.equal(full, [{ datapath: 'bvs@br0', bridge: 'br0', limit: 65536, count: 65536 }], 'a full table is reported');
  assert.is(dp.flows.size, 0);
  assert.is(dp.executed.length, 2);
  const show = Commands['appctl.upcall.show'].reply.parse(rt.upcallShow());
  assert.is(show.handlers[0]!.errors, 2n);
});

t('a truncated capture is installed but not executed', () => {
  const { dp, rt } = setup();
  const u = missUpcall(udpKey(1, A, B));
  u.pktLen = 3000;
  rt.udpif.handleBatch([u]);
  assert.is(dp.flows.size, 1);
  assert.is(dp.executed.length, 0);
  assert.is(rt.udpif.handler.truncated, 1);
});

t('controller action: packet-in on the miss, and again from a userspace action upcall', () => {
  const { dp, rt, events, advance } = setup({ flows: ['priority=10,udp,tp_dst=53,cookie=0x42,actions=controller(max_len=20)', 'priority=0,actions=NORMAL'] });
  const key = udpKey(1, A, B, 53);
  rt.udpif.handleBatch([missUpcall(key, 80)]);
  // The miss's actions, the controller's included, run in the kernel: the packet-in comes from
  // the action upcall that run sends back, with the packet as the actions before made it.
  assert.is(events.length, 0);
  assert.is(dp.executed.length, 1);
  rt.udpif.handleBatch(dp.actionUpcalls.splice(0));
  assert.is(events.length, 1);
  const ev = Events['packet-in'].payload.parse(events[0]!.payload);
  assert.is(ev.bridge, 'br0');
  assert.is(ev.cookie, 0x42n);
  assert.is(ev.reason, 'action');
  assert.is(ev.in_port, 1);
  assert.is(ev.total_len, 80);
  assert.is(Buffer.from(ev.packet, 'base64').length, 20, 'truncated to max_len');
  assert.match(ev.flow, /udp/);
  const f = [...dp.flows.values()][0]!;
  assert.is(f.actions[0]!.type, 'userspace');
  const cookie = encodeControllerCookie('action', 0, 0, 20);
  rt.udpif.handleBatch([{ ...missUpcall(key, 80), type: 'action', cookie }]);
  assert.is(events.length, 2);
  assert.is(Events['packet-in'].payload.parse(events[1]!.payload).cookie, 0x42n);
  assert.is(rt.udpif.handler.packetIns, 2);
  assert.is(dp.flows.size, 1, 'an action upcall installs nothing');
  // A flood through the controller flow reaches the bus rate-limited (1000/s per bridge); with no
  // OpenFlow connection to serve, the ones over the limit are not even re-translated.
  rt.udpif.handleBatch(Array.from({ length: 1500 }, () => ({ ...missUpcall(key, 80), type: 'action' as const, cookie })));
  assert.ok(events.length >= 1000 && events.length < 1100, `published ${events.length}`);
  assert.is(rt.udpif.handler.packetIns, events.length);
  assert.is(rt.udpif.handler.packetIns + rt.udpif.handler.packetInsDropped, 1502);
});

t('a drop rule added by flowMod makes the installed flow stale; removing it restores NORMAL', () => {
  const { dp, rt, revals } = setup();
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B)), missUpcall(udpKey(2, B, A))]);
  assert.is(dp.flows.size, 2);
  const before = revals();
  assert.is(rt.flowMod({ op: 'add', flows: ['priority=100,in_port=1,actions=drop'] }).count, 1);
  assert.ok(revals() > before, 'flowMod asks for revalidation');
  const from1 = () => [...dp.flows.values()].filter((f) => f.key.inPort === 1);
  let p = revalidate(rt.udpif);
  assert.is(p.stale, 1, 'the flow from port 1 now drops; the one from port 2 is re-translated and kept');
  assert.is(dp.flows.size, 1);
  assert.equal(from1(), []);
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B))]);
  assert.equal(from1()[0]!.actions, [], 'drop installed');
  assert.is(rt.flowMod({ op: 'delete', flow: 'in_port=1', strict: false }).count, 1);
  p = revalidate(rt.udpif);
  assert.is(p.stale, 1);
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B))]);
  assert.equal(from1()[0]!.actions, [{ type: 'output', port: 2 }]);
});

t('nothing changed: flows are kept without re-translation; idle flows expire after max-idle', () => {
  const { dp, rt, advance } = setup({ maxIdleMs: 10_000 });
  const k1 = udpKey(1, A, B), k2 = udpKey(2, B, A);
  rt.udpif.handleBatch([missUpcall(k1), missUpcall(k2)]);
  let p = revalidate(rt.udpif);
  assert.equal([p.idle, p.stale, p.flows], [0, 1, 1], 'the flood A->B went stale when B was learned');
  rt.udpif.handleBatch([missUpcall(k1)]);
  assert.equal(dp.hit(k1)?.actions, [{ type: 'output', port: 2 }]);
  advance(6000);
  dp.hit(k1);
  dp.decoded = 0;
  p = revalidate(rt.udpif);
  assert.equal([p.idle, p.stale, p.flows], [0, 0, 2]);
  assert.is(dp.decoded, 0, 'current Ukeys: only ids and stats were read');
  advance(6000);
  p = revalidate(rt.udpif);
  assert.is(p.idle, 1, 'k2 never hit since install 12 s ago');
  assert.is(p.flows, 1);
  advance(11_000);
  p = revalidate(rt.udpif);
  assert.is(p.idle, 1);
  assert.is(dp.flows.size, 0);
  assert.is(rt.udpif.revalidator.removedIdle, 2);
  assert.is(rt.udpif.ukeys.size, 0);
});

t('stats are credited to the OpenFlow rules once: the packet that missed, then the megaflow deltas', () => {
  const { dp, rt, advance } = setup({ flows: ['priority=10,udp,actions=output:2', 'priority=0,actions=NORMAL'] });
  const k = udpKey(1, A, B);
  rt.udpif.handleBatch([missUpcall(k)]);
  for (let i = 0; i < 5; i++) dp.hit(k, 100);
  advance(100);
  revalidate(rt.udpif);
  revalidate(rt.udpif);
  dp.hit(k, 50);
  revalidate(rt.udpif);
  const flows = rt.dumpFlows().flows;
  const udp = flows.find((f) => f.match === 'udp')!;
  // 1 miss of 60 bytes (counted by the handler, as OVS counts it), 5 + 1 hits of 100 and 50.
  assert.is(udp.n_packets, 7);
  assert.is(udp.n_bytes, 610);
  assert.match(rt.dumpFlowsText()[0]!, /^ cookie=0x0, duration=[\d.]+s, table=0, n_packets=7, n_bytes=610, idle_age=0, priority=10,udp actions=output:2$/);
  Commands['ofctl.dump-flows'].reply.parse(rt.dumpFlows());
});

t('used flows keep their MAC entries alive; MAC move makes dependent flows stale', () => {
  const { dp, rt, advance, revals } = setup();
  const ab = udpKey(1, A, B), ba = udpKey(2, B, A);
  rt.udpif.handleBatch([missUpcall(ab), missUpcall(ba)]);
  const toA = [...dp.flows.values()].find((f) => f.key.inPort === 2)!;
  assert.equal(toA.actions, [{ type: 'output', port: 1 }]);
  // A moves to port 3.
  const before = revals();
  rt.udpif.handleBatch([missUpcall(udpKey(3, A, B))]);
  assert.ok(revals() > before, 'a move asks for revalidation');
  assert.is(rt.ofproto.mac.lookup(0, macNum(A)), 3);
  dp.hit(ab); // the old flow from port 1 still sees a packet: must not move A back
  advance(10);
  const p = revalidate(rt.udpif);
  assert.ok(p.stale >= 1);
  assert.not.ok([...dp.flows.values()].some((f) => f.key.inPort === 2 && f.actions.some((a) => a.type === 'output' && a.port === 1)));
  assert.is(rt.ofproto.mac.lookup(0, macNum(A)), 3, 'stats push refreshes, never moves');
});

t('flow limit: handler stops installing, revalidator evicts least recently used, event published', () => {
  const { dp, rt, events, advance } = setup({ flows: ['priority=10,udp,actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG0[0..15],output:2'], flowLimit: 3 });
  const keys = [1, 2, 3].map((p) => udpKey(1, A, B, p));
  rt.udpif.handleBatch(keys.map((k) => missUpcall(k)));
  assert.is(dp.flows.size, 3, 'one megaflow per UDP destination port');
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 4))]);
  assert.is(dp.flows.size, 3);
  assert.is(rt.udpif.handler.overLimit, 1);
  assert.is(dp.executed.length, 4, 'over the limit the packet is still executed');
  rt.udpif.flowLimit = 2;
  advance(10);
  dp.hit(keys[0]!); dp.hit(keys[2]!);
  const p = revalidate(rt.udpif);
  assert.is(p.limit, 1);
  assert.is(dp.flows.size, 2);
  assert.not.ok([...dp.flows.values()].some((f) => f.key.tpDst === 2), 'the least recently used went');
  const ev = events.find((e) => e.name === 'flow-limit');
  assert.ok(ev);
  assert.equal(Events['flow-limit'].payload.parse(ev!.payload), { datapath: 'bvs@br0', bridge: 'br0', limit: 2, count: 3 });
});

t('OpenFlow idle timeouts expire in the pass, and the flows they made go at once', () => {
  const { dp, rt, advance } = setup({ flows: ['priority=10,idle_timeout=5,udp,actions=output:2', 'priority=0,actions=drop'] });
  const k = udpKey(1, A, B);
  rt.udpif.handleBatch([missUpcall(k)]);
  advance(4000);
  dp.hit(k);
  revalidate(rt.udpif);
  assert.is(rt.ofproto.pipeline.allRules().length, 2, 'refreshed by the stats push');
  advance(5000);
  const p = revalidate(rt.udpif);
  assert.is(p.rulesExpired, 1);
  assert.is(p.stale, 1);
  assert.is(dp.flows.size, 0);
  assert.is(rt.udpif.removedRules[0]!.reason, 'idle_timeout');
});

t('learn() runs again when its megaflow is used: a learned flow with an idle timeout lives while traffic flows', () => {
  const { dp, rt, advance } = setup({ flows: [
    'table=0,priority=10,udp,actions=learn(table=1,idle_timeout=5,priority=5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),output:2',
    'priority=0,actions=drop',
  ] });
  const k = udpKey(1, A, B);
  rt.udpif.handleBatch([missUpcall(k)]);
  const learned = () => rt.ofproto.pipeline.allRules(1);
  assert.is(learned().length, 1, 'learned on the miss');
  for (let i = 0; i < 3; i++) {
    advance(4000);
    dp.hit(k);
    revalidate(rt.udpif);
    assert.is(learned().length, 1, `still there after ${4 * (i + 1)} s of traffic`);
  }
  advance(6000);
  revalidate(rt.udpif);
  assert.is(learned().length, 0, 'idle for 6 s: expired');
});

t('flowMod: add-flows is all or none, errors name the line', () => {
  const { rt } = setup({ flows: [] });
  try {
    rt.flowMod({ op: 'add', flows: ['priority=1,actions=drop', 'priority=2,tp_dst=80,actions=drop'] });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'RuntimeError');
    assert.is((e as { field?: string }).field, 'flows.1');
  }
  assert.is(rt.ofproto.pipeline.allRules().length, 0);
  try {
    rt.flowMod({ op: 'add', flows: ['table=1,actions=goto_table:1'] });
    assert.unreachable();
  } catch (e) { assert.is((e as { field?: string }).field, 'flow'); }
  assert.is(rt.flowMod({ op: 'add', flows: ['priority=1,actions=drop', 'ip,actions=NORMAL'] }).count, 2);
  assert.is(rt.flowMod({ op: 'modify', flow: 'ip,actions=output:3' }).count, 1);
  assert.equal(rt.dumpFlows({ flow: 'ip' }).flows.map((f) => f.actions), ['output:3']);
  assert.is(rt.flowMod({ op: 'delete' }).count, 2);
});

t('views: fdb/show, dump-ports, dpif/show, upcall/show and trace match their contracts', () => {
  const { rt } = setup();
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B)), missUpcall(udpKey(2, B, A))]);
  revalidate(rt.udpif);
  const fdb = Commands['appctl.fdb.show'].reply.parse(rt.fdbShow());
  assert.equal(fdb.entries.map((e) => [e.ofport, e.port_name, e.vlan, e.mac]), [[1, 'p1', 0, A], [2, 'p2', 0, B]]);
  const ports = Commands['ofctl.dump-ports'].reply.parse(rt.dumpPorts());
  assert.equal(ports.ports.map((p) => [p.ofport, p.name, p.rx_packets]), [[1, 'p1', 1n], [2, 'p2', 2n], [3, 'p3', 3n]]);
  assert.throws(() => rt.dumpPorts('nope'), /no port nope/);
  const dpif = Commands['appctl.dpif.show'].reply.parse({ datapaths: [rt.dpifShow()] });
  assert.is(dpif.datapaths[0]!.flows, 1, 'the first flood went stale once B was learned');
  assert.is(dpif.datapaths[0]!.ports[0]!.ofport, 1);
  const up = Commands['appctl.upcall.show'].reply.parse(rt.upcallShow());
  assert.equal([up.flows.current, up.flows.limit, up.max_idle_ms, up.handlers[0]!.upcalls], [1, 200000, 10000, 2n]);
  const tr = Commands['appctl.ofproto.trace'].reply.parse(rt.trace(`in_port=3,dl_src=${C},dl_dst=${A},udp`));
  assert.match(tr.text, /forwarding to learned port p1/);
  assert.is(tr.datapath_actions, '1');
  assert.throws(() => rt.trace('in_port=9,udp'), (e: Error & { field?: string }) => e.field === 'flow');
  const frame = ipv4({ src: macNum(C), dst: macNum(A) }, { src: 1, dst: 2, proto: 17 }, udp(7, 8));
  const tp = rt.trace('in_port=3', frame);
  assert.is(tp.datapath_actions, '1', 'the packet is parsed as the datapath would');
  assert.match(tp.text, /^Flow: udp,in_port=3,/);
  assert.throws(() => rt.trace('udp', frame), (e: Error & { field?: string }) => e.field === 'flow' && /in_port/.test(e.message));
  assert.throws(() => rt.trace('in_port=3', frame.subarray(0, 10)), (e: Error & { field?: string }) => e.field === 'packet');
  assert.is(rt.fdbFlush().count, 2);
  assert.is(rt.fdbShow().entries.length, 0);
});

t('dpif/show names an internal port by its interface, typed internal; other ports as the datapath names them', () => {
  const { dp, rt } = setup();
  dp.addPort(65534, hiddenName('br0'));
  rt.addPort({ name: 'br0', ofport: 65534 });
  dp.addPort(4, hiddenName('other')); // a hidden-looking device that is not br0's pair
  const dpif = Commands['appctl.dpif.show'].reply.parse({ datapaths: [rt.dpifShow()] });
  assert.equal(dpif.datapaths[0]!.ports.map((p) => [p.name, p.ofport, p.odp_port, p.type]), [
    ['p1', 1, 1, 'system'], ['p2', 2, 2, 'system'], ['p3', 3, 3, 'system'],
    ['br0', 65534, 65534, 'internal'], [hiddenName('other'), undefined, 4, 'system'],
  ]);
});

t('with no megaflow installed, a revalidation request settles at once (after the first pass)', async () => {
  const { rt } = setup();
  revalidate(rt.udpif);
  let woken = 0;
  rt.udpif.detachRevalidator();
  rt.udpif.attachRevalidator(() => { woken++; });
  await rt.udpif.requestRevalidation();
  assert.is(woken, 0, 'no pass asked for');
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B))]);
  void rt.udpif.requestRevalidation();
  assert.is(woken, 1, 'a megaflow: a pass is asked for');
});

t('revalidation requests: shared per pass boundary, settled by the first pass that starts after them', async () => {
  const { dp, rt } = setup();
  rt.udpif.handleBatch([missUpcall(udpKey(1, A, B)), missUpcall(udpKey(2, B, A)), missUpcall(udpKey(3, C, A))]);
  assert.ok(dp.flows.size >= 2, 'flows to dump in more than one chunk');
  const u = rt.udpif;
  const first = u.requestRevalidation();
  for (let i = 0; i < 1000; i++) assert.is(u.requestRevalidation(), first, 'one pending entry, not one per request');
  let during: Promise<void> | undefined;
  let duringSettled = false;
  dp.chunkSize = 1;
  dp.betweenChunks = (c) => {
    if (c === 1) during = u.requestRevalidation().then(() => { duringSettled = true; });
  };
  await revalidateSliced(u);
  await first; // the positive signal: the pass that started after it has ended and settled it
  assert.ok(during, 'a request was made while the pass was suspended');
  await new Promise((r) => setImmediate(r));
  assert.not.ok(duringSettled, 'a request made during a pass waits for the next one');
  dp.betweenChunks = undefined;
  revalidate(u);
  await during;
  assert.ok(duringSettled);
});

t('a sliced pass yields between chunks; flows installed meanwhile keep their Ukeys', async () => {
  const { dp, rt, advance } = setup({ flows: ['priority=10,udp,actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG0[0..15],output:2'] });
  rt.udpif.handleBatch([1, 2, 3, 4].map((p) => missUpcall(udpKey(1, A, B, p))));
  dp.chunkSize = 1;
  advance(10);
  let handled = false;
  dp.betweenChunks = (c) => {
    if (c !== 2 || handled) return;
    handled = true;
    rt.udpif.handleBatch([missUpcall(udpKey(1, A, B, 99))]);
    // And a whole pass in the middle (a test's revalidate(), or a second revalidator): it sees all 5.
    assert.is(revalidate(rt.udpif).flows, 5);
  };
  const p = await revalidateSliced(rt.udpif);
  assert.ok(handled, 'an upcall was handled while the pass was suspended');
  assert.is(p.flows, 4, 'the four dumped flows');
  assert.is(dp.flows.size, 5);
  assert.is(rt.udpif.ukeys.size, 5, 'the flow installed during the pass kept its Ukey');
  assert.ok(rt.udpif.flowCount >= 5);
  assert.is(revalidate(rt.udpif).flows, 5);
  assert.is(rt.udpif.ukeys.size, 5);
  assert.is(rt.udpif.revalidator.removedStale + rt.udpif.revalidator.removedIdle, 0);
  const c = new AbortController();
  c.abort();
  await revalidateSliced(rt.udpif, c.signal).then(() => assert.unreachable(), (e: Error) => assert.is(e.name, 'AbortError'));
});

t.run();
