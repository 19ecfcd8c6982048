/**
 * Nicira actions and register views end to end: the real ovs-ofctl adds flows that use them
 * to a bvs daemon's bridge over BR.mgmt in OpenFlow 1.0, 1.3 and 1.5, and its dump-flows shows
 * each flow back as ovs-ofctl itself prints that flow (its parse-flow, same version); bvs
 * ofctl (NATS) sees them too. Traffic still flows through a table that clones and notes.
 */
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, run, type DaemonProc } from '../daemon/helpers.ts';

const t = suite('connmgr-nx-flows');
const topo = new Topology();
const br = `n${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { ok } = ofctlAt(() => d.runDir);

/** Table 1 only: each flow has its own priority, by which its dump line is found. */
const FLOWS = [
  'table=1,priority=101,reg9=5,actions=load:1->NXM_NX_REG9[],note:01.02,clone(output:1),multipath(eth_src,50,modulo_n,2,0,NXM_NX_REG10[0..1])',
  'table=1,priority=102,xxreg1=0x10,reg15=0x3/0xf,actions=push:NXM_NX_REG0[],pop:NXM_NX_REG13[0..15],output:NXM_NX_REG12[0..15]',
  'table=1,priority=103,ip,actions=controller(userdata=01.02.03,pause),dec_ttl(1,2),set_field:0x5/0xf->xreg6',
  'table=1,priority=104,actions=bundle_load(symmetric_l4,5,active_backup,ofport,NXM_NX_REG11[],members:1,2),learn(table=2,idle_timeout=9,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])',
  'table=1,priority=105,actions=conjunction(7,1/2)',
  'table=1,priority=106,actions=enqueue:1:2,bundle(eth_src,0,hrw,ofport,members:1,2),write_metadata:0x5/0xff',
  'table=1,priority=107,conj_id=7,actions=output(port=2,max_len=100),resubmit(,2)',
];

/** What ovs-ofctl prints for `text` after encoding it itself: match and actions, after "ADD ". */
function ofctlText(v: string, text: string): string {
  const r = spawnSync('ovs-ofctl', ['-O', v, 'parse-flow', text], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const line = r.stdout.trim().split('\n').pop()!;
  return line.slice(line.indexOf(' ADD ') + 5).replace(/^table:\d+ /, '').trim();
}

/** A dump-flows line reduced to its match and actions. */
const flowText = (line: string): string => line.replace(/^.* table=\d+, n_packets=\d+, n_bytes=\d+, (idle_timeout=\d+, )?(idle_age=\d+, )?/, '').trim();

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

for (const v of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${v}: ovs-ofctl add-flow of NX actions, dump-flows shows them as ovs-ofctl prints them`, async () => {
    for (const f of FLOWS) await ok('-O', v, 'add-flow', br, f);
    const dumped = (await ok('-O', v, 'dump-flows', br, 'table=1')).split('\n').filter((l) => l.includes('actions='));
    assert.is(dumped.length, FLOWS.length, dumped.join('\n'));
    for (const f of FLOWS) {
      const prio = /priority=(\d+)/.exec(f)![1]!;
      const line = dumped.find((l) => l.includes(`priority=${prio},`) || l.includes(`priority=${prio} `));
      assert.ok(line, `no dump line for ${f}:\n${dumped.join('\n')}`);
      assert.is(flowText(line), ofctlText(v, f), `${f} (${v})`);
    }
    const viaNats = await run('bin/bvs', ['ofctl', '--run-dir', d.runDir, 'dump-flows', br]);
    assert.is(viaNats.code, 0, viaNats.stderr);
    assert.match(viaNats.stdout, /note:01\.02\.00\.00\.00\.00,clone\(output:1\)/);
    await ok('-O', v, 'del-flows', br, 'table=1');
    assert.not.match(await ok('-O', v, 'dump-flows', br), /table=1,/);
  });
}

t('a flow that notes and clones its output still forwards: ping through it', async () => {
  await ok('-O', 'OpenFlow13', 'add-flow', br, `priority=300,in_port=1,actions=note:aa.bb,load:7->NXM_NX_REG9[],clone(output:2)`);
  await ok('-O', 'OpenFlow13', 'add-flow', br, `priority=300,in_port=2,actions=note:cc,clone(output:1)`);
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2);
  await ok('-O', 'OpenFlow13', 'del-flows', br, 'in_port=1');
  await ok('-O', 'OpenFlow13', 'del-flows', br, 'in_port=2');
});

t.run();
