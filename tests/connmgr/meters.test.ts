/**
 * Meters through the OpenFlow channel: the real ovs-ofctl add-meter, mod-meter, dump-meters,
 * meter-stats, meter-features and del-meters on a bvs daemon's bridge, in OpenFlow 1.3 and 1.5;
 * bad meters and flows naming a missing meter refused by their OFPMMFC_* error, nothing
 * applied; and a flow `actions=meter:1,NORMAL` rate-limiting a ping flood, counted in
 * meter-stats, its flow deleted with the meter.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { decodeMessage, encodeMessage, type MeterBand } from '../../src/openflow/index.ts';
import { hdr, rawPeer } from '../openflow/fake-switch.ts';

const t = suite('connmgr-meters');
const topo = new Topology();
const br = `m${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

/** The body lines of a dump-meters/meter-stats reply (the header lines dropped). */
const body = (out: string): string => out.split('\n').filter((l) => l && !/^OFPST_|^OFPMP_|reply/.test(l)).join('\n');

for (const v of ['OpenFlow13', 'OpenFlow15']) {
  t(`${v}: meter-features, add-meter, dump-meters, mod-meter, meter-stats, del-meters`, async () => {
    const f = await ok('-O', v, 'meter-features', br);
    assert.match(f, /max_meter:1024 max_bands:4 max_color:0\nband_types: drop dscp_remark\ncapabilities: kbps pktps burst stats/, f);
    await ok('-O', v, 'add-meter', br, 'meter=1 pktps burst stats bands=type=drop rate=10 burst_size=20');
    await ok('-O', v, 'add-meter', br, 'meter=2 kbps bands=type=dscp_remark rate=1000 prec_level=1 type=drop rate=5000');
    assert.is(body(await ok('-O', v, 'dump-meters', br)),
      'meter=1 pktps burst stats bands=\ntype=drop rate=10 burst_size=20\n'
      + 'meter=2 kbps bands=\ntype=dscp_remark rate=1000 prec_level=1\ntype=drop rate=5000');
    await ok('-O', v, 'mod-meter', br, 'meter=1 pktps bands=type=drop rate=50');
    assert.is(body(await ok('-O', v, 'dump-meters', br, 'meter=1')), 'meter=1 pktps bands=\ntype=drop rate=50');
    const stats = await ok('-O', v, 'meter-stats', br);
    assert.match(stats, /meter:1 flow_count:0 packet_in_count:0 byte_in_count:0 duration:[0-9.]+s bands:\n0: packet_count:0 byte_count:0/);
    assert.match(stats, /meter:2 flow_count:0 .*bands:\n0: packet_count:0 byte_count:0\n1: packet_count:0 byte_count:0/);
    await ok('-O', v, 'del-meter', br, 'meter=2');
    assert.not.match(await ok('-O', v, 'dump-meters', br), /meter=2/);
    await ok('-O', v, 'del-meters', br);
    assert.is(body(await ok('-O', v, 'dump-meters', br)), '');
  });
}

t('bad meter-mods and flows naming a missing meter are refused by name; nothing is applied', async () => {
  const v = 'OpenFlow13';
  await ok('-O', v, 'add-meter', br, 'meter=3 kbps bands=type=drop rate=100');
  const cases: [string[], RegExp][] = [
    [['add-meter', br, 'meter=3 kbps bands=type=drop rate=200'], /OFPMMFC_METER_EXISTS/],
    [['mod-meter', br, 'meter=4 kbps bands=type=drop rate=200'], /OFPMMFC_UNKNOWN_METER/],
    [['add-meter', br, 'meter=5 kbps bands=type=drop rate=1 type=drop rate=2 type=drop rate=3 type=drop rate=4 type=drop rate=5'], /OFPMMFC_OUT_OF_BANDS/],
    [['add-flow', br, 'priority=10,actions=meter:9,output:1'], /OFPMMFC_INVALID_METER/],
    [['dump-meters', br, 'meter=9'], /OFPMMFC_UNKNOWN_METER/],
  ];
  for (const [args, re] of cases) {
    const r = await ofctl('-O', v, ...args);
    // A refused change fails the command; a refused request's error is printed as its reply.
    if (args[0] !== 'dump-meters') assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.out + r.err, re, `${args.join(' ')}: ${r.out}${r.err}`);
  }
  assert.is(body(await ok('-O', v, 'dump-meters', br)), 'meter=3 kbps bands=\ntype=drop rate=100', 'meter 3 unchanged, no other');
  assert.not.match(await ok('-O', v, 'dump-flows', br), /meter:9/);
  await ok('-O', v, 'del-meters', br);
});

