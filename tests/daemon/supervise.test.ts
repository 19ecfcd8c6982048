/**
 * Supervision and port events, with the daemon in this process (startDaemon) so failures can
 * be injected through the actors' `provide` (the real ovsdb/bridge logic runs after them):
 * a failing child is restarted with backoff, logged, and visible in daemon.health; link
 * up/down becomes port.status events and Interface.link_state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromPromise } from 'xstate';
import { bridgeMachine } from '../../src/actors/bridge.machine.ts';
import { ovsdbMachine } from '../../src/actors/ovsdb.machine.ts';
import { supervisorMachine } from '../../src/actors/supervisor.machine.ts';
import { vswitchMachine } from '../../src/actors/vswitch.machine.ts';
import { openBridge, openOvsdb, type OpenBridgeInput, type OpenOvsdbInput } from '../../src/bridge/index.ts';
import { connectRunDir, type Bus, type EventOf } from '../../src/bus/index.ts';
import { removePins } from '../../src/datapath/index.ts';
import { resolveOptions, startDaemon, type Daemon } from '../../src/daemon/index.ts';
import { natsServersOf, run, until } from './helpers.ts';
import { uniqueTag } from './util.ts';

const t = suite('daemon-supervise');
const tag = uniqueTag();
const pinDir = `/sys/fs/bpf/bvs-test-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-sup-'));
const runDir = path.join(dir, 'run');
const br = `b${tag}`;
const veth = `v${tag}a`;
const lines: string[] = [];
let daemon: Daemon | undefined;
let bus: Bus | undefined;
let ovsdbFailures = 0;
let bridgeFailures = 0;

const vsctl = async (...args: string[]) => {
  const r = await run('ovs-vsctl', [`--db=unix:${path.join(runDir, 'db.sock')}`, '--timeout=10', ...args]);
  if (r.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

t.before(async () => {
  // The first open of the database and of the bridge fail; the retries run the real code.
  const ovsdb = ovsdbMachine.provide({ actors: { open: fromPromise(async ({ input }: { input: OpenOvsdbInput }) => {
    if (ovsdbFailures++ === 0) throw new Error('injected: ovsdb open failed');
    return openOvsdb(input);
  }) } });
  const bridge = bridgeMachine.provide({ actors: { open: fromPromise(async ({ input }: { input: OpenBridgeInput }) => {
    if (bridgeFailures++ === 0) throw new Error('injected: datapath open failed');
    return openBridge(input);
  }) } });
  const machine = supervisorMachine.provide({ actors: { ovsdb, vswitch: vswitchMachine.provide({ actors: { bridge } }) } });
  const logger = pino({ level: 'debug' }, { write: (s: string) => { lines.push(s); } });
  daemon = await startDaemon(resolveOptions({ runDir, db: path.join(dir, 'conf.db'), pinDir, logLevel: 'debug' }, {}),
    { machine, logger, backoff: { initialMs: 100, maxMs: 1000 }, linkPollMs: 100 });
  bus = await connectRunDir(runDir);
});

t.after(async () => {
  await bus?.close().catch(() => {});
  await daemon?.stop('test over');
  await run('ip', ['link', 'del', veth]);
  await run('ip', ['link', 'del', br]);
  for (const pid of natsServersOf(runDir)) process.kill(pid, 'SIGKILL');
  removePins(pinDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

t('a failing ovsdb actor is restarted with backoff, logged, and shown by daemon.health', async () => {
  await until('OVSDB to serve after the restart', async () => (await vsctl('show')).includes('ovs_version'));
  assert.is(ovsdbFailures, 2);
  assert.ok(lines.some((l) => l.includes('child failed; restarting') && l.includes('injected: ovsdb open failed')));
  const health = await bus!.request('daemon.health', {});
  const c = health.components.find((x) => x.name === 'ovsdb');
  assert.is(c?.restarts, 1);
  assert.is(c?.status, 'ok');
  const cli = await run('bin/bvs', ['appctl', '--run-dir', runDir, 'daemon/health']);
  assert.match(cli.stdout, /ovsdb: ok \(restarts 1\)/);
});

t('a failing bridge actor is restarted and the bridge comes up', async () => {
  await vsctl('add-br', br);
  await until('the bridge after its restart', () => daemon!.services.runtimes.has(br), 10_000);
  assert.is(bridgeFailures, 2);
  await until('the internal port', async () => (await vsctl('get', 'Interface', br, 'ofport')) === '65534');
  const health = await bus!.request('daemon.health', {});
  assert.is(health.components.find((x) => x.name === `bridge:${br}`)?.restarts, 1);
});

t('link down/up of a port becomes port.status events and Interface.link_state', async () => {
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
  await run('ip', ['link', 'set', `${veth}p`, 'up']);
  const got: EventOf<'port.status'>[] = [];
  const sub = bus!.subscribe('port.status', (e) => got.push(e));
  try {
    await bus!.flush();
    await vsctl('add-port', br, veth);
    await until('link up', () => got.find((e) => e.port === veth && e.state === 'up' && e.reason === 'link'));
    assert.is(await vsctl('get', 'Interface', veth, 'link_state'), 'up');
    await run('ip', ['link', 'set', `${veth}p`, 'down']);
    await until('link down', () => got.find((e) => e.port === veth && e.state === 'down' && e.reason === 'link'));
    await until('link_state down', async () => (await vsctl('get', 'Interface', veth, 'link_state')) === 'down');
    // The device is deleted and re-created under the same name: re-attached, same ofport.
    const ofport = await vsctl('get', 'Interface', veth, 'ofport');
    await run('ip', ['link', 'del', veth]);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
    const ifindex = Number(fs.readFileSync(`/sys/class/net/${veth}/ifindex`, 'utf8'));
    await until('re-attached to the new device', () => {
      const p = daemon!.services.runtimes.get(br)!.datapath.listPorts().find((x) => x.name === veth);
      return p !== undefined && p.ifindex === ifindex;
    }, 10_000);
    assert.is(await vsctl('get', 'Interface', veth, 'ofport'), ofport);
    assert.ok(lines.some((l) => l.includes('port lost its device')));
    await vsctl('del-port', br, veth);
    await until('removed', () => got.find((e) => e.port === veth && e.reason === 'removed'));
  } finally {
    sub.unsubscribe();
  }
});

t('a dead nats-server is restarted on the same port; commands work again', async () => {
  const [pid] = natsServersOf(runDir);
  assert.ok(pid, 'own nats-server running');
  process.kill(pid!, 'SIGKILL');
  await until('the restarted nats-server', () => { const p = natsServersOf(runDir); return p.length === 1 && p[0] !== pid; }, 10_000);
  const health = await until('daemon.health over the reconnected bus', async () => bus!.request('daemon.health', {}, { timeoutMs: 1000 }), 15_000, 200);
  const c = health.components.find((x) => x.name === 'nats-server');
  assert.is(c?.restarts, 1);
  assert.is(c?.status, 'ok');
});

t('stop: the supervisor tree stops and the datapath stays pinned', async () => {
  await daemon!.stop('test');
  assert.is(daemon!.supervisor.getSnapshot().status, 'done');
  assert.ok(fs.existsSync(path.join(pinDir, br, 'flows')));
  assert.is(natsServersOf(runDir).length, 0);
  await vsctl('show').then(() => assert.unreachable('db.sock still served'), () => {});
});

t.run();
