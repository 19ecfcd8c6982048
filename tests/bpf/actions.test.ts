/**
 * Megaflow lookup and actions of the datapath program (bpf/lib/lookup.h, bpf/lib/actions.h),
 * through BPF_PROG_TEST_RUN: flows and masks are written with bpftool, crafted frames run
 * through the program, and the verdict, the frame it leaves (data_out), the upcalls and the
 * counters are checked. All ports point at lo of a private netns, so copies go nowhere.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ACT, be16, checksumsOk, encodeFlow, eth, IP1, IP2, ipv4, K, ProgHarness, SET, tcp,
  TC_ACT_REDIRECT, TC_ACT_SHOT, udp, type Action,
} from './harness.ts';

const t = suite('bpf-actions');
const h = new ProgHarness();
const IN = 7;          // the in_port (lo, ifindex 1)
const PEER = 9;        // flags BVS_PORT_F_PEER
const INTERNAL = 10;   // flags BVS_PORT_F_INTERNAL
const SLOT = 1;        // slot 0 stays unused: the walk must skip it

function port(ifindex: number, flags: number, name: string): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(ifindex, 0);
  b.writeUInt32LE(flags, 4);
  b.write(name, 8);
  return b;
}

/** The megaflow key of slot SLOT: in_port, eth_type, ip_proto. */
function flowId(proto: number, ethType = 0x0800, slot = SLOT): Buffer {
  const b = Buffer.alloc(96);
  b.writeUInt32LE(slot, 0);
  b.writeUInt32LE(IN, 8 + K.inPort);
  b.writeUInt16BE(ethType, 8 + K.ethType);
  b[8 + K.ipProto] = proto;
  return b;
}

function install(proto: number, actions: Action[]): void {
  h.update('flows', flowId(proto), encodeFlow(actions));
}

const out = (p: number): Action => ({ type: ACT.OUTPUT, port: p });
const ip4u = (src: Buffer, dst: Buffer, tos = 0, ttl = 0): Buffer => Buffer.concat([src, dst, Buffer.from([tos, ttl]), Buffer.alloc(6)]);
const l4u = (src: number, dst: number): Buffer => Buffer.concat([be16(src), be16(dst)]);
const IP9 = Buffer.from([192, 168, 9, 9]);
const IP8 = Buffer.from([172, 16, 8, 8]);

t.before(() => {
  try {
    h.start();
    h.updateU32('ifindex_port', 1, IN);
    h.updateU32('ports', IN, port(1, 0, 'lo'));
    h.updateU32('ports', PEER, port(1, 1, 'lo-peer'));
    h.updateU32('ports', INTERNAL, port(1, 2, 'lo-int'));
    const mask = Buffer.alloc(96);
    mask.writeUInt32LE(0xffffffff, K.inPort);
    mask.writeUInt16BE(0xffff, K.ethType);
    mask[K.ipProto] = 0xff;
    mask.writeUInt32LE(1, 88);  // refcnt
    mask.writeUInt32LE(1, 92);  // BVS_MASK_F_USED
    h.updateU32('masks', SLOT, mask);
    const cfg = Buffer.alloc(32);
    cfg.writeUInt32LE(2, 0);    // n_mask_slots
    h.updateU32('config', 0, cfg);
  } catch (err) {
    h.destroy();
    throw err;
  }
});
t.after(() => h.destroy());

const dp = (w: number) => h.counter('dp_stats', 0, w);       // hit missed lost mask_hit mask_cache_hit
const drops = (reason: number) => h.counter('drop_stats', reason, 0);
const ps = (p: number, w: number) => h.counter('port_stats', p, w); // rx_packets rx_bytes rx_dropped tx_packets tx_bytes tx_dropped

