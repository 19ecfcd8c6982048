/**
 * The flow key parser of bpf/lib/parse.h, through BPF_PROG_TEST_RUN: each crafted frame misses
 * (no masks), so the program sends it up with its key; the key must hold exactly the fields the
 * frame really carries (bvs_abi.h field comments), zeros elsewhere. Keys are FlowKey values
 * decoded by the ABI codec; each expected key is also what src/datapath/frame.ts (the userspace
 * copy of the parser) must give for the frame.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { keyFromFrame } from '../../src/datapath/frame.ts';
import { be16, eth, IP1, IP2, ipNum, ipv4, MAC1, MAC2, macNum, tcp, udp } from './frames.ts';
import { keyDiff, ProgHarness, TC_ACT_OK, TC_ACT_SHOT } from './harness.ts';

const t = suite('bpf-parse');
const h = new ProgHarness();
const PORT = 7;

t.before(() => {
  try {
    h.start();
    h.mapIfindex(h.ifindex, PORT);
  } catch (err) {
    h.destroy();
    throw err;
  }
});
t.after(() => h.destroy());

function key(f: Partial<FlowKey>): FlowKey {
  return { ...emptyKey(), inPort: PORT, ethSrc: macNum(MAC1), ethDst: macNum(MAC2), ...f };
}

/** Runs the frame; it must miss with exactly one upcall carrying the frame and the key `want`. */
async function same(frame: Buffer, want: FlowKey, what: string): Promise<void> {
  assert.is(h.run(frame).ret, TC_ACT_SHOT, `${what}: a miss is shot (userspace re-injects)`);
  const ups = await h.fence();
  assert.is(ups.length, 1, `${what}: one upcall`);
  const u = ups[0]!;
  assert.is(u.type, 'miss', what);
  assert.is(u.pktLen, frame.length, what);
  assert.is(Buffer.from(u.packet).toString('hex'), frame.toString('hex'), `${what}: upcall data is the frame`);
  assert.equal(keyDiff(u.key, want), [], `${what}: kernel key`);
  assert.equal(keyDiff(keyFromFrame(frame, PORT), want), [], `${what}: frame.ts key`);
}

const v6 = (last: number) => Buffer.from(`fd00000000000000000000000000000${last.toString(16)}`, 'hex');
const v6n = (last: number) => BigInt(`0x${v6(last).toString('hex')}`);

function ipv6(next: number, payload: Buffer, tc = 0, hop = 64, label = 0): Buffer {
  const hdr = Buffer.alloc(40);
  hdr.writeUInt32BE(((6 << 28) | (tc << 20) | label) >>> 0, 0);
  hdr.writeUInt16BE(payload.length, 4);
  hdr[6] = next;
  hdr[7] = hop;
  v6(1).copy(hdr, 8);
  v6(2).copy(hdr, 24);
  return eth(0x86dd, Buffer.concat([hdr, payload]));
}

const ip4 = { ethType: 0x0800, ipv4Src: ipNum(IP1), ipv4Dst: ipNum(IP2) };

t('a device that is not a port passes untouched', async () => {
  h.unmapIfindex(h.ifindex);
  try {
    assert.is(h.run(ipv4({ proto: 17 }, udp(1, 2))).ret, TC_ACT_OK);
  } finally {
    h.mapIfindex(h.ifindex, PORT);
  }
  assert.equal(await h.fence(), [], 'no upcall before the fence');
});

t('ipv4 tcp, udp, sctp, icmp', async () => {
  await same(ipv4({ proto: 6, tos: 0x28, ttl: 33 }, tcp(40000, 80, 0x812)),
    key({ ...ip4, ipProto: 6, ipTos: 0x28, ipTtl: 33, tpSrc: 40000, tpDst: 80, tcpFlags: 0x812 }), 'tcp');
  await same(ipv4({ proto: 17 }, udp(5353, 53)), key({ ...ip4, ipProto: 17, ipTtl: 64, tpSrc: 5353, tpDst: 53 }), 'udp');
  const sctp = Buffer.concat([be16(3868), be16(2905), Buffer.alloc(8)]);
  await same(ipv4({ proto: 132 }, sctp), key({ ...ip4, ipProto: 132, ipTtl: 64, tpSrc: 3868, tpDst: 2905 }), 'sctp');
  await same(ipv4({ proto: 1 }, Buffer.from([3, 4, 0, 0, 0, 0, 0, 0])), key({ ...ip4, ipProto: 1, ipTtl: 64, tpSrc: 3, tpDst: 4 }), 'icmp');
});

