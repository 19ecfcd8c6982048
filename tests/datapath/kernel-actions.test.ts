/**
 * Datapath actions on the real kernel, verified by captures at the receiving host:
 * push_vlan, pop_vlan, set eth/ipv4/udp (with checksums checked), flooding by clones, execute.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath } from '../../src/datapath/datapath.ts';
import { fixChecksums } from '../../src/datapath/packet.ts';
import { parseActions, parseFlow } from '../../src/datapath/odp/index.ts';
import { ipv4, udp } from '../helpers/frames.ts';
import { type Host, Topology } from '../helpers/netns.ts';

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

/** The frames `to` receives while `send` runs. */
async function receive(to: Host, send: () => void): Promise<Uint8Array[]> {
  const cap = topo.capture(to);
  await cap.ready();
  try {
    send();
  } catch (err) {
    await cap.stop();
    throw err;
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
  const [g2, g3] = await Promise.all([c2.stop(), c3.stop()]);
  assert.equal(g2.map(hex), [hex(udpFrame())]);
  assert.equal(g3.map(hex), [hex(udpFrame())]);
});

t('execute sends a packet out with its actions applied', async () => {
  dp.flushFlows();
  const got = await receive(h2, () => dp.execute(udpFrame(), parseActions('push_vlan(vid=5,pcp=0),2')));
  assert.equal(got.map(hex), [hex(udpFrame({ vid: 5, pcp: 0 }))]);
});

t.run();
