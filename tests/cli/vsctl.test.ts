/**
 * `bvs vsctl` against a real `bvs ovsdb-server` child, checked against the REAL ovs-vsctl (OVS
 * 3.1, Debian) on the same database: what bvs writes, ovs-vsctl reads back the same, and both
 * print the same show/list/get text and the same error messages. --no-wait everywhere except the
 * cur_cfg test, since no daemon bumps cur_cfg here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OvsdbServer, Storage, VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import { Db, OvsdbClient, parseDbSchema, runVsctl, VsctlError } from '../../src/vsctl/index.ts';
import { tapConnections } from '../helpers/ovsdb.ts';
import { waitFor } from '../helpers/wait.ts';
import { bvs, removeTempDirs, run, startOvsdbServer, tempDir, type RunResult } from './helpers.ts';

const t = suite('cli-vsctl');
let server: Awaited<ReturnType<typeof startOvsdbServer>> | undefined;
let db = '';

const ours = (...args: string[]) => runVsctl([`--db=${db}`, '--no-wait', ...args]);
const oursOut = async (...args: string[]) => (await ours(...args)).stdout;
async function oursErr(...args: string[]): Promise<string> {
  try {
    await ours(...args);
  } catch (err) {
    if (err instanceof VsctlError) return err.message;
    throw err;
  }
  throw new Error(`bvs vsctl ${args.join(' ')} succeeded`);
}
const real = (...args: string[]): Promise<RunResult> => run('ovs-vsctl', [`--db=${db}`, '--no-wait', ...args]);
async function realOut(...args: string[]): Promise<string> {
  const r = await real(...args);
  if (r.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** The real client's error line, without its schema warnings and program name. */
async function realErr(...args: string[]): Promise<string> {
  const r = await real(...args);
  assert.is.not(r.code, 0, `ovs-vsctl ${args.join(' ')} should fail`);
  const line = r.stderr.split('\n').find((l) => l.startsWith('ovs-vsctl: '));
  return line!.slice('ovs-vsctl: '.length);
}

/** Columns of our schema: the real client also prints columns of its own, newer schema as []. */
const SCHEMA = JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')) as { tables: Record<string, { columns: Record<string, unknown> }> };
function onlyOurColumns(table: string, text: string): string {
  const cols = new Set(['_uuid', ...Object.keys(SCHEMA.tables[table]!.columns)]);
  return text.split('\n').filter((l) => l === '' || cols.has(l.split(/\s*:/)[0]!)).join('\n');
}

t.before(async () => {
  server = await startOvsdbServer(tempDir('vsctl'));
  db = `unix:${server.sock}`;
});

t.after(async () => {
  await server?.stop();
  removeTempDirs();
});

t('bvs vsctl builds a configuration that the real ovs-vsctl shows and lists identically', async () => {
  await ours('init');
  await ours('add-br', 'br0');
  await ours('add-port', 'br0', 'p1', 'tag=10');
  await ours('add-port', 'br0', 'p2', 'trunks=10,20', '--', 'set', 'Interface', 'p2', 'type=internal');
  await ours('add-br', 'br1', '--', 'add-port', 'br1', 'q1', '--', 'set', 'Port', 'q1', 'vlan_mode=access', 'tag=5');
  await ours('set', 'Bridge', 'br0', 'external_ids:owner=test', 'other_config:desc=a b', 'fail_mode=secure');
  await ours('set', 'Interface', 'p1', 'error="no such device"', 'options:k=v');
  await ours('set', 'Open_vSwitch', '.', 'ovs_version=3.1.0');
  await ours('--', '--id=@m', 'create', 'Manager', 'target="ptcp:6640"', '--', 'add', 'Open_vSwitch', '.', 'manager_options', '@m');

  const show = await oursOut('show');
  assert.is(show, await realOut('show'));
  assert.match(show, /Manager "ptcp:6640"\n/);
  assert.match(show, /Port p1\n {12}tag: 10\n {12}Interface p1\n {16}options: \{k=v\}\n {16}error: "no such device"\n/);
  assert.match(show, /Port p2\n {12}trunks: \[10, 20\]\n {12}Interface p2\n {16}type: internal\n/);
  assert.match(show, /ovs_version: "3\.1\.0"\n$/);

  for (const cmd of [['list-br'], ['list-ports', 'br0'], ['list-ifaces', 'br0'], ['port-to-br', 'q1'], ['iface-to-br', 'p2']]) {
    assert.is(await oursOut(...cmd), await realOut(...cmd), cmd.join(' '));
  }
  for (const [table, rec] of [['Bridge', 'br0'], ['Port', 'p2'], ['Port', 'q1'], ['Interface', 'p1'], ['Open_vSwitch', '.']] as const) {
    assert.is(await oursOut('list', table, rec), onlyOurColumns(table, await realOut('list', table, rec)), `list ${table} ${rec}`);
  }
  const get = ['get', 'Bridge', 'br0', 'name', 'ports', 'external_ids', 'external_ids:owner', 'other_config:desc', 'fail_mode', 'datapath_type'];
  assert.is(await oursOut(...get), await realOut(...get));
  const find = ['--columns=name,tag', 'find', 'Port', 'tag=5'];
  assert.is(await oursOut(...find), await realOut(...find));
  assert.is(await oursOut(...find), 'name                : q1\ntag                 : 5\n');
});

