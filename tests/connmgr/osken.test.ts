/**
 * os-ken (python3-os-ken) applications as the bridge's controllers, over TCP:
 * - a learning switch of ours (os-ken 2.5 ships no simple_switch_13): hosts ping through it;
 * - an exerciser: role request, a flow with send_flow_rem that expires (flow-removed), a
 *   packet-out the host receives, a group and a meter, packet-ins, port-status when a port is added;
 * - two controllers with roles: the master's generation id wins, a slave cannot change the
 *   switch (OFPBRC_IS_SLAVE), and Controller.role in OVSDB shows both.
 * Each app appends what it sees to a JSON-lines file the test reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Capture, REPO, Topology, type Host } from '../helpers/netns.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { ofctlAt } from './helpers.ts';
import { freePort, listeningOn, osKen, type Peer } from './peers.ts';

const t = suite('connmgr-osken');
const topo = new Topology();
const br = `k${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];
const peers: Peer[] = [];
const { ok } = ofctlAt(() => d.runDir);
const APPS = path.join(REPO, 'tests/connmgr/osken');

interface Ev { event: string; [k: string]: unknown }

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after.each(async () => {
  for (const p of peers.splice(0)) await p.cleanup();
  await d.v('del-controller', br);
});

t.after(async () => {
  for (const p of peers.splice(0)) await p.cleanup();
  await d?.cleanup();
  topo.destroy();
});

/** Starts an app on a free port; returns it, its target and a reader of its events. */
async function app(file: string, env: Record<string, string> = {}): Promise<{ p: Peer; target: string; events: () => Ev[] }> {
  const port = await freePort();
  const p = osKen(path.join(APPS, file), port, env);
  peers.push(p);
  const events = (): Ev[] => {
    try {
      return fs.readFileSync(p.events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
    } catch {
      return [];
    }
  };
  await until(`os-ken ${file} to listen on ${port}`, () => {
    if (!p.running) throw new Error(`osken-manager exited: ${p.out}`);
    return listeningOn(port);
  }, 60_000);
  return { p, target: `tcp:127.0.0.1:${port}`, events };
}

const controllerRows = async (): Promise<string> => (await d.v('--format=csv', '--columns=target,is_connected,role', 'list', 'Controller')).replace(/"/g, '');

t('a learning switch app: hosts ping through it; packet-ins carry the in_port; its flows are installed', async () => {
  const a = await app('learning_switch.py');
  await d.v('set-controller', br, a.target);
  await until('features from the switch', () => a.events().some((e) => e.event === 'features'), 60_000);
  await until('a ping through os-ken', async () => (await topo.ping(h[0]!, h[1]!, 1, 0.2, 1)) === 1, 30_000);
  const pins = a.events().filter((e) => e.event === 'packet_in');
  assert.ok(pins.some((e) => e.in_port === 1) && pins.some((e) => e.in_port === 2), JSON.stringify(pins));
  assert.ok(pins.every((e) => e.reason === 0), 'table-miss flow packet-ins are no_match in 1.3');
  assert.match(await ok('-O', 'OpenFlow13', 'dump-flows', br), /idle_timeout=60, priority=1,in_port=/);
});

t('an exerciser app: role, flow-removed, packet-out, packet-in, port-status', async () => {
  const a = await app('exerciser.py', { OSKEN_ROLE: 'master', OSKEN_GEN: '1', OSKEN_OUT_PORT: '1' });
  const cap = new Capture(h[0]!.ns, ['ether', 'proto', '0x88b5']);
  await cap.ready();
  try {
    await d.v('set-controller', br, a.target);
    await until('the role reply', () => a.events().find((e) => e.event === 'role_reply'), 60_000);
    assert.equal(a.events().find((e) => e.event === 'role_reply'), { event: 'role_reply', role: 2, generation_id: 1 });
    await until('Controller.role master in OVSDB', async () => /,true,master/.test(await controllerRows()));
    // The group-mod went through: group desc lists group 7.
    assert.equal(await until('group desc', () => a.events().find((e) => e.event === 'group_desc')), { event: 'group_desc', groups: [7] });
    // The meter-mod went through: meter config lists meter 5.
    assert.equal(await until('meter config', () => a.events().find((e) => e.event === 'meter_config')), { event: 'meter_config', meters: [5] });
    await until('the packet-out frame at host 1', () => cap.frames().some((f) => Buffer.from(f).includes('bvs-packet-out')));
    const removed = await until('flow-removed of the hard_timeout=1 flow', () => a.events().find((e) => e.event === 'flow_removed'), 30_000);
    assert.equal(removed, { event: 'flow_removed', cookie: 0x42, reason: 1, priority: 10, hard_timeout: 1 });
    await topo.ping(h[0]!, h[1]!, 1, 0.2, 1);
    const pin = await until('a packet-in from host 1', () => a.events().find((e) => e.event === 'packet_in' && e.in_port === 1));
    assert.is(pin.buffer_id, 0xffffffff, 'bvs never buffers');
    const extra = topo.addHost(3);
    await d.v('add-port', br, extra.port);
    const ps = await until('port-status for the new port', () => a.events().find((e) => e.event === 'port_status' && e.name === extra.port && e.reason === 0));
    assert.ok(Number(ps.port_no) > 0);
    await d.v('del-port', br, extra.port);
    await until('port-status delete', () => a.events().some((e) => e.event === 'port_status' && e.name === extra.port && e.reason === 1));
  } finally {
    await cap.stop();
  }
});

t('two controllers with roles: a slave cannot change the switch; a newer master demotes the old', async () => {
  const m = await app('exerciser.py', { OSKEN_ROLE: 'master', OSKEN_GEN: '5' });
  const s = await app('exerciser.py', { OSKEN_ROLE: 'slave', OSKEN_GEN: '5' });
  await d.v('set-controller', br, m.target, s.target);
  await until('both role replies', () => m.events().some((e) => e.event === 'role_reply') && s.events().some((e) => e.event === 'role_reply'), 60_000);
  // The slave's flow-mods, packet-out, group-mod and meter-mod all come back as OFPBRC_IS_SLAVE (1, 10).
  await until("the slave's barrier reply (after its refused changes)", () => s.events().some((e) => e.event === 'barrier_reply'));
  const isSlave = s.events().filter((e) => e.event === 'error' && e.type === 1 && e.code === 10);
  assert.is(isSlave.length, 5, `two flow-mods, a packet-out, a group-mod, a meter-mod: ${JSON.stringify(s.events())}`);
  await until('roles in OVSDB', async () => {
    const rows = await controllerRows();
    return rows.includes(`${m.target},true,master`) && rows.includes(`${s.target},true,slave`);
  });
  // A third controller becomes master with a newer generation: the first is demoted.
  const n = await app('exerciser.py', { OSKEN_ROLE: 'master', OSKEN_GEN: '6' });
  await d.v('set-controller', br, m.target, s.target, n.target);
  await until('the new master', () => n.events().find((e) => e.event === 'role_reply'), 60_000);
  await until('the old master demoted in OVSDB', async () => (await controllerRows()).includes(`${m.target},true,slave`));
});

t.run();
