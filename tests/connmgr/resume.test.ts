/**
 * Continuations end to end: a flow pauses every packet from host 1 with controller(pause), and
 * the real `ovs-ofctl monitor BR resume` (OVS's own controller side of NXT_PACKET_IN2 and
 * NXT_RESUME: it sends every continuation back) resumes them; the packets reach host 2 only
 * through the resume. Without the monitor nothing passes; OVS's printer reads the continuation.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { ofctlAt } from './helpers.ts';
import { Peer } from './peers.ts';

const t = suite('connmgr-resume');
const topo = new Topology();
const br = `r${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];
let mon: Peer | undefined;
const { ok } = ofctlAt(() => d.runDir);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
  await ok('add-flow', br, 'table=0,priority=100,in_port=1,actions=controller(pause,userdata=01.02.03),resubmit(,1)');
  await ok('add-flow', br, 'table=1,priority=10,actions=output:2');
  await ok('add-flow', br, 'table=0,priority=100,in_port=2,actions=output:1');
});

t.after.each(async () => {
  await mon?.cleanup();
  mon = undefined;
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

const table1Packets = async (): Promise<number> =>
  Number(/n_packets=(\d+)/.exec(await ok('dump-flows', br, 'table=1'))?.[1] ?? -1);

t('without a controller to resume them, paused packets go nowhere', async () => {
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.2, 1), 0);
  assert.is(await table1Packets(), 0, 'nothing after the pause ran');
});

for (const v of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${v}: ovs-ofctl monitor resume sends each continuation back; the pings pass through table 1`, async () => {
    const before = await table1Packets();
    mon = new Peer('monitor').start('ovs-ofctl', ['-O', v, 'monitor', br, 'resume'], { OVS_RUNDIR: d.runDir });
    try {
      await until('a ping resumed by the monitor', async () => (await topo.ping(h[0]!, h[1]!, 1, 0.2, 1)) === 1, 20_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nmonitor:\n${mon.out.slice(-3000)}`);
    }
    assert.is(await topo.ping(h[0]!, h[1]!, 3, 0.2, 2), 3);
    assert.ok(await table1Packets() >= before + 4, 'every echo request went through table 1 after its resume');
    const out = mon.out;
    assert.match(out, /NXT_PACKET_IN2.*\n?.*userdata=01\.02\.03/);
    assert.match(out, /continuation\.actions=(unroll_xlate\(table=0, cookie=0\),)?resubmit\(,1\)/);
    assert.match(out, /send: NXT_RESUME/);
    assert.ok(!/decode error|OFPT_ERROR/.test(out), out.slice(-2000));
  });
}

t('once the monitor is gone, paused packets stop again', async () => {
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.2, 1), 0);
});

t.run();