t('ipv4 options move L4; fragments; malformed headers leave IP fields 0', async () => {
  const opts = Buffer.from([1, 1, 1, 0]); // NOP NOP NOP EOL
  await same(ipv4({ proto: 17, options: opts }, udp(1111, 2222)), key({ ...ip4, ipProto: 17, ipTtl: 64, tpSrc: 1111, tpDst: 2222 }), 'options');
  await same(ipv4({ proto: 17, frag: 0x2000 }, udp(1, 2)), key({ ...ip4, ipProto: 17, ipTtl: 64, ipFrag: 1, tpSrc: 1, tpDst: 2 }), 'first fragment');
  await same(ipv4({ proto: 17, frag: 0x0010 }, udp(1, 2)), key({ ...ip4, ipProto: 17, ipTtl: 64, ipFrag: 2 }), 'later fragment: no ports');
  const bad = ipv4({ proto: 17 }, udp(1, 2));
  bad[14] = 0x44; // IHL 4
  await same(bad, key({ ethType: 0x0800 }), 'ihl < 5');
  const v5 = ipv4({ proto: 17 }, udp(1, 2));
  v5[14] = 0x55; // version 5
  await same(v5, key({ ethType: 0x0800 }), 'version != 4');
  const longIhl = ipv4({ proto: 17 }, Buffer.alloc(0)).subarray(0, 14 + 20);
  longIhl[14] = 0x4f; // claims 60 bytes, packet has 20
  await same(longIhl, key({ ethType: 0x0800 }), 'header beyond the packet');
  const full = ipv4({ proto: 6 }, tcp(1234, 80, 0x10));
  // BPF_PROG_TEST_RUN refuses an ETH_P_IP frame shorter than an IP header, so the cut IPv4
  // header rides behind a VLAN tag (tests/datapath/kernel.test.ts covers the untagged case on veth).
  await same(eth(0x0800, full.subarray(14, 14 + 12), [[0x8100, 3]]), key({ ethType: 0x0800, vlanTci: 0x1003 }), 'truncated ipv4');
  await same(full.subarray(0, 14 + 20 + 10), key({ ...ip4, ipProto: 6, ipTtl: 64 }), 'truncated tcp');
  await same(ipv4({ proto: 6 }, tcp(1, 2, 0x2, 4)), key({ ...ip4, ipProto: 6, ipTtl: 64 }), 'tcp doff < 5');
  await same(ipv4({ proto: 1 }, Buffer.from([8, 0, 0, 0])), key({ ...ip4, ipProto: 1, ipTtl: 64 }), 'icmp shorter than 8');
});

t('ipv6: fields, extension headers, fragments, truncation', async () => {
  const base = { ethType: 0x86dd, ipv6Src: v6n(1), ipv6Dst: v6n(2) };
  await same(ipv6(17, udp(1000, 2000), 0xb8, 7, 0x12345),
    key({ ...base, ipProto: 17, ipTos: 0xb8, ipTtl: 7, ipv6Label: 0x12345, tpSrc: 1000, tpDst: 2000 }), 'udp');
  const hbh = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]);       // -> dest opts, 8 bytes, PadN
  const dst = Buffer.from([6, 1, 1, 12, ...Buffer.alloc(12)]); // -> tcp, 16 bytes
  await same(ipv6(0, Buffer.concat([hbh, dst, tcp(7, 8, 0x18)])),
    key({ ...base, ipProto: 6, ipTtl: 64, tpSrc: 7, tpDst: 8, tcpFlags: 0x18 }), 'hop-by-hop + dest opts + tcp');
  const frag0 = Buffer.from([17, 0, 0, 1, 0, 0, 0, 9]);   // offset 0, M=1
  await same(ipv6(44, Buffer.concat([frag0, udp(5, 6)])), key({ ...base, ipProto: 17, ipTtl: 64, ipFrag: 1, tpSrc: 5, tpDst: 6 }), 'first fragment');
  const fragN = Buffer.from([17, 0, 0, 0x40, 0, 0, 0, 9]); // offset 8
  await same(ipv6(44, Buffer.concat([fragN, udp(5, 6)])), key({ ...base, ipProto: 17, ipTtl: 64, ipFrag: 2 }), 'later fragment');
  const cut = Buffer.from([6, 3, 0, 0]);                  // claims 32 bytes, 4 present
  await same(ipv6(60, cut), key({ ...base, ipProto: 60, ipTtl: 64 }), 'truncated extension header');
  await same(ipv6(58, Buffer.from([135, 0, 0, 0, 0, 0, 0, 0])), key({ ...base, ipProto: 58, ipTtl: 64, tpSrc: 135, tpDst: 0 }), 'icmpv6');
  await same(eth(0x86dd, ipv6(17, Buffer.alloc(0)).subarray(14, 14 + 30), [[0x8100, 3]]), key({ ethType: 0x86dd, vlanTci: 0x1003 }), 'truncated ipv6');
});

t('arp, 802.3, vlan, qinq', async () => {
  const arpBody = (htype: number, op: number) => Buffer.concat([be16(htype), be16(0x0800), Buffer.from([6, 4]), be16(op),
    MAC1, IP1, Buffer.from('0a0b0c0d0e0f', 'hex'), IP2]);
  await same(eth(0x0806, arpBody(1, 2)), key({ ethType: 0x0806, ipProto: 2, ipv4Src: ipNum(IP1), ipv4Dst: ipNum(IP2), arpSha: macNum(MAC1), arpTha: 0x0a0b0c0d0e0f }), 'arp reply');
  await same(eth(0x0806, arpBody(1, 300)), key({ ethType: 0x0806, ipv4Src: ipNum(IP1), ipv4Dst: ipNum(IP2), arpSha: macNum(MAC1), arpTha: 0x0a0b0c0d0e0f }), 'arp op > 255');
  await same(eth(0x0806, arpBody(6, 1)), key({ ethType: 0x0806 }), 'arp, not ethernet');
  await same(eth(0x0806, arpBody(1, 1)).subarray(0, 30), key({ ethType: 0x0806 }), 'truncated arp');
  await same(eth(46, Buffer.alloc(46)), key({ ethType: 0x05ff }), '802.3 length field');
  const inner = ipv4({ proto: 17 }, udp(7, 8)).subarray(14);
  await same(eth(0x0800, inner, [[0x8100, (5 << 13) | 10]]),
    key({ ...ip4, vlanTci: 0x1000 | (5 << 13) | 10, ipProto: 17, ipTtl: 64, tpSrc: 7, tpDst: 8 }), 'vlan');
  await same(eth(0x0800, inner, [[0x88a8, 100], [0x8100, 10]]), key({ ethType: 0x8100, vlanTci: 0x1000 | 100 }), 'qinq: outer tag only');
  await same(eth(0x8100, Buffer.alloc(0)).subarray(0, 16), key({ ethType: 0x8100 }), 'truncated tag');
});

t.run();
