import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyKey, FRAG_FIRST, FRAG_LATER, type FlowKey } from '../../src/datapath/flow.ts';
import { keyFromFrame } from '../../src/datapath/frame.ts';
import { arp, eth, icmp, ipv4, ipv6, tcp, udp } from '../helpers/frames.ts';

const t = suite('vswitch-frame');
const E = { src: 0x020000000001, dst: 0x020000000002 };
const base = (over: Partial<FlowKey>): FlowKey => ({ ...emptyKey(), inPort: 7, ethSrc: E.src, ethDst: E.dst, ...over });

t('IPv4 UDP, TCP with flags, ICMP type/code', () => {
  const ip = { src: 0x0a000001, dst: 0x0a000002, tos: 0x10, ttl: 33 };
  assert.equal(keyFromFrame(ipv4(E, { ...ip, proto: 17 }, udp(1111, 53)), 7),
    base({ ethType: 0x800, ipProto: 17, ipTos: 0x10, ipTtl: 33, ipv4Src: ip.src, ipv4Dst: ip.dst, tpSrc: 1111, tpDst: 53 }));
  assert.equal(keyFromFrame(ipv4(E, { ...ip, proto: 6 }, tcp(40000, 80, 0x12)), 7),
    base({ ethType: 0x800, ipProto: 6, ipTos: 0x10, ipTtl: 33, ipv4Src: ip.src, ipv4Dst: ip.dst, tpSrc: 40000, tpDst: 80, tcpFlags: 0x012 }));
  assert.equal(keyFromFrame(ipv4(E, { ...ip, proto: 1 }, icmp(8, 0)), 7),
    base({ ethType: 0x800, ipProto: 1, ipTos: 0x10, ipTtl: 33, ipv4Src: ip.src, ipv4Dst: ip.dst, tpSrc: 8, tpDst: 0 }));
});

t('fragments: first has L4, later has none', () => {
  const ip = { src: 1, dst: 2, proto: 17 };
  const first = keyFromFrame(ipv4(E, { ...ip, frag: 'first' }, udp(1, 2)), 1);
  assert.equal([first.ipFrag, first.tpDst], [FRAG_FIRST, 2]);
  const later = keyFromFrame(ipv4(E, { ...ip, frag: 'later' }, udp(1, 2)), 1);
  assert.equal([later.ipFrag, later.tpSrc, later.tpDst], [FRAG_LATER, 0, 0]);
});

t('VLAN tag, ARP, 802.3 length, truncations', () => {
  const k = keyFromFrame(ipv4({ ...E, vlan: { vid: 10, pcp: 5 } }, { src: 1, dst: 2, proto: 17 }, udp(5, 6)), 1);
  assert.equal([k.vlanTci, k.ethType, k.tpDst], [0x1000 | (5 << 13) | 10, 0x800, 6]);
  assert.equal(keyFromFrame(arp(E, 1, E.src, 0x0a000001, 0, 0x0a000002), 3),
    base({ inPort: 3, ethType: 0x806, ipProto: 1, arpSha: E.src, ipv4Src: 0x0a000001, ipv4Dst: 0x0a000002 }));
  assert.is(keyFromFrame(eth(E, 0x0100, [0xaa, 0xaa, 3]), 1).ethType, 0x05ff);
  const cut = ipv4(E, { src: 1, dst: 2, proto: 6 }, tcp(1, 2, 2)).subarray(0, 14 + 20 + 10);
  const kc = keyFromFrame(cut, 1);
  assert.equal([kc.ipProto, kc.tpSrc, kc.tcpFlags], [6, 0, 0], 'TCP header cut short: no L4');
  assert.equal(keyFromFrame(new Uint8Array(10), 4), { ...emptyKey(), inPort: 4 });
  assert.equal(keyFromFrame(eth(E, 0x8100, [0]), 1).ethType, 0x8100, 'truncated tag');
});

t('IPv6: traffic class, label, hop-by-hop then UDP; fragment header', () => {
  const src = 0xfe800000000000000000000000000001n, dst = 0xfe800000000000000000000000000002n;
  const k = keyFromFrame(ipv6(E, src, dst, 17, udp(546, 547), 0xb8, 255, 0x12345), 1);
  assert.equal([k.ethType, k.ipProto, k.ipTos, k.ipTtl, k.ipv6Label, k.ipv6Src, k.ipv6Dst, k.tpSrc, k.tpDst],
    [0x86dd, 17, 0xb8, 255, 0x12345, src, dst, 546, 547]);
  const hbh = [17, 0, 1, 4, 0, 0, 0, 0]; // next = UDP, len 0 (8 bytes), PadN
  const k2 = keyFromFrame(ipv6(E, src, dst, 0, [...hbh, ...udp(1, 2)]), 1);
  assert.equal([k2.ipProto, k2.tpDst], [17, 2]);
  const fragLater = [17, 0, 0x00, 0x08, 0, 0, 0, 1]; // offset 1 (8 bytes)
  const k3 = keyFromFrame(ipv6(E, src, dst, 44, [...fragLater, ...udp(1, 2)]), 1);
  assert.equal([k3.ipFrag, k3.ipProto, k3.tpDst], [FRAG_LATER, 17, 0]);
});

t.run();