t('the real ovs-vsctl writes, bvs vsctl reads the same', async () => {
  await realOut('add-br', 'br2', '--', 'add-port', 'br2', 'r1', 'tag=7', '--', 'set', 'Bridge', 'br2', 'external_ids:x="1 2"');
  assert.is(await oursOut('show'), await realOut('show'));
  assert.is(await oursOut('list-ports', 'br2'), 'r1\n');
  assert.is(await oursOut('get', 'Bridge', 'br2', 'external_ids:x'), '"1 2"\n');
  assert.is(await oursOut('list', 'Port', 'r1'), onlyOurColumns('Port', await realOut('list', 'Port', 'r1')));
});

t('table formatting options print what ovs-vsctl prints', async () => {
  await ours('set', 'Port', 'p2', 'external_ids:q="x, \\"y\\""', 'external_ids:a=b');
  const cases: string[][] = [
    ['--bare', '--columns=name,tag,trunks,external_ids', 'list', 'Port', 'p1', 'p2'],
    ['--format=table', '--columns=name,tag,external_ids', 'list', 'Port', 'p1', 'p2', 'q1'],
    ['--format=table', '--no-headings', '--columns=name,tag', 'list', 'Port', 'p2', 'p1'],
    ['--format=csv', '--columns=name,external_ids,_uuid', 'list', 'Port', 'p2'],
    ['--format=csv', '--data=bare', '--columns=name,trunks', 'list', 'Port', 'p1', 'p2'],
    ['-f', 'json', '--columns=name,tag,trunks,_uuid,external_ids', 'list', 'Port', 'p1', 'p2'],
    ['--data=json', '--columns=name,trunks,tag', 'list', 'Port', 'p2', 'q1'],
    ['--bare', '--columns=name', 'find', 'Port', 'tag=10'],
    ['--oneline', 'list-br', '--', 'list-ports', 'br0', '--', 'get', 'Port', 'p1', 'tag', '--', 'set', 'Port', 'p1', 'tag=10'],
  ];
  for (const c of cases) assert.is(await oursOut(...c), await realOut(...c), c.join(' '));
});

t('controller, fail-mode, manager and bridge external-id commands', async () => {
  await ours('set-controller', 'br2', 'tcp:1.2.3.4:6653', 'tcp:5.6.7.8:6653', '--', 'set-fail-mode', 'br2', 'secure');
  await ours('br-set-external-id', 'br2', 'k1', 'v1', '--', 'br-set-external-id', 'br2', 'k2', 'v 2');
  const reads = [['get-controller', 'br2'], ['get-fail-mode', 'br2'], ['get-manager'], ['br-get-external-id', 'br2'],
    ['br-get-external-id', 'br2', 'k2'], ['show']];
  for (const c of reads) assert.is(await oursOut(...c), await realOut(...c), c.join(' '));
  assert.is(await oursOut('get-controller', 'br2'), 'tcp:1.2.3.4:6653\ntcp:5.6.7.8:6653\n');
  assert.is(await oursErr('set-fail-mode', 'br2', 'bogus'), await realErr('set-fail-mode', 'br2', 'bogus'));
  await ours('del-controller', 'br2', '--', 'del-fail-mode', 'br2', '--', 'br-set-external-id', 'br2', 'k1');
  assert.is(await realOut('get-controller', 'br2'), '');
  assert.is(await realOut('get-fail-mode', 'br2'), '');
  assert.is(await realOut('br-get-external-id', 'br2'), 'k2=v 2\nx=1 2\n'); // x from the earlier test
  assert.is(await realOut('--columns=target', 'find', 'Controller'), '', 'the Controller rows were collected');
});

