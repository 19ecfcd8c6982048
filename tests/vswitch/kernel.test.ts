/**
 * The fast path on the real kernel: a bvs datapath with three netns hosts, a BridgeRuntime
 * with NORMAL, and the upcall and revalidator actors running in this process.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyActorRef } from 'xstate';
import { addon } from '../../src/datapath/addon.ts';
import { Datapath } from '../../src/datapath/datapath.ts';
import { revalidatorMachine } from '../../src/actors/revalidator.machine.ts';
import { upcallMachine } from '../../src/actors/upcall.machine.ts';
import { BridgeRuntime } from '../../src/vswitch/runtime.ts';
import { Events } from '../../src/bus/subjects.ts';
import { keysEqual } from '../../src/datapath/flow.ts';
import { keyFromFrame } from '../../src/datapath/frame.ts';
import { type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('vswitch-kernel');
const topo = new Topology();
const DP = `v${topo.tag}`;
let dp: Datapath;
let rt: BridgeRuntime;
let h1: Host, h2: Host, h3: Host;
const actors: AnyActorRef[] = [];
const events: { name: string; payload: unknown }[] = [];
let keysChecked = 0;
const keyMismatches: string[] = [];
const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

t.before(() => {
  process.env.BVS_PIN_DIR = topo.pinRoot;
  try {
    h1 = topo.addHost(1);
    h2 = topo.addHost(2);
    h3 = topo.addHost(3);
    dp = Datapath.create(DP);
    // Every complete miss: the userspace key extraction (frame.ts, used by trace with a packet)
    // must give the key the BPF parser gave.
    const open = dp.openUpcalls.bind(dp);
    dp.openUpcalls = (cb, maxBatch, onError) => open((batch) => {
      for (const u of batch) {
        if (u.type !== 'miss' || u.packet.length < u.pktLen) continue;
        keysChecked++;
        const k = keyFromFrame(u.packet, u.key.inPort);
        if (!keysEqual(k, u.key)) keyMismatches.push(`${JSON.stringify(u.key, big)} vs ${JSON.stringify(k, big)}`);
      }
      cb(batch);
    }, maxBatch, onError);
    rt = new BridgeRuntime({ datapath: dp, maxIdleMs: 60_000, clock: { monotonicNs: () => addon().monotonicNs() },
      publish: (name, payload) => { events.push({ name, payload }); } });
    for (const [i, h] of [h1, h2, h3].entries()) {
      dp.addPort(h.port, { portNo: i + 1 });
      rt.addPort({ name: h.port, ofport: i + 1 });
    }
    rt.flowMod({ op: 'add', flows: ['priority=0,actions=NORMAL'] });
    actors.push(createActor(upcallMachine, { input: { runtime: rt } }).start());
    actors.push(createActor(revalidatorMachine, { input: { udpif: rt.udpif, intervalMs: 200 } }).start());
  } catch (err) {
    cleanup();
    throw err;
  }
});

function cleanup(): void {
  for (const a of actors) { try { a.stop(); } catch { /* stopped */ } }
  try { dp?.close(); } catch { /* closed */ }
  try { if (Datapath.exists(DP)) Datapath.destroy(DP); } catch { /* gone */ }
  try { addon().packetCloseAll(); } catch { /* none */ }
  topo.destroy();
}

t.after(cleanup);

/** Resolves after the revalidator finished a pass that started after now. */
const nextPass = (): Promise<void> => rt.udpif.requestRevalidation();

const flowsFrom = (port: number) => dp.dumpFlows().filter((f) => f.key.inPort === port);

t('first ping with an empty MAC table succeeds (the first packet is executed, not lost)', async () => {
  assert.is(rt.ofproto.mac.size, 0);
  assert.is(await topo.ping(h1, h2, 1), 1);
  assert.ok(rt.udpif.handler.flowsInstalled >= 3, `ARP request, ARP reply, echo: ${rt.udpif.handler.flowsInstalled}`);
  assert.ok(rt.udpif.handler.executed >= 3);
  assert.is(rt.udpif.handler.errors, 0);
});

t('megaflows are installed and MACs learned; later packets take the kernel path', async () => {
  const missed = dp.stats().missed;
  assert.is(await topo.ping(h1, h2, 3, 0.1), 3);
  const fdb = rt.fdbShow().entries.map((e) => `${e.ofport}/${e.mac}`).sort();
  assert.equal(fdb, [`1/${h1.mac}`, `2/${h2.mac}`]);
  const f = flowsFrom(1).find((x) => x.key.ethType === 0x0800 && x.key.ethDst === h2.macNum);
  assert.ok(f, 'h1 -> h2 IPv4 megaflow');
  assert.equal(f!.actions, [{ type: 'output', port: 2 }]);
  assert.is(f!.mask.ethDst, 0xffffffffffff);
  assert.is(f!.mask.ipv4Dst, 0, 'NORMAL leaves L3 wildcarded');
  assert.ok(dp.stats().missed - missed <= 2n, 'at most the stale flood flows missed again');
  // At most two of the six packets missed, so at least one echo request took the megaflow.
  assert.ok(f!.stats.packets >= 1n, `h1 -> h2 megaflow hits: ${f!.stats.packets}`);
  await nextPass();
  const rule = rt.dumpFlows().flows[0]!;
  assert.ok(BigInt(rule.n_packets) >= 3n, `NORMAL rule credited: ${rule.n_packets}`);
});

