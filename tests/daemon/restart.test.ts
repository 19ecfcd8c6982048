/**
 * bvs daemon restart: kill -9 under a running ping loses nothing once the flows are set up
 * (the pinned datapath keeps forwarding with no process), and the restarted daemon adopts the
 * datapath: no port attached twice (one BPF link per port), nothing lost, and datapath ports
 * changed behind its back reconciled with OVSDB.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath } from '../../src/datapath/index.ts';
import { Topology, type Host } from '../helpers/netns.ts';
import { DaemonProc, daemonWithHosts, natsServersOf, progLinks, run, until } from './helpers.ts';

const t = suite('daemon-restart');
const topo = new Topology();
const br = `b${topo.tag}`;
const stray = `s${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

/** A ping that expects replies: waits up to 10 s for the first (an upcall on a loaded host). */
const pingOk = (a: Host, b: Host, count: number, interval: number): Promise<number> => topo.ping(a, b, count, interval, 10);

/** Packets the datapath forwarded by its flows (kernel-side: counts with or without a daemon). */
function dpHits(): bigint {
  const dp = Datapath.open(br);
  try {
    return dp.stats().hit;
  } finally {
    dp.close();
  }
}

function dpPorts(): [number, string][] {
  const dp = Datapath.open(br);
  try {
    return dp.listPorts().map((p) => [p.portNo, p.name]);
  } finally {
    dp.close();
  }
}

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 3));
});

t.after(async () => {
  await d?.cleanup();
  await run('ip', ['link', 'del', stray]);
  topo.destroy();
});

t('kill -9 under a running ping loses no packet; the restarted daemon adopts the datapath', async () => {
  assert.is(await pingOk(h[0]!, h[1]!, 3, 0.1), 3, 'flows set up');
  const before = { ports: dpPorts(), ofports: await d.v('--bare', '--columns=name,ofport', 'list', 'Interface') };
  const count = 80;
  const ping = spawn('ip', ['netns', 'exec', h[0]!.ns, 'ping', '-c', String(count), '-i', '0.05', '-W', '1', '-q', h[1]!.ip], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  ping.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<void>((r) => ping.once('exit', () => r()));
  try {
    // Kill it under a running ping: once the datapath's flows are seen forwarding the ping.
    const h0 = dpHits();
    await until('the ping to be forwarded by the datapath', () => dpHits() >= h0 + 4n);
    await d.kill9();
    assert.is(natsServersOf(d.runDir).length, 0, 'its nats-server went with it');
    // Forwarding with no daemon at all: the datapath keeps counting the ping's packets.
    const h1 = dpHits();
    await until('the ping to be forwarded with no daemon', () => dpHits() >= h1 + 4n);
    await d.start();
    await done;
  } finally {
    ping.kill();
  }
  const received = Number(/(\d+) received/.exec(out)?.[1] ?? -1);
  assert.is(received, count, `every ping answered across kill -9 and restart (${out.trim().split('\n').pop()})`);
  // Each port is set up once, logged as adopted or attached: once all four are adopted, the
  // daemon is past the point where it could have attached one again.
  const adopted = () => (d.log.match(/"port adopted"/g) ?? []).length;
  await until('the internal port and the 3 system ports to be adopted', () => adopted() >= 4);
  assert.match(d.log, /"datapath adopted"/);
  assert.is(adopted(), 4, 'internal port and 3 system ports adopted');
  assert.not.match(d.log, /"port attached"/);
  assert.equal(dpPorts(), before.ports, 'same datapath ports');
  assert.is(await progLinks(topo.pinRoot, br), 4, 'one link per port');
  await until('cur_cfg to catch up', async () => (await d.v('get', 'Open_vSwitch', '.', 'cur_cfg')) === (await d.v('get', 'Open_vSwitch', '.', 'next_cfg')));
  assert.is(await d.v('--bare', '--columns=name,ofport', 'list', 'Interface'), before.ofports, 'same ofports in OVSDB');
  assert.is(await pingOk(h[1]!, h[2]!, 3, 0.1), 3, 'new flows after the restart');
});

t('restart reconciles ports changed while the daemon was down', async () => {
  await d.kill9();
  // Behind the daemon's back: one configured port detached, one stray device attached.
  await run('ip', ['link', 'add', stray, 'type', 'veth', 'peer', 'name', `${stray}p`]);
  const env = { ...process.env, BVS_PIN_DIR: topo.pinRoot };
  const bvs = (...a: string[]) => new Promise<number>((r) => spawn('bin/bvs', a, { env, stdio: 'ignore' }).once('exit', (c) => r(c ?? 1)));
  assert.is(await bvs('dpctl', 'del-if', br, h[2]!.port), 0);
  assert.is(await bvs('dpctl', 'add-if', br, stray), 0);
  assert.ok(dpPorts().some(([, n]) => n === stray));
  await d.start();
  await until('the reconciled datapath', () => {
    const names = dpPorts().map(([, n]) => n);
    return !names.includes(stray) && names.includes(h[2]!.port);
  });
  assert.equal(dpPorts().find(([, n]) => n === h[2]!.port)?.[0], 3, 're-attached with its ofport');
  assert.is(await progLinks(topo.pinRoot, br), 4, 'one link per port');
  assert.is(await pingOk(h[2]!, h[0]!, 3, 0.1), 3);
});

t('a bridge deleted while the daemon was down is destroyed on restart, its internal port too', async () => {
  await d.kill9();
  // Edit the database with the daemon down: bvs ovsdb-server on the same file, real ovs-vsctl.
  const sock = path.join(d.dir, 'offline.sock');
  const srv = spawn('bin/bvs', ['ovsdb-server', d.dbPath, '--remote', `punix:${sock}`], { stdio: 'ignore' });
  try {
    await until('the offline ovsdb-server', async () => (await run('ovs-vsctl', [`--db=unix:${sock}`, 'show'])).code === 0);
    const r = await run('ovs-vsctl', [`--db=unix:${sock}`, '--no-wait', 'del-br', br]);
    assert.is(r.code, 0, r.stderr);
  } finally {
    srv.kill('SIGTERM');
    await new Promise((r) => srv.once('exit', r));
  }
  assert.ok(fs.existsSync(path.join(topo.pinRoot, br, 'flows')), 'still pinned while down');
  await d.start();
  await until('the orphan datapath to be destroyed', () => !fs.existsSync(path.join(topo.pinRoot, br)));
  assert.not.ok(fs.existsSync(`/sys/class/net/${br}`), 'internal device removed');
  assert.is(await d.v('list-br'), '');
});

t.run();
