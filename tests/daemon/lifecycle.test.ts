/**
 * bvs daemon end to end, configuration side: start (run dir, OVSDB, own nats-server), the real
 * ovs-vsctl with and without --no-wait (add-br/add-port/del-port/del-br applied to the real
 * kernel datapath), missing interfaces retried, and a clean SIGTERM stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath } from '../../src/datapath/index.ts';
import { removePins } from '../../src/datapath/datapath.ts';
import { hiddenName } from '../../src/netdev/index.ts';
import { startNatsServer } from '../../src/bus/index.ts';
import { run, uniqueTag } from './util.ts';
import { DaemonProc, natsServersOf, until } from './helpers.ts';

const t = suite('daemon-lifecycle');
const tag = uniqueTag();
const pinDir = `/sys/fs/bpf/bvs-test-${tag}`;
const br = `b${tag}`;
const veths = [`v${tag}a`, `v${tag}b`, `v${tag}c`];
let d: DaemonProc;

function dpExists(name: string): boolean {
  return fs.existsSync(path.join(pinDir, name, 'flows'));
}

async function iface(name: string, col: string): Promise<string> {
  return d.v('get', 'Interface', name, col);
}

t.before(async () => {
  process.env.BVS_PIN_DIR = pinDir;
  d = new DaemonProc(pinDir);
  await d.start();
});

t.after(async () => {
  await d?.cleanup();
  for (const v of [...veths, br, `i${tag}`]) await run('ip', ['link', 'del', v]);
  removePins(pinDir);
});

t('start: run dir 0700, db.sock 0600, bvs.pid, nats.url, one Open_vSwitch row, ping over NATS', async () => {
  assert.is(fs.statSync(d.runDir).mode & 0o777, 0o700);
  assert.is(fs.statSync(d.sock).mode & 0o777, 0o600);
  assert.is(Number(fs.readFileSync(path.join(d.runDir, 'bvs.pid'), 'utf8')), d.proc!.pid);
  assert.match(fs.readFileSync(path.join(d.runDir, 'nats.url'), 'utf8'), /^nats:\/\/127\.0\.0\.1:\d+/);
  assert.is(natsServersOf(d.runDir).length, 1);
  assert.is((await d.v('--bare', '--columns=_uuid', 'list', 'Open_vSwitch')).split('\n').length, 1);
  const bus = await d.bus();
  try {
    const pong = await bus.request('daemon.ping', {});
    assert.is(pong.pid, d.proc!.pid);
  } finally {
    await bus.close();
  }
});

t('a second daemon on the same run dir refuses to start and touches nothing', async () => {
  const r = await run('bin/bvs', ['daemon', '--run-dir', d.runDir, '--db', d.dbPath, '--pin-dir', pinDir]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /is in use by bvs daemon pid \d+/);
  assert.is(Number(fs.readFileSync(path.join(d.runDir, 'bvs.pid'), 'utf8')), d.proc!.pid);
  assert.is((await d.vsctl(['show'])).code, 0, 'the first one still serves');
});

t('add-br waits until the datapath and the internal port exist, with the default NORMAL flow', async () => {
  await d.v('add-br', br);
  assert.ok(dpExists(br), 'datapath pinned');
  assert.is(await iface(br, 'ofport'), '65534');
  assert.ok(fs.existsSync(`/sys/class/net/${br}`), 'internal device exists');
  assert.is(await d.v('get', 'Open_vSwitch', '.', 'cur_cfg'), await d.v('get', 'Open_vSwitch', '.', 'next_cfg'));
  const dp = Datapath.open(br);
  try {
    assert.equal(dp.listPorts().map((p) => [p.portNo, p.name]), [[65534, hiddenName(br)]]);
  } finally {
    dp.close();
  }
  const bus = await d.bus();
  try {
    const flows = await bus.request('ofctl.dump-flows', { bridge: br });
    assert.equal(flows.flows.map((f) => [f.priority, f.actions]), [[0, 'NORMAL']]);
  } finally {
    await bus.close();
  }
});

t('add-port attaches (ofport written before ovs-vsctl returns); --no-wait applies soon after', async () => {
  for (const v of veths.slice(0, 2)) await run('ip', ['link', 'add', v, 'type', 'veth', 'peer', 'name', `${v}p`]);
  await d.v('add-port', br, veths[0]!, 'tag=10');
  assert.is(await iface(veths[0]!, 'ofport'), '1');
  assert.is(await iface(veths[0]!, 'error'), '[]');
  await d.v('--no-wait', 'add-port', br, veths[1]!, '--', 'set', 'Interface', veths[1]!, 'ofport_request=7');
  await until('the --no-wait port to be attached', async () => (await iface(veths[1]!, 'ofport')) === '7');
  const dp = Datapath.open(br);
  try {
    assert.equal(dp.listPorts().map((p) => p.portNo), [1, 7, 65534]);
  } finally {
    dp.close();
  }
  // A new ofport_request moves the port (detach, attach under the new number).
  await d.v('set', 'Interface', veths[1]!, 'ofport_request=9');
  assert.is(await iface(veths[1]!, 'ofport'), '9');
  const dp2 = Datapath.open(br);
  try {
    assert.equal(dp2.listPorts().map((p) => p.portNo), [1, 9, 65534]);
  } finally {
    dp2.close();
  }
});

t('a missing interface gets an error and is retried until it appears', async () => {
  const r = await d.vsctl(['add-port', br, veths[2]!]);
  assert.match(r.stderr, /Error detected while setting up .*could not open network device .* \(No such device\)/);
  assert.is(await iface(veths[2]!, 'ofport'), '-1');
  const bus = await d.bus();
  try {
    const health = await bus.request('daemon.health', {});
    assert.is(health.status, 'degraded');
    assert.match(health.components.find((c) => c.name === `port:${br}/${veths[2]}`)?.detail ?? '', /No such device/);
  } finally {
    await bus.close();
  }
  await run('ip', ['link', 'add', veths[2]!, 'type', 'veth', 'peer', 'name', `${veths[2]}p`]);
  await until('the retried port to attach', async () => (await iface(veths[2]!, 'ofport')) === '2');
  assert.is(await iface(veths[2]!, 'error'), '[]');
});

t('del-port detaches; del-br destroys the datapath and the internal device', async () => {
  await d.v('del-port', br, veths[0]!);
  assert.not.ok(fs.existsSync(path.join(pinDir, br, 'link_1')), 'link pin removed');
  await d.v('del-br', br);
  assert.not.ok(dpExists(br), 'datapath destroyed');
  assert.not.ok(fs.existsSync(`/sys/class/net/${br}`), 'internal device removed');
  assert.is(await d.v('list-br'), '');
});

t('vsctl commands over NATS go through OVSDB and wait for cur_cfg; errors name the field', async () => {
  const bus = await d.bus();
  try {
    const r = await bus.request('vsctl.add-br', { bridge: br });
    assert.ok(r.changed && r.applied, 'applied before the reply');
    assert.ok(dpExists(br));
    assert.is(await iface(br, 'ofport'), '65534');
    const again = await bus.request('vsctl.add-br', { bridge: br, may_exist: true });
    assert.is(again.changed, false);
    await bus.request('vsctl.add-br', { bridge: br }).then(() => assert.unreachable(), (e: { code: string; field?: string }) => {
      assert.is(e.code, 'conflict');
      assert.is(e.field, 'bridge');
    });
    await bus.request('vsctl.add-port', { bridge: br, port: veths[1]!, tag: 5 });
    assert.is(await d.v('get', 'Port', veths[1]!, 'tag'), '5');
    assert.is(await iface(veths[1]!, 'ofport'), '1');
    await bus.request('vsctl.add-port', { bridge: 'nosuch', port: 'x' }).then(() => assert.unreachable(), (e: { code: string; field?: string }) => {
      assert.is(e.code, 'not_found');
      assert.is(e.field, 'bridge');
    });
    // An extra internal port: the daemon makes the device, and deletes it with the port.
    const ip = `i${tag}`;
    await bus.request('vsctl.add-port', { bridge: br, port: ip, type: 'internal' });
    assert.ok(fs.existsSync(`/sys/class/net/${ip}`), 'internal device created');
    assert.is(await iface(ip, 'ofport'), '2');
    assert.match(await iface(ip, 'mac_in_use'), /^"?[0-9a-f]{2}(:[0-9a-f]{2}){5}"?$/);
    await bus.request('vsctl.del-port', { port: ip });
    assert.not.ok(fs.existsSync(`/sys/class/net/${ip}`), 'internal device removed');
    const nw = await bus.request('vsctl.del-port', { port: veths[1]!, no_wait: true });
    assert.is(nw.applied, false);
    await bus.request('vsctl.del-br', { bridge: br });
    assert.not.ok(dpExists(br));
  } finally {
    await bus.close();
  }
});

t('SIGTERM: exits 0, removes bvs.pid and nats.url, stops its nats-server', async () => {
  await d.v('add-br', br);
  assert.is(await d.stop(), 0);
  assert.not.ok(fs.existsSync(path.join(d.runDir, 'bvs.pid')));
  assert.not.ok(fs.existsSync(path.join(d.runDir, 'nats.url')));
  assert.is(natsServersOf(d.runDir).length, 0);
  assert.ok(dpExists(br), 'the datapath stays pinned');
  // The next start adopts it and does not re-create the internal port.
  await d.start();
  // The bridges are set up after "daemon started": wait for the port, which follows its datapath.
  await until('the internal port to be adopted', () => /"port adopted"/.test(d.log));
  assert.match(d.log, /"datapath adopted"/);
  assert.not.match(d.log, /"port attached"/, 'the internal port is adopted, not made again');
  await d.v('del-br', br);
});

t('--nats URL: the daemon uses an existing server and publishes it for the CLIs', async () => {
  const ext = await startNatsServer({ runDir: path.join(d.dir, 'ext'), token: false });
  const d2 = new DaemonProc(pinDir);
  try {
    await d2.start(['--nats', ext.url]);
    assert.is(natsServersOf(d2.runDir).length, 0, 'no own server');
    assert.is(fs.readFileSync(path.join(d2.runDir, 'nats.url'), 'utf8').trim(), ext.url);
    const r = await run('bin/bvs', ['appctl', '--run-dir', d2.runDir, 'dpif/show']);
    assert.is(r.code, 0, r.stderr);
    assert.is(await d2.stop(), 0);
    assert.not.ok(fs.existsSync(path.join(d2.runDir, 'nats.url')));
  } finally {
    await d2.cleanup();
    await ext.stop();
  }
});

t.run();