t('output: redirect verdict, flow/port/datapath counters; masks walked and cached', () => {
  install(17, [out(IN)]);
  const f = ipv4({ proto: 17 }, udp(1, 2));
  const [hit0, mh0, mch0, rx0, tx0, txb0] = [dp(0), dp(3), dp(4), ps(IN, 0), ps(IN, 3), ps(IN, 4)];
  assert.is(h.run(f).ret, TC_ACT_REDIRECT);
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_REDIRECT);
  assert.is(h.run(ipv4({ proto: 17 }, udp(3, 4))).ret, TC_ACT_REDIRECT, 'the megaflow wildcards ports');
  assert.is(dp(0) - hit0, 3n);
  assert.ok(dp(4) - mch0 >= 1n, 'the second identical packet is answered by the mask cache');
  assert.is(dp(3) - mh0, 3n, 'one mask probed per packet (slot 0 is unused and skipped)');
  assert.is(ps(IN, 0) - rx0, 3n);
  assert.is(ps(IN, 3) - tx0, 3n);
  assert.is(ps(IN, 4) - txb0, BigInt(3 * f.length));
  const v = h.lookup('flows', flowId(17))!;
  assert.is(v.readBigUInt64LE(0), 3n, 'flow packets');
  assert.is(v.readBigUInt64LE(8), BigInt(3 * f.length), 'flow bytes');
  assert.ok(v.readBigUInt64LE(16) > 0n, 'used_ns');
  assert.is(h.upcalls(8, 30).length, 0);
});

t('tcp flags are ORed into the flow stats', () => {
  install(6, [out(IN)]);
  h.run(ipv4({ proto: 6 }, tcp(1, 2, 0x002)));
  h.run(ipv4({ proto: 6 }, tcp(1, 2, 0x010)));
  assert.is(h.lookup('flows', flowId(6))!.readUInt32LE(24), 0x012);
});

t('several outputs: clones then a redirect; peer and internal ports', () => {
  install(17, [out(IN), out(INTERNAL), out(PEER)]);
  const tx = [ps(IN, 3), ps(INTERNAL, 3), ps(PEER, 3)];
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_REDIRECT);
  assert.equal([ps(IN, 3) - tx[0], ps(INTERNAL, 3) - tx[1], ps(PEER, 3) - tx[2]], [1n, 1n, 1n]);
});

t('drops: no actions, unknown port; each counted once with its reason', () => {
  install(17, []);
  const [d1, d4, rxd] = [drops(1), drops(4), ps(IN, 2)];
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_SHOT);
  assert.is(drops(1) - d1, 1n, 'BVS_DROP_ACTION');
  assert.is(ps(IN, 2) - rxd, 1n, 'rx_dropped');
  install(17, [out(8)]);
  assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_SHOT);
  assert.is(drops(4) - d4, 1n, 'BVS_DROP_NO_OUTPUT_PORT');
  assert.is(drops(1) - d1, 1n, 'not also counted as a drop action');
  assert.is(ps(IN, 2) - rxd, 2n);
});

t('set_ipv4 + set_udp rewrite addresses and ports with valid checksums', () => {
  install(17, [
    { type: ACT.SET_IPV4, flags: SET.SRC | SET.DST | SET.TOS | SET.TTL, u: ip4u(IP9, IP8, 0xb8, 9) },
    { type: ACT.SET_UDP, flags: SET.SRC | SET.DST, u: l4u(4444, 5555) },
    out(IN),
  ]);
  const r = h.run(ipv4({ proto: 17, tos: 0x10, ttl: 64 }, udp(1, 2)));
  assert.is(r.ret, TC_ACT_REDIRECT);
  const o = r.out;
  assert.equal([...o.subarray(26, 34)], [...IP9, ...IP8]);
  assert.is(o[15], 0xb8, 'tos');
  assert.is(o[22], 9, 'ttl');
  assert.equal([o.readUInt16BE(34), o.readUInt16BE(36)], [4444, 5555]);
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('a zero UDP checksum stays zero', () => {
  install(17, [
    { type: ACT.SET_IPV4, flags: SET.SRC, u: ip4u(IP9, IP2) },
    { type: ACT.SET_UDP, flags: SET.DST, u: l4u(0, 5555) },
    out(IN),
  ]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2), true)).out;
  assert.is(o.readUInt16BE(34 + 6), 0);
  assert.equal([...o.subarray(26, 30)], [...IP9]);
  assert.is(checksumsOk(o, 14).ip, true);
});

