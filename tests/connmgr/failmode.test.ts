/**
 * Fail modes with a real controller (ovs-testcontroller) killed and restarted, as OVS defines
 * them: standalone fails open (NORMAL forwarding, from a hidden flow) once no controller has
 * been connected for three inactivity probes, and leaves fail-open when one connects again;
 * secure keeps the controller's flows and forwards nothing new on its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { ofctlAt } from './helpers.ts';
import { testController, type Peer } from './peers.ts';

const t = suite('connmgr-failmode');
const topo = new Topology();
const br = `f${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];
let ctl: Peer | undefined;
/** Every controller process started (a restart makes a new one): all cleaned up. */
const started: Peer[] = [];
const { ok } = ofctlAt(() => d.runDir);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 3));
});

t.after.each(async () => {
  for (const p of started.splice(0)) await p.cleanup();
  ctl = undefined;
  await d.v('del-controller', br);
  await d.v('del-fail-mode', br);
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

async function startController(sock: string): Promise<void> {
  ctl = testController(`punix:${sock}`, 'OpenFlow13');
  started.push(ctl);
  await until(`ovs-testcontroller to listen on ${sock}`, () => {
    if (!ctl!.running) throw new Error(`ovs-testcontroller exited: ${ctl!.out}`);
    return fs.existsSync(sock);
  });
}

const connected = async (): Promise<string> => d.v('--bare', '--columns=is_connected', 'list', 'Controller');
const pings = (a: Host, b: Host, waitS = 1): Promise<number> => topo.ping(a, b, 1, 0.2, waitS);

/** A controller with a one-second inactivity probe (fail-open after three seconds). */
async function setController(sock: string): Promise<void> {
  await d.v('--', '--id=@c', 'create', 'Controller', `target="unix:${sock}"`, 'inactivity_probe=1000', '--', 'set', 'Bridge', br, 'controller=@c');
  await until('Controller.is_connected', async () => (await connected()) === 'true');
}

t('standalone: the controller dies, the bridge fails open (NORMAL); it comes back, fail-open ends', async () => {
  const sock = path.join(d.dir, 'fm-standalone.sock');
  await startController(sock);
  await setController(sock);
  await until('a ping through the controller', async () => (await pings(h[0]!, h[1]!)) === 1, 30_000);
  const mark = d.log.length;
  await ctl!.stop();
  await until('Controller.is_connected false', async () => (await connected()) === 'false');
  // Fail-open flushes the controller's flows and forwards with a hidden NORMAL flow.
  await until('a ping between hosts the controller never saw, by fail-open NORMAL', async () => (await pings(h[0]!, h[2]!)) === 1, 30_000);
  assert.ok(d.log.slice(mark).includes('failing open'), 'the daemon logged that it fails open');
  const flows = await ok('-O', 'OpenFlow13', 'dump-flows', br);
  assert.not.match(flows, /priority=/, `the fail-open flow is hidden: ${flows}`);
  await startController(sock);
  await until('Controller.is_connected again', async () => (await connected()) === 'true');
  await until('fail-open ended', () => d.log.slice(mark).includes('No longer in fail-open mode'));
  await until("the controller's table-miss flow is back", async () => /actions=CONTROLLER/.test(await ok('-O', 'OpenFlow13', 'dump-flows', br)));
});

t('secure: the controller dies, its flows stay and nothing new is forwarded', async () => {
  await d.v('set-fail-mode', br, 'secure');
  const sock = path.join(d.dir, 'fm-secure.sock');
  await startController(sock);
  await setController(sock);
  const learned = async (): Promise<number> => (await ok('-O', 'OpenFlow13', 'dump-flows', br)).split('\n').filter((l) => l.includes('idle_timeout=60')).length;
  // Pings until the controller has installed flows both ways.
  const before = await until('flows both ways', async () => (await pings(h[0]!, h[1]!)) === 1 && (await learned()) >= 2 && learned(), 30_000);
  const mark = d.log.length;
  await ctl!.stop();
  await until('Controller.is_connected false', async () => (await connected()) === 'false');
  // The positive signal: three reconnect attempts, i.e. past standalone's fail-open time.
  await until('three reconnect attempts', () => d.log.slice(mark).split('seconds before reconnect').length > 3, 30_000);
  assert.not.ok(d.log.slice(mark).includes('failing open'));
  assert.is(await pings(h[0]!, h[1]!, 2), 1, 'the learned flows still forward');
  assert.is(await pings(h[0]!, h[2]!, 2), 0, 'a new destination is not flooded');
  const after = await learned();
  assert.ok(after >= before, `flows kept: ${before} before, ${after} after`);
});

t('no controller: standalone has the NORMAL flow, secure starts empty', async () => {
  assert.match(await ok('dump-flows', br), /priority=0 actions=NORMAL/);
  await d.v('set-fail-mode', br, 'secure');
  await until('the NORMAL flow gone', async () => !/actions=NORMAL/.test(await ok('dump-flows', br)));
  await d.v('del-fail-mode', br);
  await until('the NORMAL flow back', async () => /priority=0 actions=NORMAL/.test(await ok('dump-flows', br)));
});

t.run();
