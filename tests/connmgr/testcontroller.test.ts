/**
 * ovs-testcontroller (OVS's learning-switch controller) drives a bvs bridge: the bridge
 * connects to it (Controller table, set by the real ovs-vsctl), the controller learns from
 * packet-ins, answers with packet-outs and installs flows, and hosts ping through it. In
 * OpenFlow 1.0 the misses reach it as table-miss packet-ins; in 1.3 and 1.5 through the
 * table-miss flow it installs. Controller.is_connected and role are written back to OVSDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { ofctlAt } from './helpers.ts';
import { testController, type Peer } from './peers.ts';

const t = suite('connmgr-testcontroller');
const topo = new Topology();
const br = `c${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];
let ctl: Peer | undefined;
const { ok } = ofctlAt(() => d.runDir);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after.each(async () => {
  await ctl?.cleanup();
  ctl = undefined;
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

async function controllerColumn(col: string): Promise<string> {
  return d.v('--bare', `--columns=${col}`, 'list', 'Controller');
}

for (const versions of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${versions}: hosts ping through ovs-testcontroller; its flows are in the table`, async () => {
    const sock = path.join(d.dir, `tc-${versions}.sock`);
    ctl = testController(`punix:${sock}`, versions);
    await listening(ctl, sock);
    await d.v('set-controller', br, `unix:${sock}`);
    await until('Controller.is_connected', async () => (await controllerColumn('is_connected')) === 'true');
    assert.is(await controllerColumn('role'), 'other');
    // The first pings may be lost while the controller learns; then they pass.
    try {
      await until('a ping through the controller', async () => (await topo.ping(h[0]!, h[1]!, 1, 0.2, 1)) === 1, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nflows:\n${await ok('-O', 'OpenFlow13', 'dump-flows', br)}\ncontroller:\n${ctl.out.slice(-3000)}`);
    }
    assert.is(await topo.ping(h[0]!, h[1]!, 3, 0.2, 2), 3);
    const flows = await ok('-O', 'OpenFlow13', 'dump-flows', br);
    assert.match(flows, /idle_timeout=60/, `the controller's learned flows: ${flows}`);
    await d.v('del-controller', br);
    await until('the default NORMAL flow back once the controller is gone', async () =>
      /priority=0 actions=NORMAL/.test(await ok('dump-flows', br)));
  });
}

/** Waits for a peer's unix socket to appear; fails at once if the peer exits. */
async function listening(p: Peer, sock: string): Promise<void> {
  await until(`${p.name} to listen on ${sock}`, () => {
    if (!p.running) throw new Error(`${p.name} exited: ${p.out}`);
    return fs.existsSync(sock);
  });
}

t.run();
