/**
 * The datapath on the real kernel: three netns hosts joined by veth pairs to one datapath.
 * Every namespace, link and pin is unique to this run and removed in `after`, even on failure.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath } from '../../src/datapath/datapath.ts';
import { emptyKey, exactMask, type FlowKey } from '../../src/datapath/flow.ts';
import type { Upcall } from '../../src/datapath/records.ts';
import { parseFlow } from '../../src/datapath/odp/index.ts';
import { arp, icmp, ipv4, ipv6, tcp, udp } from '../helpers/frames.ts';
import { bvs, type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('datapath-kernel');
const topo = new Topology();
const DP = `t${topo.tag}`;
let dp: Datapath;
let h1: Host, h2: Host, h3: Host;
const BCAST = 0xffffffffffff;

t.before(() => {
  ({ dp, hosts: [h1, h2, h3] } = topo.withDatapath(DP, 3));
});

t.after(() => topo.destroy());

const portOf = (h: Host) => dp.findPort(h.port)!.portNo;

/**
 * Opens the ring, runs send() and waits until an upcall carrying each of `frames` arrived;
 * returns those upcalls in the order of `frames` (records of other traffic are passed over).
 */
async function upcallsOf(frames: Uint8Array[], send: () => void): Promise<Upcall[]> {
  const got: Upcall[] = [];
  const ring = dp.openUpcalls((batch) => { got.push(...batch); });
  try {
    send();
    return await waitFor(`the upcalls of ${frames.length} frames`, () => {
      const found = frames.map((f) => got.find((u) => Buffer.from(u.packet).equals(Buffer.from(f))));
      return found.every((u) => u !== undefined) && (found as Upcall[]);
    });
  } finally {
    ring.close();
  }
}

function key(partial: Partial<FlowKey>): FlowKey {
  return { ...emptyKey(), ...partial };
}

t('ports are numbered from 1 and listed with their names', () => {
  const ports = dp.listPorts();
  assert.equal(ports.map((p) => p.name), [h1.port, h2.port, h3.port]);
  assert.equal(ports.map((p) => p.portNo), [1, 2, 3]);
});

t('upcalls carry correctly parsed keys (ARP, TCP, UDP, ICMP, IPv6, VLAN, truncated)', async () => {
  dp.flushFlows();
  const p1 = portOf(h1);
  const e = { src: h1.macNum, dst: h2.macNum };
  const v6s = 0xfd000000000000000000000000000001n;
  const v6d = 0xfd000000000000000000000000000002n;
  const cases: Array<{ name: string; frame: Uint8Array; key: FlowKey }> = [
    {
      name: 'arp', frame: arp({ src: h1.macNum, dst: BCAST }, 1, h1.macNum, h1.ipNum, 0, h2.ipNum),
      key: key({ inPort: p1, ethSrc: h1.macNum, ethDst: BCAST, ethType: 0x0806, ipProto: 1, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum, arpSha: h1.macNum }),
    },
    {
      name: 'tcp', frame: ipv4(e, { src: h1.ipNum, dst: h2.ipNum, proto: 6, tos: 0x28, ttl: 33 }, tcp(40000, 80, 0x02)),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, ipProto: 6, ipTos: 0x28, ipTtl: 33, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum, tpSrc: 40000, tpDst: 80, tcpFlags: 0x002 }),
    },
    {
      name: 'udp', frame: ipv4(e, { src: h1.ipNum, dst: h2.ipNum, proto: 17 }, udp(5353, 53)),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, ipProto: 17, ipTtl: 64, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum, tpSrc: 5353, tpDst: 53 }),
    },
    {
      name: 'icmp', frame: ipv4(e, { src: h1.ipNum, dst: h2.ipNum, proto: 1 }, icmp(8, 0)),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, ipProto: 1, ipTtl: 64, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum, tpSrc: 8, tpDst: 0 }),
    },
    {
      name: 'ipv4 later fragment', frame: ipv4(e, { src: h1.ipNum, dst: h2.ipNum, proto: 17, frag: 'later' }, udp(1, 2)),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, ipProto: 17, ipTtl: 64, ipFrag: 2, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum }),
    },
    {
      name: 'ipv6 udp', frame: ipv6(e, v6s, v6d, 17, udp(1000, 2000), 0xb8, 7, 0x12345),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x86dd, ipProto: 17, ipTos: 0xb8, ipTtl: 7, ipv6Src: v6s, ipv6Dst: v6d, ipv6Label: 0x12345, tpSrc: 1000, tpDst: 2000 }),
    },
    {
      name: 'vlan udp', frame: ipv4({ ...e, vlan: { vid: 10, pcp: 5 } }, { src: h1.ipNum, dst: h2.ipNum, proto: 17 }, udp(7, 8)),
      key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, vlanTci: 0x1000 | (5 << 13) | 10, ipProto: 17, ipTtl: 64, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum, tpSrc: 7, tpDst: 8 }),
    },
  ];
  // Truncated: an IPv4 header cut short leaves every IP field 0; a cut TCP header leaves ports 0.
  const full = ipv4(e, { src: h1.ipNum, dst: h2.ipNum, proto: 6 }, tcp(1234, 80, 0x10));
  cases.push({
    name: 'truncated ipv4', frame: full.slice(0, 14 + 12),
    key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800 }),
  });
  cases.push({
    name: 'truncated tcp', frame: full.slice(0, 14 + 20 + 10),
    key: key({ inPort: p1, ethSrc: e.src, ethDst: e.dst, ethType: 0x0800, ipProto: 6, ipTtl: 64, ipv4Src: h1.ipNum, ipv4Dst: h2.ipNum }),
  });
  const got = await upcallsOf(cases.map((c) => c.frame), () => topo.inject(h1, cases.map((c) => c.frame)));
  cases.forEach((c, i) => {
    assert.is(got[i].type, 'miss', c.name);
    assert.is(got[i].port, p1, c.name);
    assert.equal(got[i].key, c.key, `key of ${c.name}`);
    assert.is(got[i].pktLen, c.frame.length, `pkt_len of ${c.name}`);
    assert.equal(Buffer.from(got[i].packet).toString('hex'), Buffer.from(c.frame).toString('hex'), `bytes of ${c.name}`);
  });
});

