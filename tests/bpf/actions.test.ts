/**
 * Megaflow lookup and actions of the datapath program (bpf/lib/lookup.h, bpf/lib/actions.h),
 * through BPF_PROG_TEST_RUN: ports, masks and flows are written with the ABI codecs (typed
 * DpAction lists), crafted frames run through the program, and the verdict, the frame it leaves
 * (data_out), the upcalls and the counters are checked. Every port points at the harness's own
 * veth (tests/bpf/harness.ts), so the copies it sends go nowhere.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ABI } from '../../src/datapath/abi.ts';
import { type DpAction, emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { checksumsOk, eth, IP2, ipNum, ipv4, tcp, udp } from './frames.ts';
import { ProgHarness, TC_ACT_REDIRECT, TC_ACT_SHOT } from './harness.ts';

const t = suite('bpf-actions');
const h = new ProgHarness();
const IN = 7;          // the in_port (the harness device)
const PEER = 9;        // flags BVS_PORT_F_PEER
const INTERNAL = 10;   // flags BVS_PORT_F_INTERNAL
const SLOT = 1;        // slot 0 stays unused: the walk must skip it

/** The mask of slot SLOT (in_port, eth_type, ip_proto), and a flow key of that slot. */
const MASK: FlowKey = { ...emptyKey(), inPort: 0xffffffff, ethType: 0xffff, ipProto: 0xff };
const flowKey = (proto: number, ethType = 0x0800): FlowKey => ({ ...emptyKey(), inPort: IN, ethType, ipProto: proto });

function install(proto: number, actions: DpAction[]): void {
  h.putFlow(SLOT, flowKey(proto), actions);
}

const out = (port: number): DpAction => ({ type: 'output', port });
const IP9 = ipNum(Buffer.from([192, 168, 9, 9]));
const IP8 = ipNum(Buffer.from([172, 16, 8, 8]));
const bytes4 = (ip: number) => [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];

t.before(() => {
  try {
    h.start();
    h.mapIfindex(h.ifindex, IN);
    h.setPort(IN, { ifindex: h.ifindex, flags: 0, name: h.dev });
    h.setPort(PEER, { ifindex: h.ifindex, flags: ABI.PORT_F_PEER, name: 'peer' });
    h.setPort(INTERNAL, { ifindex: h.ifindex, flags: ABI.PORT_F_INTERNAL, name: 'internal' });
    h.setMask(SLOT, MASK, 2);
  } catch (err) {
    h.destroy();
    throw err;
  }
});
t.after(() => h.destroy());

const dp = () => h.dpStats();
const ps = (p: number) => h.portStats(p);

t('output: redirect verdict, flow/port/datapath counters; masks walked and cached', async () => {
  install(17, [out(IN)]);
  const f = ipv4({ proto: 17 }, udp(1, 2));
  const [d0, p0] = [dp(), ps(IN)];
  // Two identical packets in one test run (one CPU): the second finds the per-CPU mask cache.
  assert.is(h.run(f, 2).ret, TC_ACT_REDIRECT);
  assert.is(h.run(ipv4({ proto: 17 }, udp(3, 4))).ret, TC_ACT_REDIRECT, 'the megaflow wildcards ports');
  const [d1, p1] = [dp(), ps(IN)];
  assert.is(d1.hit - d0.hit, 3n);
  assert.ok(d1.mask_cache_hit - d0.mask_cache_hit >= 1n, 'the second identical packet is answered by the mask cache');
  assert.is(d1.mask_hit - d0.mask_hit, 3n, 'one mask probed per packet (slot 0 is unused and skipped)');
  assert.is(p1.rx_packets - p0.rx_packets, 3n);
  assert.is(p1.tx_packets - p0.tx_packets, 3n);
  assert.is(p1.tx_bytes - p0.tx_bytes, BigInt(3 * f.length));
  const st = h.flowStats(SLOT, flowKey(17))!;
  assert.is(st.packets, 3n, 'flow packets');
  assert.is(st.bytes, BigInt(3 * f.length), 'flow bytes');
  assert.ok(st.usedNs > 0n, 'used_ns');
  assert.equal(await h.fence(), [], 'no upcall');
});

t('tcp flags are ORed into the flow stats', () => {
  install(6, [out(IN)]);
  h.run(ipv4({ proto: 6 }, tcp(1, 2, 0x002)));
  h.run(ipv4({ proto: 6 }, tcp(1, 2, 0x010)));
  assert.is(h.flowStats(SLOT, flowKey(6))!.tcpFlags, 0x012);
});

t('several outputs: clones then a redirect; peer and internal ports', () => {
  install(17, [out(IN), out(INTERNAL), out(PEER)]);
  const tx = () => [ps(IN).tx_packets, ps(INTERNAL).tx_packets, ps(PEER).tx_packets];
  const tx0 = tx();
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_REDIRECT);
  assert.equal(tx().map((n, i) => n - tx0[i]!), [1n, 1n, 1n]);
});

t('drops: no actions, unknown port; each counted once with its reason', () => {
  install(17, []);
  const [action0, noPort0, rxd0] = [h.drops('action'), h.drops('no_output_port'), ps(IN).rx_dropped];
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_SHOT);
  assert.is(h.drops('action') - action0, 1n, 'BVS_DROP_ACTION');
  assert.is(ps(IN).rx_dropped - rxd0, 1n, 'rx_dropped');
  install(17, [out(8)]);
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_SHOT);
  assert.is(h.drops('no_output_port') - noPort0, 1n, 'BVS_DROP_NO_OUTPUT_PORT');
  assert.is(h.drops('action') - action0, 1n, 'not also counted as a drop action');
  assert.is(ps(IN).rx_dropped - rxd0, 2n);
});

