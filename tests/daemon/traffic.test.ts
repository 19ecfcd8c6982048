/**
 * bvs daemon end to end, traffic side: netns hosts on a bridge configured with the real
 * ovs-vsctl, forwarding through the upcall path and OVS's default NORMAL flow; flow-mods and
 * queries over NATS; VLANs; a MAC move; packet-in; malformed commands.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BusRemoteError, type Bus, type EventOf } from '../../src/bus/index.ts';
import { Datapath } from '../../src/datapath/index.ts';
import { arp, ipv4, udp } from '../helpers/frames.ts';
import { Topology, type Host } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';
import { daemonWithHosts, run, until, type DaemonProc } from './helpers.ts';

const t = suite('daemon-traffic');
const topo = new Topology();
const br = `b${topo.tag}`;
let d: DaemonProc;
let bus: Bus;
let h: Host[] = [];

const ns = (host: Host, ...cmd: string[]) => run('ip', ['netns', 'exec', host.ns, ...cmd]);

/** A ping that expects replies: waits up to 10 s for the first (an upcall on a loaded host). */
const ping = (a: Host, b: Host, count: number, interval: number): Promise<number> => topo.ping(a, b, count, interval, 10);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 3));
  bus = await d.bus();
});

t.after(async () => {
  await bus?.close().catch(() => {});
  await d?.cleanup();
  topo.destroy();
});

t('hosts ping each other through NORMAL (first packet not lost)', async () => {
  assert.is(await ping(h[0]!, h[1]!, 3, 0.1), 3);
  assert.is(await ping(h[1]!, h[2]!, 3, 0.1), 3);
  assert.is(await ping(h[2]!, h[0]!, 3, 0.1), 3);
  const fdb = await bus.request('appctl.fdb.show', { bridge: br });
  const macs = new Map(fdb.entries.map((e) => [e.mac, e.ofport]));
  assert.is(macs.get(h[0]!.mac), 1);
  assert.is(macs.get(h[2]!.mac), 3);
  const dpif = await bus.request('appctl.dpif.show', {});
  assert.ok(dpif.datapaths[0]!.flows > 0, 'megaflows installed');
});

t('dpif/show lists the internal port by its interface name, typed internal (as ovs-appctl)', async () => {
  const r = await run('bin/bvs', ['appctl', '--run-dir', d.runDir, 'dpif/show']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes(`    ${br} 65534/65534: (internal)`), r.stdout);
  h.forEach((x, i) => assert.ok(lines.includes(`    ${x.port} ${i + 1}/${i + 1}: (system)`), r.stdout));
  assert.not.match(r.stdout, /bvi[0-9a-f]{8}/, 'the hidden end of the veth pair is not shown');
});