t('meter-mods ovs-ofctl would not send are refused by their OFPMMFC_* error; the meter stays', async () => {
  await ok('-O', 'OpenFlow13', 'add-meter', br, 'meter=6 kbps bands=type=drop rate=100');
  const peer = await rawPeer(`${d.runDir}/${br}.mgmt`);
  try {
    peer.send([...hdr(4, 0, 8, 1)]);
    const drop = (rate: number, burstSize = 0): MeterBand => ({ type: 1, rate, burstSize, arg: 0 });
    // [command (0 add, 1 modify), meter id, flags, bands, error]: adds of meter 7, modifies of 6.
    const cases: [number, number, number, MeterBand[], string][] = [
      [0, 7, 0x1, [drop(0)], 'OFPMMFC_BAD_RATE'],
      [0, 7, 0x1 | 0x4, [drop(10, 0)], 'OFPMMFC_BAD_BURST'],
      [0, 7, 0x1 | 0x2, [drop(10)], 'OFPMMFC_BAD_FLAGS'],
      [0, 7, 0x1, [{ type: 3, rate: 10, burstSize: 0, arg: 0 }], 'OFPMMFC_BAD_BAND'],
      [0, 7, 0x1, [], 'OFPMMFC_BAD_BAND'],
      [0, 0, 0x1, [drop(10)], 'OFPMMFC_INVALID_METER'],
      [0, 0xffff0001, 0x1, [drop(10)], 'OFPMMFC_INVALID_METER'],
      [0, 6, 0x1, [drop(10)], 'OFPMMFC_METER_EXISTS'],
      [1, 6, 0x1 | 0x2, [drop(10)], 'OFPMMFC_BAD_FLAGS'],
      [1, 6, 0x1, [drop(0)], 'OFPMMFC_BAD_RATE'],
      [1, 6, 0x1, [drop(1), drop(2), drop(3), drop(4), drop(5)], 'OFPMMFC_OUT_OF_BANDS'],
      [7, 6, 0x1, [drop(10)], 'OFPMMFC_BAD_COMMAND'],
    ];
    for (const [i, [command, meterId, flags, bands, name]] of cases.entries()) {
      const xid = 100 + i;
      peer.send(encodeMessage(4, xid, { kind: 'meter_mod', command, flags, meterId, bands }));
      const reply = await until(`the reply to ${name}`, () => peer.frames.map((f) => decodeMessage(f)).find((m) => m.xid === xid));
      assert.is(reply.msg.kind, 'error', name);
      assert.is((reply.msg as { name?: string }).name, name);
    }
  } finally {
    peer.socket.destroy();
  }
  assert.is(body(await ok('-O', 'OpenFlow13', 'dump-meters', br)), 'meter=6 kbps bands=\ntype=drop rate=100');
  await ok('-O', 'OpenFlow13', 'del-meters', br);
});

/** ICMP echo requests h1 sent and replies it got in a flood of `seconds`, from ping's summary. */
async function flood(seconds: number): Promise<{ sent: number; received: number }> {
  const r = await topo.inNsAsync(h[0]!, ['ping', '-f', '-W', '0.2', '-w', String(seconds), h[1]!.ip]);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  assert.ok(m, `ping: ${r.stdout} ${r.stderr}`);
  return { sent: Number(m![1]), received: Number(m![2]) };
}

for (const v of ['OpenFlow13', 'OpenFlow15']) {
  t(`${v}: actions=meter:1,NORMAL rate-limits a ping flood; meter-stats counts the drops; del-meter deletes the flow`, async () => {
    assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2, 'the path works (ARP learned)');
    // 20 packets/s with a bucket of 10: a 2 s flood (a request every 10 ms at least) passes
    // about 10 + 2 x 20 of its hundreds of requests.
    await ok('-O', v, 'add-meter', br, 'meter=1 pktps burst stats bands=type=drop rate=20 burst_size=10');
    await ok('-O', v, 'add-flow', br, `priority=100,icmp,nw_dst=${h[1]!.ip},actions=meter:1,NORMAL`);
    assert.match(await ok('-O', v, 'dump-flows', br), /priority=100,icmp,nw_dst=\S+ actions=meter:1,NORMAL/);
    const { sent, received } = await flood(2);
    assert.ok(received < sent / 2 && received >= 10 && received <= 10 + 3 * 20, `${received} of ${sent} replies`);
    const stats = await until('meter-stats to count every request', async () => {
      const out = await ok('-O', v, 'meter-stats', br, 'meter=1');
      const m = /packet_in_count:(\d+) .*\n0: packet_count:(\d+)/.exec(out);
      return m && Number(m[1]) >= sent ? { in: Number(m[1]), dropped: Number(m[2]), out } : undefined;
    });
    assert.match(stats.out, /meter:1 flow_count:1 /);
    assert.is(stats.in, sent, 'every request reached the meter once');
    assert.is(stats.dropped, sent - received, 'what the band dropped is what got no reply');
    await ok('-O', v, 'del-meter', br, 'meter=1');
    assert.not.match(await ok('-O', v, 'dump-flows', br), /meter:1/, 'the flow went with its meter');
    assert.is(await topo.ping(h[0]!, h[1]!, 20, 0.01, 10), 20, 'unmetered again');
  });
}

t.run();