t('after add-flow, ping works and flow and port counters count exactly', async () => {
  dp.flushFlows();
  topo.staticArp();
  const r1 = await bvs(topo, ['dpctl', 'add-flow', DP, `in_port(${portOf(h1)}),eth_type(0x0800),ipv4(proto=1)`, String(portOf(h2))]);
  const r2 = await bvs(topo, ['dpctl', 'add-flow', DP, `in_port(${portOf(h2)}),eth_type(0x0800),ipv4(proto=1)`, String(portOf(h1))]);
  assert.is(r1.code, 0, r1.stderr);
  assert.is(r2.code, 0, r2.stderr);
  const s0 = dp.stats();
  const before = [h1, h2].map((h) => dp.portStats(portOf(h)));
  assert.is(await topo.ping(h1, h2, 3), 3);
  const flows = dp.dumpFlows();
  assert.is(flows.length, 2);
  for (const f of flows) {
    assert.is(f.stats.packets, 3n);
    assert.is(f.stats.bytes, 3n * 98n); // 14 Ethernet + 84 IP (ICMP echo with 56 bytes of data)
    assert.ok(f.stats.usedNs > 0n);
  }
  const s1 = dp.stats();
  assert.is(s1.hit - s0.hit, 6n);
  assert.is(s1.missed - s0.missed, 0n);
  const after = [h1, h2].map((h) => dp.portStats(portOf(h)));
  for (let i = 0; i < 2; i++) {
    assert.is(after[i].rxPackets - before[i].rxPackets, 3n);
    assert.is(after[i].txPackets - before[i].txPackets, 3n);
    assert.is(after[i].rxBytes - before[i].rxBytes, 294n);
  }
  // No flow leads to h3: h1's ICMP flow takes the echo request to h2, which ignores it.
  assert.is(await topo.ping(h1, h3, 1), 0);
  await waitFor('h1\'s flow counting the echo request to h3', () => dp.dumpFlows().some((f) => f.key.inPort === portOf(h1) && f.stats.packets === 4n));
});

t('one wildcarded flow serves many 5-tuples', async () => {
  dp.flushFlows();
  topo.staticArp();
  const { key: k, mask } = parseFlow(`in_port(${portOf(h1)}),eth_type(0x0800),ipv4(proto=17)`);
  dp.putFlow(k, mask, [{ type: 'output', port: portOf(h2) }], 'add');
  // h2 answers each datagram with an ICMP port unreachable: give those a flow too (drop).
  const back = parseFlow(`in_port(${portOf(h2)})`);
  dp.putFlow(back.key, back.mask, [], 'add');
  const s0 = dp.stats();
  const script = `for p in $(seq 2000 2019); do echo x > /dev/udp/${h2.ip}/$p; done`;
  topo.inNs(h1, ['bash', '-c', script]);
  const f = await waitFor('20 datagrams through the flow', () => { const g = dp.getFlow(k, mask)!; return g.stats.packets >= 20n && g; });
  assert.is(f.stats.packets, 20n);
  const s1 = dp.stats();
  assert.is(s1.missed - s0.missed, 0n);
  assert.is(s1.flows, 2);
  assert.is(s1.masks, 2);
});

t.run();