t('a drop rule added with bvs ofctl stops matching traffic at once; deleting it restores it', async () => {
  const ofctl = async (...args: string[]) => {
    const r = await run('bin/bvs', ['ofctl', '--run-dir', d.runDir, ...args]);
    assert.is(r.code, 0, `bvs ofctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const match = `ip,nw_dst=${h[2]!.ip}`;
  await ofctl('add-flow', br, `priority=100,${match},actions=drop`);
  const replies = await topo.ping(h[0]!, h[2]!, 2, 0.2);
  // The echo requests reached the switch and hit the drop rule (its count says so), so none
  // received means dropped, not merely late. The rule counts what its megaflow forwarded (the
  // second request); the first went up as an upcall, which is not credited to rules.
  await until('the drop rule to count the pings', async () =>
    ((await bus.request('ofctl.dump-flows', { bridge: br })).flows.find((f) => f.priority === 100)?.n_packets ?? 0n) >= 1n);
  assert.is(replies, 0, 'dropped');
  assert.is(await ping(h[0]!, h[1]!, 2, 0.2), 2, 'other traffic unaffected');
  assert.match(await ofctl('dump-flows', br), /priority=100,ip,nw_dst=[\d.]+ actions=drop/);
  await ofctl('del-flows', br, match);
  assert.is(await ping(h[0]!, h[2]!, 2, 0.2), 2, 'restored');
  const flows = await bus.request('ofctl.dump-flows', { bridge: br });
  assert.equal(flows.flows.map((f) => f.actions), ['NORMAL']);
  assert.ok(flows.flows[0]!.n_packets > 0n, 'stats pushed into the NORMAL rule');
});

t('the controller action publishes a packet-in event', async () => {
  await bus.request('ofctl.add-flow', { bridge: br, flow: 'priority=200,udp,tp_dst=9999,actions=controller' });
  const got: EventOf<'packet-in'>[] = [];
  const sub = bus.subscribe('packet-in', (ev) => got.push(ev));
  try {
    await bus.flush();
    await ns(h[0]!, 'bash', '-c', `echo hello > /dev/udp/${h[1]!.ip}/9999`);
    const ev = await until('a packet-in', () => got[0]);
    assert.is(ev.bridge, br);
    assert.is(ev.in_port, 1);
    assert.is(ev.reason, 'action');
    assert.match(ev.flow, /udp/);
    assert.match(ev.flow, /tp_dst=9999/);
  } finally {
    sub.unsubscribe();
    await bus.request('ofctl.del-flows', { bridge: br, flow: 'udp,tp_dst=9999' });
  }
});

t('malformed NATS commands get error replies naming the field; the daemon keeps serving', async () => {
  const bad = async (fn: () => Promise<unknown>): Promise<BusRemoteError> => {
    try {
      await fn();
    } catch (err) {
      assert.instance(err, BusRemoteError);
      return err as BusRemoteError;
    }
    throw new Error('expected an error reply');
  };
  const raw = async (subject: string, data: string): Promise<{ ok: boolean; error?: { code: string; field?: string } }> => {
    const m = await bus.nc.request(`bvs.${bus.host}.cmd.${subject}`, new TextEncoder().encode(data), { timeout: 30_000 });
    return JSON.parse(new TextDecoder().decode(m.data));
  };
  let r = await raw('ofctl.add-flow', JSON.stringify({ brdige: br, flow: 'actions=drop' }));
  assert.is(r.ok, false);
  assert.is(r.error!.code, 'invalid_request');
  assert.is(r.error!.field, 'bridge');
  r = await raw('ofctl.add-flow', JSON.stringify({ bridge: br, flow: 'actions=drop', extra: 1 }));
  assert.is(r.error!.field, 'extra');
  r = await raw('ofctl.add-flow', '{not json');
  assert.is(r.error!.code, 'bad_json');
  let e = await bad(() => bus.request('ofctl.add-flow', { bridge: br, flow: 'priority=10,nw_dst=1.2.3.4.5,actions=drop' }));
  assert.is(e.code, 'invalid_request');
  assert.is(e.field, 'flow');
  e = await bad(() => bus.request('ofctl.add-flows', { bridge: br, flows: ['priority=1,actions=NORMAL', 'priority=2,bogus=1,actions=drop'] }));
  assert.is(e.field, 'flows.1');
  e = await bad(() => bus.request('ofctl.dump-flows', { bridge: 'nosuchbr' }));
  assert.is(e.code, 'not_found');
  assert.is(e.field, 'bridge');
  e = await bad(() => bus.request('appctl.ofproto.trace', { bridge: br, flow: 'in_port=99,ip' }));
  assert.is(e.field, 'flow');
  // nothing was half-applied, and the daemon still serves and forwards
  const flows = await bus.request('ofctl.dump-flows', { bridge: br });
  assert.equal(flows.flows.map((f) => f.actions), ['NORMAL']);
  assert.is((await bus.request('daemon.ping', {})).pid, d.proc!.pid);
  assert.is(await ping(h[0]!, h[1]!, 2, 0.1), 2);
});

t('ofproto/trace over NATS traces against the live MAC table', async () => {
  const tr = await bus.request('appctl.ofproto.trace', { bridge: br, flow: `in_port=1,dl_src=${h[0]!.mac},dl_dst=${h[1]!.mac},ip` });
  assert.match(tr.text, /NORMAL/);
  assert.is(tr.datapath_actions, '2');
});

t('ofproto/trace of a raw packet: over NATS (base64) and with bvs appctl (hex), in_port from the flow', async () => {
  const frame = ipv4({ src: h[0]!.macNum, dst: h[1]!.macNum }, { src: 0x0a000001, dst: 0x0a000002, proto: 17 }, udp(5000, 53));
  const tr = await bus.request('appctl.ofproto.trace', { bridge: br, flow: 'in_port=1', packet: Buffer.from(frame).toString('base64') });
  assert.match(tr.text, new RegExp(`^Flow: udp,in_port=1,.*dl_src=${h[0]!.mac},dl_dst=${h[1]!.mac}`));
  assert.match(tr.text, /tp_src=5000,tp_dst=53/);
  assert.is(tr.datapath_actions, '2');
  const hex = Buffer.from(frame).toString('hex');
  const cli = await run('bin/bvs', ['appctl', '--run-dir', d.runDir, 'ofproto/trace', br, 'in_port=1', hex]);
  assert.is(cli.code, 0, cli.stderr);
  assert.is(cli.stdout, tr.text.endsWith('\n') ? tr.text : `${tr.text}\n`, 'the CLI prints the daemon\'s trace text');
  const bad = await run('bin/bvs', ['appctl', '--run-dir', d.runDir, 'ofproto/trace', br, 'in_port=99', hex]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /in_port=99 is not a port/);
  const noPort = await bus.request('appctl.ofproto.trace', { bridge: br, flow: 'udp', packet: Buffer.from(frame).toString('base64') })
    .then(() => assert.unreachable('no in_port'), (e: BusRemoteError) => e);
  assert.is((noPort as BusRemoteError).field, 'flow');
});

t('VLAN access ports isolate; a trunk carries both VLANs', async () => {
  // h1: access VLAN 10, h2: access VLAN 20, h3: trunk (no tag). This kernel has no 8021q
  // module, so the trunk host speaks raw tagged frames and captures what it receives.
  await d.v('set', 'Port', h[0]!.port, 'tag=10', '--', 'set', 'Port', h[1]!.port, 'tag=20');
  for (const x of h) await ns(x, 'ip', 'neigh', 'flush', 'all');
  const h3cap = topo.capture(h[2]!);
  const h1cap = topo.capture(h[0]!, ['arp']);
  try {
    await Promise.all([h3cap.ready(), h1cap.ready()]);
    const tagged = (f: Uint8Array) => (f[12] === 0x81 && f[13] === 0x00 ? ((f[14]! << 8) | f[15]!) & 0xfff : -1);
    const srcMac = (f: Uint8Array) => Buffer.from(f.subarray(6, 12)).toString('hex');
    const hex = (mac: string) => mac.replace(/:/g, '');
    const seen = (what: string, cap: typeof h3cap, pred: (f: Uint8Array) => boolean) => waitFor(what, () => cap.frames().some(pred));
    // Broadcasts of both access VLANs reach the trunk tagged with their VLAN, and not the other
    // VLAN: h1's ARP requests were flooded (the trunk has them), yet h2 never answered.
    const replies = await topo.ping(h[0]!, h[1]!, 2, 0.2);
    await seen('the VLAN 10 broadcast on the trunk, tagged 10', h3cap, (f) => tagged(f) === 10 && srcMac(f) === hex(h[0]!.mac));
    assert.is(replies, 0, 'VLAN 10 and VLAN 20 are isolated');
    await topo.ping(h[1]!, h[0]!, 1, 0.2);
    await seen('the VLAN 20 broadcast on the trunk, tagged 20', h3cap, (f) => tagged(f) === 20 && srcMac(f) === hex(h[1]!.mac));
    // A tagged ARP request from the trunk on VLAN 20 does not reach h1; the same request on VLAN
    // 10, sent after it, reaches h1 (untagged) and h1's reply comes back tagged 10. The frames go
    // through the switch in the order sent, so once h1 has the VLAN 10 request, the VLAN 20 one
    // has been handled too, and what h1 got from the trunk is final.
    const trunkMac = h[2]!.macNum;
    for (const vid of [20, 10]) {
      topo.inject(h[2]!, [arp({ src: trunkMac, dst: 0xffffffffffff, vlan: { vid, pcp: 0 } }, 1, trunkMac, h[2]!.ipNum, 0, h[0]!.ipNum)]);
    }
    await seen("the trunk's VLAN 10 request at h1", h1cap, (f) => srcMac(f) === hex(h[2]!.mac));
    await seen("h1's ARP reply on the trunk, tagged 10", h3cap, (f) => tagged(f) === 10 && srcMac(f) === hex(h[0]!.mac) && f[25] === 2);
    const fromTrunk = (await h1cap.stop()).filter((f) => srcMac(f) === hex(h[2]!.mac));
    assert.is(fromTrunk.length, 1, 'only the VLAN 10 request reaches h1');
    assert.is(tagged(fromTrunk[0]!), -1, 'untagged on the access port');
  } finally {
    await Promise.all([h3cap.stop(), h1cap.stop()]);
  }
  await d.v('clear', 'Port', h[0]!.port, 'tag', '--', 'clear', 'Port', h[1]!.port, 'tag');
  for (const x of h) await ns(x, 'ip', 'neigh', 'flush', 'all');
  assert.is(await ping(h[0]!, h[1]!, 2, 0.2), 2, 'untagged again');
});

t('a MAC move is followed', async () => {
  // h1's address (IP and MAC) moves to h3.
  assert.is(await ping(h[1]!, h[0]!, 2, 0.1), 2);
  await ns(h[0]!, 'ip', 'link', 'set', 'eth0', 'down');
  await ns(h[2]!, 'ip', 'link', 'set', 'eth0', 'down');
  await ns(h[2]!, 'ip', 'link', 'set', 'eth0', 'address', h[0]!.mac);
  await ns(h[2]!, 'ip', 'addr', 'add', `${h[0]!.ip}/24`, 'dev', 'eth0');
  await ns(h[2]!, 'ip', 'link', 'set', 'eth0', 'up');
  // The moved host speaks first (as a migrated VM's gratuitous ARP would).
  await ns(h[2]!, 'ping', '-c', '1', '-W', '1', '-I', h[0]!.ip, h[1]!.ip);
  const fdb = await bus.request('appctl.fdb.show', { bridge: br });
  assert.is(fdb.entries.find((e) => e.mac === h[0]!.mac && e.vlan === 0)?.ofport, 3, 'MAC learned on its new port');
  assert.is(await ping(h[1]!, h[0]!, 3, 0.1), 3, 'traffic follows the move');
});

t('idle megaflows expire (Open_vSwitch other_config:max-idle)', async () => {
  await d.v('set', 'Open_vSwitch', '.', 'other_config:max-idle=1000');
  assert.is((await bus.request('appctl.upcall.show', {})).max_idle_ms, 1000);
  const flows = async () => (await bus.request('appctl.dpif.show', {})).datapaths[0]!.flows;
  // Not removed before they are idle: pings every 50 ms for 2.5 s (well past max-idle) keep
  // their megaflows in use, so one flow carries the whole run (a flow removed while in use would
  // split the count between it and its re-installed successor).
  const count = 50;
  assert.is(await ping(h[1]!, h[0]!, count, 0.05), count); // h1's address lives on h3 since the move
  assert.ok((await flows()) > 0, 'megaflows installed');
  const dp = Datapath.open(br);
  let most = 0n;
  try {
    for (const f of dp.dumpFlows()) if (f.stats.packets > most) most = f.stats.packets;
  } finally {
    dp.close();
  }
  assert.ok(most >= BigInt(count - 2), `one megaflow carried the run (${most} of ${count} packets)`);
  // Removed once idle: nothing flows now.
  await until('every idle megaflow to be removed', async () => (await flows()) === 0);
  await d.v('remove', 'Open_vSwitch', '.', 'other_config', 'max-idle');
  assert.is((await bus.request('appctl.upcall.show', {})).max_idle_ms, 10_000);
});

t('the flow limit is a counted, logged and visible condition (coverage/show), and traffic still flows', async () => {
  await d.v('set', 'Open_vSwitch', '.', 'other_config:flow-limit=1');
  await until('the limit applied', async () => (await bus.request('appctl.upcall.show', {})).flows.limit === 1);
  // Both directions and ARP need several megaflows: over the limit they are handled as
  // upcalls, not installed, so the pings are still answered (h1's address lives on h3 since
  // the move).
  assert.is(await ping(h[1]!, h[0]!, 3, 0.1), 3);
  const r = await run('bin/bvs', ['appctl', '--run-dir', d.runDir, 'coverage/show']);
  assert.is(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('upcall_flow_limit_hit '));
  assert.ok(line, r.stdout);
  assert.ok(Number(/total: (\d+)/.exec(line!)![1]) >= 1, line);
  await until('the warning in the log', () => d.log.includes('datapath reached the flow limit'));
  await d.v('remove', 'Open_vSwitch', '.', 'other_config', 'flow-limit');
  await until('the default limit back', async () => (await bus.request('appctl.upcall.show', {})).flows.limit > 1);
});

t.run();
