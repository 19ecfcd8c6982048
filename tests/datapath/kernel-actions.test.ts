/**
 * Datapath actions on the real kernel, verified by captures at the receiving host:
 * push_vlan, pop_vlan, set eth/ipv4/udp (with checksums checked), flooding by clones, and
 * execute (bvs_exec): the same bytes as the fast path for the same actions, a host's
 * CHECKSUM_PARTIAL packet finished on its way through userspace, errors counted or named.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath, type DpAction, type Upcall } from '../../src/datapath/index.ts';
import { fixChecksums } from '../helpers/checksums.ts';
import { parseActions, parseFlow } from '../../src/datapath/odp/index.ts';
import { ipv4, udp } from '../helpers/frames.ts';
import { type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('datapath-kernel-actions');
const topo = new Topology();
const DP = `a${topo.tag}`;
let dp: Datapath;
let h1: Host, h2: Host, h3: Host;

t.before(() => {
  ({ dp, hosts: [h1, h2, h3] } = topo.withDatapath(DP, 3));
});

t.after(() => topo.destroy());

function flow(f: string, actions: string): void {
  const { key, mask } = parseFlow(f);
  dp.putFlow(key, mask, parseActions(actions), 'put');
}

/** The frames `to` receives after `send` runs, once at least `n` have arrived. */
async function receive(to: Host, send: () => void, n = 1): Promise<Uint8Array[]> {
  const cap = topo.capture(to);
  await cap.ready();
  try {
    send();
    await waitFor(`${n} frame(s) at ${to.ns}`, () => cap.frames().length >= n);
  } finally {
    await cap.stop();
  }
  return cap.stop();
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const udpFrame = (vlan?: { vid: number; pcp: number }) =>
  ipv4({ src: h1.macNum, dst: h2.macNum, vlan }, { src: h1.ipNum, dst: h2.ipNum, proto: 17 }, udp(1111, 2222, [9, 9, 9, 9]));

t('push_vlan tags the frame seen at the receiver', async () => {
  dp.flushFlows();
  flow('in_port(1),eth_type(0x0800),ipv4(proto=17)', 'push_vlan(vid=10,pcp=3),2');
  const got = await receive(h2, () => topo.inject(h1, [udpFrame()]));
  assert.is(got.length, 1, `frames captured: ${got.length}`);
  // tcpdump shows the tag in the frame: 81 00, then pcp 3 / vid 10 = 0x600a.
  assert.is(hex(got[0]).slice(24, 32), '8100600a');
  assert.is(hex(got[0]), hex(udpFrame({ vid: 10, pcp: 3 })));
});

t('pop_vlan strips the tag of a tagged frame', async () => {
  dp.flushFlows();
  flow('in_port(1),eth_type(0x8100),vlan(vid=20),encap(eth_type(0x0800))', 'pop_vlan,2');
  const got = await receive(h2, () => topo.inject(h1, [udpFrame({ vid: 20, pcp: 0 })]));
  assert.is(got.length, 1);
  assert.is(hex(got[0]), hex(udpFrame()));
});

t('set eth/ipv4/udp rewrite the frame with correct checksums', async () => {
  dp.flushFlows();
  flow('in_port(1),eth_type(0x0800),ipv4(proto=17)',
    `set(eth(src=02:aa:00:00:00:01,dst=${h3.mac})),set(ipv4(src=192.0.2.1,dst=${h3.ip},ttl=9)),set(udp(dst=3333)),3`);
  const got = await receive(h3, () => topo.inject(h1, [udpFrame()]));
  assert.is(got.length, 1);
  const f = got[0];
  assert.is(hex(f.subarray(0, 12)), `${h3.mac.replace(/:/g, '')}02aa00000001`);
  assert.is(hex(f.subarray(14 + 12, 14 + 20)), `c0000201${h3.ipNum.toString(16).padStart(8, '0')}`);
  assert.is(f[14 + 8], 9, 'ttl');
  assert.is((f[14 + 20 + 2] << 8) | f[14 + 20 + 3], 3333, 'udp dst');
  // The datapath's incremental checksum updates must equal a full recomputation.
  assert.is(hex(fixChecksums(Uint8Array.from(f))), hex(f), 'IPv4 and UDP checksums');
});

t('several outputs flood clones to every port', async () => {
  dp.flushFlows();
  flow('in_port(1)', '2,3');
  const c2 = topo.capture(h2);
  const c3 = topo.capture(h3);
  await Promise.all([c2.ready(), c3.ready()]);
  topo.inject(h1, [udpFrame()]);
  await waitFor('a copy at each port', () => c2.frames().length >= 1 && c3.frames().length >= 1);
  const [g2, g3] = await Promise.all([c2.stop(), c3.stop()]);
  assert.equal(g2.map(hex), [hex(udpFrame())]);
  assert.equal(g3.map(hex), [hex(udpFrame())]);
});

t('execute sends a packet out with its actions applied', async () => {
  dp.flushFlows();
  let r;
  const got = await receive(h2, () => { r = dp.execute(udpFrame(), parseActions('push_vlan(vid=5,pcp=0),2'), 1); });
  assert.equal(got.map(hex), [hex(udpFrame({ vid: 5, pcp: 0 }))]);
  assert.equal(r, { outputs: 1, upcalls: 0, failed: false });
});

t('execute and the fast path give the same bytes for the same actions', async () => {
  dp.flushFlows();
  const acts = `set(eth(src=02:aa:00:00:00:02,dst=${h3.mac})),set(ipv4(src=192.0.2.7,tos=8,ttl=3)),set(udp(src=7,dst=4444)),push_vlan(vid=9,pcp=1),3`;
  flow('in_port(1),eth_type(0x0800),ipv4(proto=17)', acts);
  const fast = await receive(h3, () => topo.inject(h1, [udpFrame()]));
  dp.flushFlows();
  const slow = await receive(h3, () => dp.execute(udpFrame(), parseActions(acts), 1));
  assert.is(fast.length, 1);
  assert.equal(slow.map(hex), fast.map(hex));
});

t('a host TCP SYN comes up CHECKSUM_PARTIAL, is finished, and executes with valid checksums', async () => {
  dp.flushFlows();
  topo.staticArp();
  const ups: Upcall[] = [];
  const ring = dp.openUpcalls((b) => { ups.push(...b); });
  let syn: Upcall;
  try {
    // Nothing listens and no flow forwards: the host retries its SYN until the upcall is seen.
    const connect = topo.inNsAsync(h1, ['timeout', '3', 'bash', '-c', `echo > /dev/tcp/${h2.ip}/9`]);
    syn = await waitFor('the SYN upcall', () => ups.find((u) => u.key.ipProto === 6 && u.key.tpDst === 9));
    await connect;
  } finally {
    ring.close();
  }
  // veth leaves the TCP checksum to a NIC that does not exist: the kernel says so, we finish it.
  assert.is(syn.checksumFinished, true, 'the kernel reported CHECKSUM_PARTIAL');
  assert.is(hex(fixChecksums(Uint8Array.from(syn.packet))), hex(syn.packet), 'finished as a full recomputation');
  const got = await receive(h2, () => dp.execute(syn.packet, [{ type: 'output', port: 2 }], 1));
  assert.equal(got.map(hex), [hex(syn.packet)]);
});

t('execute: a missing port is a counted drop, bad frames are named errors', () => {
  dp.flushFlows();
  const before = dp.dropStats().no_output_port ?? 0n;
  const r = dp.execute(udpFrame(), [{ type: 'output', port: 77 }] as DpAction[], 1);
  assert.equal(r, { outputs: 0, upcalls: 0, failed: true });
  assert.is(dp.dropStats().no_output_port, before + 1n);
  assert.throws(() => dp.execute(new Uint8Array(10), [], 1), (e: Error & { code?: string }) => e.name === 'DatapathError' && e.code === 'BAD_PACKET');
  assert.throws(() => dp.execute(new Uint8Array(9000), [], 1), (e: Error & { code?: string }) => e.code === 'BAD_PACKET' && /too long/.test(e.message));
});

t.run();
