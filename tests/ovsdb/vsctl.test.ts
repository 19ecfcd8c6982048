/** The real Debian ovs-vsctl and ovsdb-client (OVS 3.1) against the embedded bvs server. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OvsdbServer, Storage } from '../../src/ovsdb/index.ts';
import { tapConnections } from '../helpers/ovsdb.ts';
import { waitFor } from '../helpers/wait.ts';
import { removeTempDirs, run, SCHEMA_JSON, tempDir, vsctl } from './helpers.ts';

const t = suite('ovsdb-vsctl');
let srv: OvsdbServer;
let sock: string;
let db: string;
const v = async (...args: string[]): Promise<string> => {
  const r = await vsctl(sock, ...args);
  if (r.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

t.before(async () => {
  const dir = tempDir('vsctl');
  sock = path.join(dir, 'db.sock');
  await Storage.create(path.join(dir, 'conf.db'), SCHEMA_JSON);
  srv = await OvsdbServer.open({ dbPath: path.join(dir, 'conf.db'), remotes: [`punix:${sock}`], log: () => undefined });
  db = `unix:${sock}`;
});

t('init, add-br, add-port with tag and trunks, show', async () => {
  await v('init');
  await v('add-br', 'br0');
  await v('add-port', 'br0', 'p1', 'tag=10');
  await v('add-port', 'br0', 'p2', 'trunks=10,20,30');
  assert.equal((await v('list-br')).split('\n'), ['br0']);
  assert.equal((await v('list-ports', 'br0')).split('\n'), ['p1', 'p2']);
  const show = await vsctl(sock, 'show');
  assert.is(show.stderr, '', 'show prints no schema warnings');
  assert.match(show.stdout, /Bridge br0\n/);
  assert.match(show.stdout, /Port p1\n\s+tag: 10\n\s+Interface p1/);
  assert.match(show.stdout, /Port p2\n\s+trunks: \[10, 20, 30\]/);
  assert.match(show.stdout, /Interface br0\n\s+type: internal/);
  assert.is(await v('get', 'Port', 'p1', 'tag'), '10');
  assert.is(await v('port-to-br', 'p2'), 'br0');
});

t('set/get/list and add/remove on sets and maps', async () => {
  await v('set', 'Bridge', 'br0', 'other_config:hwaddr=aa:bb:cc:dd:ee:ff', 'external_ids:owner=test');
  assert.is(await v('get', 'Bridge', 'br0', 'external_ids:owner'), 'test');
  await v('add', 'Bridge', 'br0', 'external_ids', 'k2=v2');
  await v('remove', 'Bridge', 'br0', 'external_ids', 'owner');
  assert.is(await v('get', 'Bridge', 'br0', 'external_ids'), '{k2=v2}');
  await v('add', 'Port', 'p2', 'trunks', '40', '50');
  await v('remove', 'Port', 'p2', 'trunks', '10');
  assert.is(await v('get', 'Port', 'p2', 'trunks'), '[20, 30, 40, 50]');
  await v('set', 'Interface', 'p1', 'type=internal', 'ofport_request=7', 'options:remote_ip=10.0.0.1');
  const list = await v('list', 'Interface', 'p1');
  assert.match(list, /ofport_request\s+: 7/);
  assert.match(list, /options\s+: \{remote_ip="10.0.0.1"\}/);
  assert.match(await v('--columns=name,tag', 'find', 'Port', 'tag=10'), /name\s+: p1/);
  await v('clear', 'Port', 'p1', 'tag');
  assert.is(await v('get', 'Port', 'p1', 'tag'), '[]');
});

t('del-port and del-br: the server garbage-collects Port and Interface rows', async () => {
  await v('del-port', 'br0', 'p1');
  assert.equal((await v('list-ports', 'br0')).split('\n'), ['p2']);
  assert.not.match(await v('--columns=name', 'list', 'Interface'), /p1/);
  await v('add-br', 'br1');
  await v('add-port', 'br1', 'q1');
  await v('del-br', 'br1');
  const ifaces = await v('--bare', '--columns=name', 'list', 'Interface');
  assert.equal(ifaces.split(/\s+/).sort(), ['br0', 'p2']);
  const ports = await v('--bare', '--columns=name', 'list', 'Port');
  assert.equal(ports.split(/\s+/).sort(), ['br0', 'p2']);
});

t('error cases', async () => {
  let r = await vsctl(sock, 'add-br', 'br0');
  assert.is(r.code, 1);
  assert.match(r.stderr, /already exists/);
  r = await vsctl(sock, 'set', 'Bridge', 'br0', 'fail_mode=bogus');
  assert.is(r.code, 1);
  assert.match(r.stderr, /constraint violation|bogus/);
  r = await vsctl(sock, 'del-port', 'br0', 'nope');
  assert.is(r.code, 1);
  // A server-side constraint: two interfaces with the same name (unique index), via raw insert.
  r = await run('ovsdb-client', ['transact', db, JSON.stringify(['Open_vSwitch', { op: 'insert', table: 'Interface', row: { name: 'p2' } }, { op: 'insert', table: 'Port', row: { name: 'x', interfaces: ['named-uuid', 'nope'] } }])]);
  assert.match(r.stdout + r.stderr, /named-uuid|syntax error/);
  r = await run('ovsdb-client', ['transact', db, JSON.stringify(['Open_vSwitch', { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0' } }, { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] }])]);
  assert.match(r.stdout, /constraint violation/);
  assert.match(r.stdout, /index on column \\?"name/);
});

t('ovsdb-client list-dbs, get-schema, dump, transact', async () => {
  let r = await run('ovsdb-client', ['list-dbs', db]);
  assert.equal(r.stdout.trim().split('\n').sort(), ['Open_vSwitch', '_Server']);
  r = await run('ovsdb-client', ['get-schema', db, 'Open_vSwitch']);
  assert.is(JSON.parse(r.stdout).name, 'Open_vSwitch');
  r = await run('ovsdb-client', ['get-schema-version', db, 'Open_vSwitch']);
  assert.is(r.stdout.trim(), '8.3.1');
  r = await run('ovsdb-client', ['dump', db, 'Open_vSwitch', 'Bridge']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Bridge table/);
  assert.match(r.stdout, /br0/);
  r = await run('ovsdb-client', ['transact', db, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["bogus"]}]']);
  assert.equal(JSON.parse(r.stdout), [{ error: 'unknown column', details: 'No column bogus in table Bridge.' }]);
  r = await run('ovsdb-client', ['transact', db, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[["name","==","br0"]],"columns":["name"]}]']);
  assert.equal(JSON.parse(r.stdout), [{ rows: [{ name: 'br0' }] }]);
});

t('ovsdb-client monitor prints inserts and deletes as they happen', async () => {
  const child = spawn('ovsdb-client', ['monitor', db, 'Open_vSwitch', 'Bridge', 'name', '--format=csv'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const printed = (re: RegExp): Promise<true> => waitFor(`ovsdb-client monitor to print ${re}`, () => re.test(out));
  try {
    await printed(/initial,br0/);
    await v('add-br', 'brm');
    await printed(/insert,brm/);
    await v('del-br', 'brm');
    await printed(/delete,brm/);
  } finally {
    child.kill('SIGKILL');
  }
});

t('without --no-wait, ovs-vsctl waits until the daemon (here: the embedded API) bumps cur_cfg', async () => {
  // The stand-in daemon applies a config only when the test lets it.
  let apply: (() => void) | undefined;
  const off = srv.db.subscribe((changes) => {
    for (const c of changes) {
      if (c.table !== 'Open_vSwitch' || !c.new || c.new.next_cfg === c.new.cur_cfg) continue;
      const next = c.new.next_cfg;
      apply = () => void srv.db.transact([
        { op: 'update', table: 'Interface', where: [['name', '==', 'w1']], row: { ofport: 42 } },
        { op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: next } },
      ]);
    }
  });
  const tap = tapConnections(srv.listeners[0].server);
  try {
    let exited = false;
    const p = run('ovs-vsctl', [`--db=${db}`, '--timeout=60', 'add-port', 'br0', 'w1']).finally(() => (exited = true));
    await waitFor('ovs-vsctl to commit (next_cfg bumped)', () => apply !== undefined);
    const [conn] = await waitFor('the ovs-vsctl connection', () => tap.conns.length > 0 && tap.conns);
    // The commit's reply went out before any probe: the first echo answered proves the client
    // read it; the second can only be answered by a later turn of its loop, i.e. it stayed after
    // the commit instead of exiting.
    await conn!.probe();
    await conn!.probe();
    assert.is(exited, false, 'it waits for cur_cfg');
    assert.is.not(srv.db.rows('Open_vSwitch')[0].cur_cfg, srv.db.rows('Open_vSwitch')[0].next_cfg);
    apply!();
    const r = await p;
    assert.is(r.code, 0, r.stderr);
    const ovs = srv.db.rows('Open_vSwitch')[0];
    assert.is(ovs.cur_cfg, ovs.next_cfg);
    assert.is(await v('get', 'Interface', 'w1', 'ofport'), '42');
  } finally {
    tap.stop();
    off();
  }
});

t.after(async () => {
  await srv?.close();
  removeTempDirs();
});
t.run();
