/**
 * More of ovs-ofctl's bridge commands against a bvs bridge over BR.mgmt: add-flows from a
 * file, mod-flows, replace-flows and diff-flows (each in OpenFlow 1.0, 1.3 and 1.5),
 * packet-out (the host receives the frame), and the bridge's OpenFlow settings from OVSDB:
 * Bridge.protocols limits the versions, other_config:datapath-id sets the datapath id, which
 * Bridge.datapath_id reports.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Capture, Topology, type Host } from '../helpers/netns.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { ofctlAt } from './helpers.ts';

const t = suite('connmgr-commands');
const topo = new Topology();
const br = `o${topo.tag}`;
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

const flowsOf = (out: string): string[] => out.split('\n').filter((l) => l.includes('actions='))
  .map((l) => l.replace(/ (duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,/g, '').trim()).sort();

for (const v of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${v}: add-flows from a file, mod-flows, replace-flows, diff-flows`, async () => {
    const file = path.join(d.dir, `flows-${v}.txt`);
    fs.writeFileSync(file, [
      'priority=10,ip,nw_dst=10.1.0.1,actions=output:1',
      'priority=10,ip,nw_dst=10.1.0.2,actions=output:2',
      'priority=0,actions=NORMAL',
    ].join('\n'));
    await ok('-O', v, 'del-flows', br);
    await ok('-O', v, 'add-flows', br, file);
    assert.is(flowsOf(await ok('-O', v, 'dump-flows', br)).length, 3);
    await ok('-O', v, 'mod-flows', br, 'ip,nw_dst=10.1.0.2,actions=drop');
    assert.ok(flowsOf(await ok('-O', v, 'dump-flows', br)).some((l) => /nw_dst=10\.1\.0\.2 actions=drop/.test(l)));
    // diff-flows against the file: one flow differs (the modified one).
    const diff = await ofctl('-O', v, 'diff-flows', br, file);
    assert.match(diff.out, /^-.*nw_dst=10\.1\.0\.2 actions=drop/m, diff.out);
    assert.match(diff.out, /^\+.*nw_dst=10\.1\.0\.2 actions=output:2/m, diff.out);
    // replace-flows makes the table equal to the file; diff-flows then prints nothing.
    await ok('-O', v, 'replace-flows', br, file);
    const again = await ofctl('-O', v, 'diff-flows', br, file);
    assert.is(again.code, 0, again.err);
    assert.is(again.out.trim(), '', again.out);
  });
}

t('packet-out: ovs-ofctl sends a frame out of port 1, the host receives it', async () => {
  const cap = new Capture(h[0]!.ns, ['ether', 'proto', '0x88b5']);
  await cap.ready();
  try {
    const frame = `ffffffffffff020000000099${'88b5'}${Buffer.from('ofctl-packet-out').toString('hex')}${'00'.repeat(30)}`;
    await ok('-O', 'OpenFlow13', 'packet-out', br, 'CONTROLLER', 'output:1', frame);
    await until('the frame at host 1', () => cap.frames().some((f) => Buffer.from(f).includes('ofctl-packet-out')));
  } finally {
    await cap.stop();
  }
});

t('dump-tables: lookups and matches of table 0 are counted from the datapath', async () => {
  const counts = async (): Promise<{ lookup: number; matched: number }> => {
    const m = /table 0:\s+active=\d+, lookup=(\d+), matched=(\d+)/.exec(await ok('-O', 'OpenFlow13', 'dump-tables', br));
    return { lookup: Number(m?.[1] ?? 0), matched: Number(m?.[2] ?? 0) };
  };
  const before = await counts();
  assert.is(await topo.ping(h[0]!, h[1]!, 5, 0.1, 2), 5);
  // Ten echo packets (and maybe ARP) went through table 0; the revalidator credits them.
  const after = await until('table 0 counters', async () => { const c = await counts(); return c.lookup >= before.lookup + 10 && c; });
  assert.ok(after.matched >= before.matched + 10, JSON.stringify({ before, after }));
});

t('ovs-ofctl monitor BR 65534 shows packet-ins (NXT_PACKET_IN2) from a controller flow', async () => {
  const mon = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'monitor', br, '65534'], { env: { ...process.env, OVS_RUNDIR: d.runDir } });
  let out = '';
  mon.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  mon.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  try {
    await ok('-O', 'OpenFlow13', 'add-flow', br, 'priority=300,icmp,actions=controller');
    // monitor connects, sets miss_send_len and the packet-in format; pings until one shows.
    await until('a packet-in in the monitor', async () => {
      await topo.ping(h[0]!, h[1]!, 1, 0.2, 1);
      return /NXT_PACKET_IN2[^\n]*\n[^\n]*icmp/.test(out);
    });
    assert.match(out, /NXT_PACKET_IN2 \(OF1\.3\).*total_len=98 in_port=1 \(via action\)/, out);
  } finally {
    mon.kill('SIGKILL');
    await ok('-O', 'OpenFlow13', '--strict', 'del-flows', br, 'priority=300,icmp');
  }
});

t('Bridge.protocols limits the versions ovs-ofctl can use', async () => {
  await d.v('set', 'Bridge', br, 'protocols=OpenFlow13');
  await until('OpenFlow 1.0 refused', async () => (await ofctl('-O', 'OpenFlow10', 'show', br)).code !== 0);
  const r = await ofctl('-O', 'OpenFlow10', 'show', br);
  assert.match(r.err, /version negotiation failed|Connection reset|Broken pipe|protocol/i, r.err);
  assert.match(await ok('-O', 'OpenFlow13', 'show', br), /OFPT_FEATURES_REPLY \(OF1\.3\)/);
  await d.v('clear', 'Bridge', br, 'protocols');
  await until('OpenFlow 1.0 back', async () => (await ofctl('-O', 'OpenFlow10', 'show', br)).code === 0);
});

t('other_config:datapath-id sets the datapath id; Bridge.datapath_id reports it', async () => {
  const before = await d.v('get', 'Bridge', br, 'datapath_id');
  assert.match(before, /^"[0-9a-f]{16}"$/);
  await d.v('set', 'Bridge', br, 'other-config:datapath-id=0000000000000abc');
  await until('show with the new dpid', async () => /dpid:0000000000000abc/.test(await ok('show', br)));
  await until('Bridge.datapath_id', async () => (await d.v('get', 'Bridge', br, 'datapath_id')) === '"0000000000000abc"');
  await d.v('remove', 'Bridge', br, 'other-config', 'datapath-id');
  await until('the derived dpid back', async () => (await d.v('get', 'Bridge', br, 'datapath_id')) === before);
});

t.run();
