/**
 * Flow tables through the OpenFlow channel: the real ovs-ofctl adds, dumps, aggregates and
 * deletes flows on a bvs daemon's bridge over BR.mgmt, in OpenFlow 1.0, 1.3 and 1.5; the
 * tables are the ones `bvs ofctl` (NATS) sees, and a change takes effect on traffic at once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, run, until, type DaemonProc } from '../daemon/helpers.ts';

const t = suite('connmgr-flows');
const topo = new Topology();
const br = `b${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

/** dump-flows lines without the counters that change between dumps. */
const flowsOf = (out: string): string[] => out.split('\n').filter((l) => l.includes('actions='))
  .map((l) => l.replace(/ (duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,/g, '').trim());

async function bvsDump(): Promise<string> {
  const r = await run('bin/bvs', ['ofctl', '--run-dir', d.runDir, 'dump-flows', br]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

for (const v of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${v}: add-flow, dump-flows, dump-aggregate, del-flows --strict; bvs ofctl sees the same table`, async () => {
    await ok('-O', v, 'add-flow', br, 'priority=100,ip,nw_dst=10.9.9.9,actions=drop');
    await ok('-O', v, 'add-flow', br, 'table=0,priority=90,cookie=0x5,udp,tp_dst=53,actions=output:2');
    const dumped = flowsOf(await ok('-O', v, 'dump-flows', br));
    assert.ok(dumped.some((l) => /priority=100,ip,nw_dst=10\.9\.9\.9 actions=drop/.test(l)), dumped.join('\n'));
    assert.ok(dumped.some((l) => /cookie=0x5, .*priority=90,udp,tp_dst=53 actions=output:2/.test(l)), dumped.join('\n'));
    assert.ok(dumped.some((l) => /priority=0 actions=NORMAL/.test(l)), 'the default flow');
    const viaNats = await bvsDump();
    assert.match(viaNats, /priority=100,ip,nw_dst=10\.9\.9\.9 actions=drop/);
    assert.match(viaNats, /priority=90,udp,tp_dst=53 actions=output:2/);
    assert.match(await ok('-O', v, 'dump-aggregate', br), /flow_count=3/);
    await ok('-O', v, '--strict', 'del-flows', br, 'priority=100,ip,nw_dst=10.9.9.9');
    await ok('-O', v, 'del-flows', br, 'cookie=0x5/-1');
    const left = flowsOf(await ok('-O', v, 'dump-flows', br));
    assert.is(left.length, 1, left.join('\n'));
    assert.match(left[0]!, /^cookie=0x0, table=0, priority=0 actions=NORMAL$/);
  });
}

t('OpenFlow 1.3: goto_table and registers across tables; dump-flows table filter', async () => {
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'table=0,priority=50,arp,actions=load:0x7->NXM_NX_REG1[],goto_table:3');
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'table=3,priority=10,reg1=0x7,actions=NORMAL');
  const t3 = flowsOf(await ok('-O', 'OpenFlow13', 'dump-flows', br, 'table=3'));
  assert.is(t3.length, 1, t3.join('\n'));
  assert.match(t3[0]!, /table=3, .*priority=10,reg1=0x7 actions=NORMAL/);
  // ARP goes through both tables and still resolves: the ping works.
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2);
  await ok('-O', 'OpenFlow13', 'del-flows', br, 'table=3');
  await ok('-O', 'OpenFlow13', 'del-flows', br, 'arp');
});

t('a drop added over OpenFlow stops traffic at once; deleting it restores it', async () => {
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2);
  await ok('add-flow', br, `priority=200,ip,nw_dst=${h[1]!.ip},actions=drop`);
  // The datapath follows within a revalidation pass (a few ms); the proof that the drop rule
  // saw the pings is its own counter.
  await until('pings dropped', async () => (await topo.ping(h[0]!, h[1]!, 2, 0.2)) === 0);
  await until('the drop rule to count the pings', async () =>
    (await ok('dump-flows', br, 'ip')).split('\n').some((l) => l.includes('priority=200') && /n_packets=[1-9]/.test(l)));
  await ok('--strict', 'del-flows', br, `priority=200,ip,nw_dst=${h[1]!.ip}`);
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2, 'forwarding again');
});

t('a flow bvs cannot run yet is refused with an OpenFlow error naming why; nothing is added', async () => {
  const r = await ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=300,ip,actions=ct(commit)');
  assert.is.not(r.code, 0);
  assert.match(r.err, /OFPT_ERROR .*OFPBAC_BAD_(VENDOR_)?TYPE/, r.err);
  assert.not.match(await ok('dump-flows', br), /priority=300/);
  assert.match(await ok('show', br), /OFPT_FEATURES_REPLY/, 'still serving');
});

t('flows added through bvs ofctl (NATS) are dumped by ovs-ofctl', async () => {
  const r = await run('bin/bvs', ['ofctl', '--run-dir', d.runDir, 'add-flow', br, 'priority=77,icmp,actions=NORMAL']);
  assert.is(r.code, 0, r.stderr);
  assert.match(await ok('-O', 'OpenFlow15', 'dump-flows', br), /priority=77,icmp actions=NORMAL/);
  await ok('del-flows', br, 'icmp');
});

t.run();