t('--id=@name: forward references, get --id, and a reference never created', async () => {
  await ours('add', 'Open_vSwitch', '.', 'manager_options', '@m2', '--', '--id=@m2', 'create', 'Manager', 'target="ptcp:6642"');
  assert.match(await realOut('get-manager'), /^ptcp:6640\nptcp:6642\n$/);
  const ports = await realOut('get', 'Bridge', 'br2', 'ports');
  await ours('--id=@p', 'get', 'Port', 'r1', '--', 'add', 'Bridge', 'br2', 'ports', '@p'); // already there: no change
  assert.is(await realOut('get', 'Bridge', 'br2', 'ports'), ports);
  assert.is(await oursErr('add', 'Open_vSwitch', '.', 'manager_options', '@nope'), await realErr('add', 'Open_vSwitch', '.', 'manager_options', '@nope'));
  const r = await ours('create', 'Manager', 'target="ptcp:6643"');
  assert.match(r.stdout, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/, 'create prints the new row\'s UUID');
  assert.match(r.stderr, /row in Manager table lacks reference from a root table/);
});

t('add/remove/clear edit sets and maps as ovs-vsctl does', async () => {
  await ours('add', 'Port', 'p2', 'trunks', '30', '40');
  await ours('remove', 'Port', 'p2', 'trunks', '10');
  await ours('set', 'Port', 'p2', 'other_config:a=1', 'other_config:b=2');
  await ours('remove', 'Port', 'p2', 'other_config', 'a');
  await ours('add', 'Port', 'p2', 'other_config', 'b=9', 'c=3'); // add never replaces an existing key
  assert.is(await realOut('get', 'Port', 'p2', 'trunks', 'other_config'), '[20, 30, 40]\n{b="2", c="3"}\n');
  await ours('clear', 'Port', 'p2', 'trunks', 'other_config');
  await ours('set', 'Port', 'p1', 'trunks=1-3,7');
  assert.is(await realOut('get', 'Port', 'p2', 'trunks', 'other_config'), '[]\n{}\n');
  assert.is(await realOut('get', 'Port', 'p1', 'trunks'), '[1, 2, 3, 7]\n');
});

t('errors: the same messages as ovs-vsctl, naming the bad token, and nothing changes', async () => {
  const cases: string[][] = [
    ['add-br', 'br0'], ['del-br', 'nope'], ['add-port', 'nope', 'x'], ['add-port', 'br0', 'p1'], ['del-port', 'nope'],
    ['del-port', 'br1', 'p1'], ['get', 'Bridge', 'nope', 'name'], ['get', 'Bridge', 'br0', 'bogus'], ['list', 'Bogus'],
    ['set', 'Port', 'p1', 'tag=abc'], ['set', 'Port', 'p1', 'tag=4096'], ['set', 'Bridge', 'br0', 'fail_mode=bogus'],
    ['set', 'Bridge', 'br0', 'name=x'], ['clear', 'Port', 'p1', 'interfaces'], ['--may-exist', 'list-br'], ['list-br', 'x'],
    ['add-port', 'br0'], ['get', 'Bridge', 'br0', 'external_ids:nokey'], ['frob'],
  ];
  for (const c of cases) assert.is(await oursErr(...c), await realErr(...c), c.join(' '));
  const before = await realOut('show');
  assert.match(await oursErr('add-br', 'br9', '--', 'add-port', 'br9', 'z1', '--', 'set', 'Port', 'z1', 'tag=x'), /"x" is not a valid integer/);
  assert.is(await realOut('show'), before, 'a failing command commits nothing');
  assert.match(await oursErr('add-br', 'this-name-is-too-long'), /not a valid interface name/);
});