t('a drop rule stops established traffic at once; deleting it restores the traffic', async () => {
  assert.is(await topo.ping(h1, h2, 2, 0.1), 2);
  assert.ok(flowsFrom(1).some((f) => f.actions.length > 0), 'forwarding flows installed');
  rt.flowMod({ op: 'add', flows: ['priority=100,ip,in_port=1,actions=drop'] });
  await nextPass();
  assert.not.ok(flowsFrom(1).some((f) => f.key.ethType === 0x0800 && f.actions.length > 0), 'old forwarding megaflows gone');
  assert.is(await topo.ping(h1, h2, 2, 0.1), 0);
  // The echo requests got as far as the datapath: their miss installed the rule's drop megaflow.
  await waitFor('the drop megaflow installed', () => flowsFrom(1).some((f) => f.key.ethType === 0x0800 && f.actions.length === 0));
  assert.is(await topo.ping(h3, h2, 1), 1, 'other ports unaffected');
  assert.is(rt.flowMod({ op: 'delete', flow: 'priority=100,ip,in_port=1', strict: true }).count, 1);
  await nextPass();
  assert.is(await topo.ping(h1, h2, 2, 0.1), 2);
});

t('controller action: packet-ins from the miss and from the datapath userspace action', async () => {
  rt.flowMod({ op: 'add', flows: ['priority=200,icmp,in_port=3,actions=controller(max_len=64),NORMAL'] });
  await nextPass();
  events.length = 0;
  assert.is(await topo.ping(h3, h1, 3, 0.1), 3, 'NORMAL after the controller action still forwards');
  // A packet-in from the datapath's userspace action is handled while the copy is forwarded:
  // the reply can arrive first.
  const packetIns = () => events.filter((e) => e.name === 'packet-in');
  await waitFor('three packet-ins', () => packetIns().length >= 3);
  const pins = packetIns().map((e) => Events['packet-in'].payload.parse(e.payload));
  assert.is(pins.length, 3, 'one per echo request: the first from the miss, the rest from the megaflow');
  assert.ok(rt.udpif.handler.actionUpcalls >= 2, `userspace action upcalls: ${rt.udpif.handler.actionUpcalls}`);
  for (const p of pins) {
    assert.is(p.in_port, 3);
    assert.is(p.reason, 'action');
    assert.is(Buffer.from(p.packet, 'base64').length, 64);
    assert.ok(p.total_len >= 98);
    assert.match(p.flow, /^icmp,in_port=3,/);
  }
  const mf = flowsFrom(3).find((f) => f.key.ethType === 0x0800 && f.key.ipProto === 1);
  assert.equal(mf?.actions.map((a) => a.type), ['userspace', 'output']);
  rt.flowMod({ op: 'delete', flow: 'priority=200,icmp,in_port=3', strict: true });
  await nextPass();
});

t('idle megaflows expire after max-idle', async () => {
  assert.ok(dp.countFlows() > 0);
  rt.udpif.maxIdleMs = 300;
  await waitFor('every idle megaflow removed', () => dp.countFlows() === 0);
  assert.ok(rt.udpif.revalidator.removedIdle > 0);
  assert.is(rt.udpif.ukeys.size, 0);
  rt.udpif.maxIdleMs = 60_000;
  assert.is(await topo.ping(h2, h1, 1), 1, 'and traffic sets them up again');
  assert.ok(dp.countFlows() > 0);
});

t('userspace key extraction agrees with the datapath on every upcall; trace takes a packet', async () => {
  assert.ok(keysChecked >= 6, `upcalls checked: ${keysChecked}`);
  assert.equal(keyMismatches, []);
  const echo = Buffer.from('0200000000020200000000010800450000540000400040010000' + '0a000001' + '0a000002' + '0800000000010001', 'hex');
  echo.set(Buffer.from(h2.mac.replace(/:/g, ''), 'hex'), 0);
  echo.set(Buffer.from(h1.mac.replace(/:/g, ''), 'hex'), 6);
  const tr = rt.trace('in_port=1', echo);
  assert.match(tr.text, /^Flow: icmp,in_port=1,/);
  assert.is(tr.datapath_actions, '2', 'to h2, learned');
});

t.run();