t('set_ipv4 + set_tcp on TCP; a set for another protocol is a no-op', () => {
  install(6, [
    { type: ACT.SET_IPV4, flags: SET.DST, u: ip4u(IP1, IP8) },
    { type: ACT.SET_TCP, flags: SET.SRC, u: l4u(8080, 0) },
    { type: ACT.SET_UDP, flags: SET.SRC, u: l4u(9, 9) },
    out(IN),
  ]);
  const o = h.run(ipv4({ proto: 6 }, tcp(1234, 80, 0x18))).out;
  assert.equal([...o.subarray(30, 34)], [...IP8]);
  assert.equal([o.readUInt16BE(34), o.readUInt16BE(36)], [8080, 80]);
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('set_eth', () => {
  install(17, [{ type: ACT.SET_ETH, flags: SET.SRC | SET.DST, u: Buffer.from('0a0000000001' + '0b0000000002', 'hex') }, out(IN)]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2))).out;
  assert.is(o.subarray(0, 12).toString('hex'), '0b0000000002' + '0a0000000001');
});

t('push_vlan, then a USERSPACE upcall carries the frame as on the wire', () => {
  install(17, [
    { type: ACT.PUSH_VLAN, u: Buffer.concat([be16(0x8100), be16((3 << 13) | 42)]) },
    { type: ACT.USERSPACE, port: 99, u: Buffer.from('2a00000000000000', 'hex') },
    out(IN),
  ]);
  const f = ipv4({ proto: 17 }, udp(1, 2));
  assert.is(h.run(f).ret, TC_ACT_REDIRECT);
  const [u] = h.upcalls(8, 50);
  assert.ok(u, 'an upcall');
  assert.equal([u.type, u.cookie, u.pid, u.port], [2, 42n, 99, IN]);
  assert.is(u.pktLen, f.length + 4);
  assert.is(u.capLen, f.length + 4);
  assert.is(u.data.toString('hex'), Buffer.concat([f.subarray(0, 12), be16(0x8100), be16((3 << 13) | 42), f.subarray(12)]).toString('hex'));
  assert.is(u.key.readUInt16BE(K.vlanTci), 0x1000 | (3 << 13) | 42);
});

t('two pushes then set_ipv4: the L3 offset follows the tags in the data', () => {
  install(17, [
    { type: ACT.PUSH_VLAN, u: Buffer.concat([be16(0x8100), be16(10)]) },
    { type: ACT.PUSH_VLAN, u: Buffer.concat([be16(0x88a8), be16(20)]) },
    { type: ACT.SET_IPV4, flags: SET.DST, u: ip4u(IP1, IP9) },
    out(IN),
  ]);
  const o = h.run(ipv4({ proto: 17 }, udp(1, 2))).out;
  // The outer tag stays in skb metadata; the inner one was moved into the data.
  assert.is(o.readUInt16BE(12), 0x8100);
  assert.is(o.readUInt16BE(14), 10);
  assert.equal([...o.subarray(18 + 16, 18 + 20)], [...IP9]);
  assert.equal(checksumsOk(o, 18), { ip: true, l4: true });
});

t('pop_vlan then set_ipv4 on a tagged frame', () => {
  install(17, [{ type: ACT.POP_VLAN }, { type: ACT.SET_IPV4, flags: SET.SRC, u: ip4u(IP8, IP2) }, out(IN)]);
  const inner = ipv4({ proto: 17 }, udp(1, 2));
  const o = h.run(eth(0x0800, inner.subarray(14), [[0x8100, 5]])).out;
  assert.is(o.readUInt16BE(12), 0x0800);
  assert.equal([...o.subarray(26, 30)], [...IP8]);
  assert.equal(checksumsOk(o, 14), { ip: true, l4: true });
});

t('a miss is sent up once and counted', () => {
  const [m0, d2] = [dp(1), drops(2)];
  const f = ipv4({ proto: 47 }, Buffer.alloc(8));
  assert.is(h.run(f).ret, TC_ACT_SHOT);
  const ups = h.upcalls(8, 50);
  assert.is(ups.length, 1);
  assert.is(ups[0].type, 1);
  assert.is(dp(1) - m0, 1n);
  assert.is(drops(2) - d2, 1n, 'BVS_DROP_UPCALL');
});

t.run();