t('through bin/bvs: exit codes, --may-exist, --if-exists, br-exists, error line format', async () => {
  const v = (...a: string[]) => bvs(['vsctl', `--db=${db}`, '--no-wait', ...a]);
  assert.is((await v('--may-exist', 'add-br', 'br0')).code, 0);
  assert.is((await v('--', '--may-exist', 'add-port', 'br0', 'p1')).code, 0);
  assert.is((await v('--if-exists', 'del-br', 'nope')).code, 0);
  assert.is((await v('br-exists', 'br0')).code, 0);
  const no = await v('br-exists', 'nope');
  assert.equal([no.code, no.stdout, no.stderr], [2, '', '']);
  const bad = await v('del-br', 'nope');
  assert.equal([bad.code, bad.stderr], [1, 'bvs vsctl: no bridge named nope\n']);
  const noDb = await bvs(['vsctl', '--db=unix:/nonexistent/db.sock', 'show']);
  assert.is(noDb.code, 1);
  assert.match(noDb.stderr, /^bvs vsctl: unix:\/nonexistent\/db\.sock: database connection failed/);
  const help = await bvs(['vsctl', '--help']);
  assert.match(help.stdout, /add-port BRIDGE PORT/);
});

t('del-br and del-port leave no orphan rows (server garbage collection)', async () => {
  await ours('del-port', 'br0', 'p2');
  await ours('del-br', 'br1');
  assert.is(await realOut('--columns=name', 'find', 'Port', 'name=q1'), '');
  assert.is(await realOut('--columns=name', 'find', 'Interface', 'name=p2'), '');
  assert.is(await oursOut('list-br'), 'br0\nbr2\n');
});

t('optimistic concurrency: a stale snapshot fails its wait instead of overwriting a change', async () => {
  const client = await OvsdbClient.connect(db);
  try {
    const schema = parseDbSchema(await client.request('get_schema', ['Open_vSwitch']));
    const snap = await Db.load(client, schema);
    const port = snap.rows('Port').find((r) => (r.cols.get('name') as { atoms: string[] }).atoms[0] === 'p1')!;
    snap.set(port, 'tag', { kind: 'set', atoms: [11] });
    await realOut('set', 'Port', 'p1', 'tag=12'); // another client wins the race
    const res = await client.transact('Open_vSwitch', snap.ops());
    assert.ok(res.some((r) => r.error === 'timed out'), JSON.stringify(res));
    assert.is(await realOut('get', 'Port', 'p1', 'tag'), '12\n');
  } finally {
    client.close();
  }
  await ours('set', 'Port', 'p1', 'tag=13'); // a fresh run reloads and succeeds
  assert.is(await realOut('get', 'Port', 'p1', 'tag'), '13\n');
});

t('without --no-wait: returns once cur_cfg reaches next_cfg; --timeout gives a clear error', async () => {
  // An in-process server on a database of its own, so that the test sees the client's
  // connection from the server's side (tapConnections).
  const dir = tempDir('wait');
  await Storage.create(path.join(dir, 'conf.db'), SCHEMA);
  const srv = await OvsdbServer.open({ dbPath: path.join(dir, 'conf.db'), remotes: [`punix:${path.join(dir, 'db.sock')}`], log: () => undefined });
  const dbw = `unix:${path.join(dir, 'db.sock')}`;
  const ovs = (): Record<string, unknown> => srv.db.rows('Open_vSwitch')[0]!;
  try {
    await runVsctl([`--db=${dbw}`, '--no-wait', 'init']);
    const err = await runVsctl([`--db=${dbw}`, '--timeout=1', 'add-br', 'brw1']).then(() => null, (e: Error) => e);
    assert.match(err?.message ?? '', /timed out after 1 s waiting for the daemon to apply the change/);
    // brw1 is committed even though nobody applied it (as with ovs-vsctl).
    const next = ovs().next_cfg as number;
    const tap = tapConnections(srv.listeners[0]!.server);
    let done = false;
    const p = runVsctl([`--db=${dbw}`, 'add-br', 'brw2']).finally(() => (done = true));
    // After committing (next_cfg bumped) the client asks for cur_cfg updates with a monitor.
    const conn = await waitFor('the client to monitor cur_cfg', () => tap.conns.find((c) => c.received.some((m) => m.method === 'monitor')));
    tap.stop();
    assert.is(ovs().next_cfg, next + 1);
    // The monitor's reply went out before the probe: its echo answered proves the client read
    // the reply and found cur_cfg < next_cfg; then it must neither return nor send anything more.
    await conn.probe();
    assert.is(done, false, 'still waiting while cur_cfg < next_cfg');
    assert.equal(conn.received.filter((m) => typeof m.method === 'string').map((m) => m.method).slice(-1), ['monitor'], 'nothing sent after the monitor');
    await srv.db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: next + 1 } }]); // what the daemon does once applied
    const r = await p;
    assert.is(r.exitCode, 0);
  } finally {
    await srv.close();
  }
});

t.run();