t('set_ipv4 + set_udp rewrite addresses and ports with valid checksums', () => {
  install(17, [
    { type: 'set_ipv4', src: IP9, dst: IP8, tos: 0xb8, ttl: 9 },
    { type: 'set_udp', src: 4444, dst: 5555 },
    out(IN),
  ]);
  const r = h.run(ipv4({ proto: 17, tos: 0x10, ttl: 64 }, udp(1, 2)));
  assert.is(r.ret, TC_ACT_REDIRECT);
  const o = r.out;
  assert.equal([...o.subarray(26, 34)], [...bytes4(IP9), ...bytes4(IP8)]);
  assert.is(o[15], 0xb8, 'tos');
  assert.is(o[22], 9, 'ttl');
  assert.equal([o.readUInt16BE(34), o.readUInt16BE(36)], [4444, 5555]);
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('a zero UDP checksum stays zero', () => {
  install(17, [{ type: 'set_ipv4', src: IP9 }, { type: 'set_udp', dst: 5555 }, out(IN)]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2), true)).out;
  assert.is(o.readUInt16BE(34 + 6), 0);
  assert.equal([...o.subarray(26, 30)], bytes4(IP9));
  assert.equal([...o.subarray(30, 34)], [...IP2], 'the destination is not set');
  assert.is(checksumsOk(o, 14).ip, true);
});

t('set_ipv4 + set_tcp on TCP; a set for another protocol is a no-op', () => {
  install(6, [{ type: 'set_ipv4', dst: IP8 }, { type: 'set_tcp', src: 8080 }, { type: 'set_udp', src: 9, dst: 9 }, out(IN)]);
  const o = h.run(ipv4({ proto: 6 }, tcp(1234, 80, 0x18))).out;
  assert.equal([...o.subarray(30, 34)], bytes4(IP8));
  assert.equal([o.readUInt16BE(34), o.readUInt16BE(36)], [8080, 80]);
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('set_eth', () => {
  install(17, [{ type: 'set_eth', src: 0x0a0000000001, dst: 0x0b0000000002 }, out(IN)]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2))).out;
  assert.is(o.subarray(0, 12).toString('hex'), '0b0000000002' + '0a0000000001');
});

t('push_vlan, then a USERSPACE upcall carries the frame as on the wire', async () => {
  const tci = (3 << 13) | 42;
  install(17, [{ type: 'push_vlan', tpid: 0x8100, tci }, { type: 'userspace', pid: 99, cookie: 42n }, out(IN)]);
  const f = ipv4({ proto: 17 }, udp(1, 2));
  assert.is(h.run(f).ret, TC_ACT_REDIRECT);
  const ups = await h.fence();
  assert.is(ups.length, 1, 'one upcall');
  const u = ups[0]!;
  assert.equal([u.type, u.cookie, u.pid, u.port], ['action', 42n, 99, IN]);
  assert.is(u.pktLen, f.length + 4);
  const tag = Buffer.from([0x81, 0x00, tci >> 8, tci & 0xff]);
  assert.is(Buffer.from(u.packet).toString('hex'), Buffer.concat([f.subarray(0, 12), tag, f.subarray(12)]).toString('hex'), 'all of it captured');
  assert.is(u.key.vlanTci, 0x1000 | tci);
});

t('two pushes then set_ipv4: the L3 offset follows the tags in the data', () => {
  install(17, [
    { type: 'push_vlan', tpid: 0x8100, tci: 10 },
    { type: 'push_vlan', tpid: 0x88a8, tci: 20 },
    { type: 'set_ipv4', dst: IP9 },
    out(IN),
  ]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2))).out;
  // The outer tag stays in skb metadata; the inner one was moved into the data.
  assert.is(o.readUInt16BE(12), 0x8100);
  assert.is(o.readUInt16BE(14), 10);
  assert.equal([...o.subarray(18 + 16, 18 + 20)], bytes4(IP9));
  assert.equal(checksumsOk(o, 18), { ip: true, l4: true });
});

t('pop_vlan then set_ipv4 on a tagged frame', () => {
  install(17, [{ type: 'pop_vlan' }, { type: 'set_ipv4', src: IP8 }, out(IN)]);
  const inner = ipv4({ proto: 17 }, udp(1, 2));
  const o = h.run(eth(0x0800, inner.subarray(14), [[0x8100, 5]])).out;
  assert.is(o.readUInt16BE(12), 0x0800);
  assert.equal([...o.subarray(26, 30)], bytes4(IP8));
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('a miss is sent up once and counted', async () => {
  const [m0, up0] = [dp().missed, h.drops('upcall')];
  const f = ipv4({ proto: 47 }, Buffer.alloc(8));
  assert.is(h.run(f).ret, TC_ACT_SHOT);
  assert.is(dp().missed - m0, 1n);
  assert.is(h.drops('upcall') - up0, 1n, 'BVS_DROP_UPCALL');
  const ups = await h.fence();
  assert.is(ups.length, 1);
  assert.is(ups[0]!.type, 'miss');
  assert.is(Buffer.from(ups[0]!.packet).toString('hex'), f.toString('hex'));
});

t.run();
