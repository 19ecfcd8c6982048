/** The journal (log.ts) and storage (storage.ts): durability, torn tails, compaction. */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRecords, encodeRecord, OvsdbCore, Storage, VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import { connectWhenUp } from '../helpers/ovsdb.ts';
import { waitFor } from '../helpers/wait.ts';
import { removeTempDirs, run, SCHEMA_JSON, tempDir, vsctl } from './helpers.ts';

const t = suite('ovsdb-storage');

const insertBridge = (name: string, extra: Record<string, unknown> = {}): unknown[] => [
  { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name, ports: ['named-uuid', 'p'], ...extra } },
  { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name, interfaces: ['named-uuid', 'i'] } },
  { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name, type: 'internal' } },
  { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
];
const initOvs = [{ op: 'insert', table: 'Open_vSwitch', row: {} }];

async function withDb<T>(file: string, fn: (core: OvsdbCore) => Promise<T>, warn?: (m: string) => void): Promise<T> {
  const core = new OvsdbCore();
  try {
    await core.openFile(file, { warn: warn ?? (() => undefined) });
    return await fn(core);
  } finally {
    await core.close();
  }
}
const names = (core: OvsdbCore, table = 'Bridge'): string[] =>
  [...core.databases.get('Open_vSwitch')!.db.table(table)!.rows.values()].map((r) => r.cols.name.keys[0] as string).sort();
const tx = (core: OvsdbCore, ops: unknown[]): Promise<unknown[]> => core.transact(core.databases.get('Open_vSwitch')!, ops, {});

t('record framing is OVS-compatible: header, length, sha1', () => {
  const rec = encodeRecord({ a: 1 });
  assert.match(rec.toString(), /^OVSDB JSON 8 [0-9a-f]{40}\n\{"a":1\}\n$/);
  assert.equal(decodeRecords(Buffer.concat([rec, rec])).records, [{ a: 1 }, { a: 1 }]);
  const bad = decodeRecords(Buffer.concat([rec, rec.subarray(0, rec.length - 1)]));
  assert.is(bad.records.length, 1);
  assert.is(bad.goodLength, rec.length);
  assert.match(bad.problem!, /truncated/);
});

t('write, close, reopen: everything is there; failed transactions never touch the file', async () => {
  const file = path.join(tempDir('st'), 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  await withDb(file, async (core) => {
    await tx(core, [{ op: 'insert', table: 'Open_vSwitch', row: { next_cfg: 1 } }]);
    assert.is(statSync(file).size > 0, true);
    await tx(core, insertBridge('br0', { external_ids: ['map', [['k', 'v']]] }));
    const size = statSync(file).size;
    const r = await tx(core, insertBridge('br0'));
    assert.is((r[4] as { error: string }).error, 'constraint violation');
    assert.is(statSync(file).size, size, 'failed transaction wrote nothing');
  });
  await withDb(file, async (core) => {
    assert.equal(names(core), ['br0']);
    assert.equal(names(core, 'Interface'), ['br0']);
    const br = [...core.databases.get('Open_vSwitch')!.db.table('Bridge')!.rows.values()][0];
    assert.equal(br.cols.external_ids, { keys: ['k'], values: ['v'] });
    // GC still works after replay: reference counts were rebuilt.
    await tx(core, [{ op: 'update', table: 'Bridge', where: [], row: { ports: ['set', []] } }]);
    assert.equal(names(core, 'Port'), []);
    await tx(core, [{ op: 'update', table: 'Open_vSwitch', where: [], row: { bridges: ['set', []] } }]);
    assert.equal(names(core), []);
  });
});

t('diff records (_is_diff) replay maps, sets and scalars exactly', async () => {
  const file = path.join(tempDir('diff'), 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  const dump = (core: OvsdbCore): string =>
    JSON.stringify([...core.databases.get('Open_vSwitch')!.db.tables.values()].map((t) => [...t.rows.values()].map((r) => [r.uuid, r.cols]).sort()));
  let before = '';
  await withDb(file, async (core) => {
    await tx(core, initOvs);
    await tx(core, insertBridge('br0', { external_ids: ['map', [['a', '1'], ['b', '2']]], flood_vlans: ['set', [1, 2, 3]] }));
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let i = 0; i < 60; i++) {
      const k = String.fromCharCode(97 + rnd(5));
      const ops = [
        { op: 'mutate', table: 'Bridge', where: [], mutations: [['external_ids', 'delete', ['set', [k]]], ['external_ids', 'insert', ['map', [[k, String(rnd(3))]]]]] },
        { op: 'mutate', table: 'Bridge', where: [], mutations: [[rnd(2) ? 'flood_vlans' : 'flood_vlans', rnd(2) ? 'insert' : 'delete', rnd(10)]] },
        { op: 'update', table: 'Bridge', where: [], row: { stp_enable: rnd(2) === 1, datapath_type: `t${rnd(3)}` } },
        { op: 'mutate', table: 'Bridge', where: [], mutations: [['external_ids', 'delete', ['map', [[k, String(rnd(3))]]]]] },
      ];
      await tx(core, [ops[rnd(4)]]);
    }
    before = dump(core);
  });
  await withDb(file, async (core) => assert.is(dump(core), before));
});

t('one writer per file: a second open fails while the first holds it; a stale lock is taken over', async () => {
  const file = path.join(tempDir('lock'), 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  const a = await Storage.open(file);
  try {
    await Storage.open(file).then(
      () => assert.unreachable('second open succeeded'),
      (err: Error) => {
        assert.is(err.name, 'OvsdbStorageError');
        assert.match(err.message, new RegExp(`in use by process ${process.pid}`));
      },
    );
  } finally {
    await a.close();
  }
  writeFileSync(`${file}.bvs-lock`, '999999999\n'); // no such process
  const b = await Storage.open(file);
  await b.close();
});

t('a journal cut at every byte of its last record recovers to the last complete commit', async () => {
  const dir = tempDir('cut');
  const file = path.join(dir, 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  await withDb(file, async (core) => {
    await tx(core, initOvs);
    await tx(core, insertBridge('br0'));
    await tx(core, insertBridge('br1'));
    await tx(core, [...insertBridge('br2'), { op: 'comment', comment: 'the last one' }]);
  });
  const full = readFileSync(file);
  const { records } = decodeRecords(full);
  const lastLen = encodeRecord(records[records.length - 1]).length;
  const lastStart = full.length - lastLen;
  assert.ok(lastLen > 200);
  const cutFile = path.join(dir, 'cut.db');
  for (let cut = lastStart; cut < full.length; cut++) {
    writeFileSync(cutFile, full.subarray(0, cut));
    const warnings: string[] = [];
    const st = await Storage.open(cutFile, { warn: (m) => warnings.push(m) });
    const got = [...st.db.table('Bridge')!.rows.values()].map((r) => r.cols.name.keys[0]).sort();
    await st.close();
    assert.equal(got, ['br0', 'br1'], `cut at ${cut}`);
    assert.is(warnings.length, cut === lastStart ? 0 : 1, `cut at ${cut}: one warning for a torn tail`);
    assert.is(statSync(cutFile).size, lastStart, `cut at ${cut}: torn tail truncated`);
  }
  // A flipped byte inside the last record fails its sha1 and is dropped too.
  const flipped = Buffer.from(full);
  flipped[lastStart + Math.floor(lastLen / 2)] ^= 0x01;
  writeFileSync(cutFile, flipped);
  const warnings: string[] = [];
  await withDb(cutFile, async (core) => {
    assert.equal(names(core), ['br0', 'br1']);
    await tx(core, insertBridge('br9'));
  }, (m) => warnings.push(m));
  assert.match(warnings[0], /sha1/);
  await withDb(cutFile, async (core) => assert.equal(names(core), ['br0', 'br1', 'br9']));
});

t('online compaction keeps every concurrent commit', async () => {
  const file = path.join(tempDir('cmp'), 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  await withDb(file, async (core) => {
    const entry = core.databases.get('Open_vSwitch')!;
    await tx(core, initOvs);
    for (let i = 0; i < 200; i++) await tx(core, [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
    const pending: Promise<unknown[]>[] = [];
    for (let i = 0; i < 100; i++) {
      pending.push(tx(core, insertBridge(`b${i}`)));
      if (i === 30) pending.push(entry.storage!.compact().then(() => []));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    const recs = decodeRecords(readFileSync(file)).records as Record<string, unknown>[];
    assert.is(recs[1]._comment, 'compacted by bvs', 'file was rewritten as schema + snapshot + tail');
    assert.ok(recs.length < 102, `the 200 mutate records are gone (${recs.length} records)`);
    await tx(core, insertBridge('after'));
  });
  await withDb(file, async (core) => {
    assert.is(names(core).length, 101);
    assert.is(core.databases.get('Open_vSwitch')!.db.table('Open_vSwitch')!.rows.values().next().value!.cols.next_cfg.keys[0], 200);
  });
});

t('automatic compaction once the journal outgrows its threshold', async () => {
  const file = path.join(tempDir('auto'), 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  const core = new OvsdbCore();
  try {
    await core.openFile(file, { autoCompactBytes: 64 * 1024 });
    await tx(core, initOvs);
    await tx(core, insertBridge('br0'));
    for (let i = 0; i < 400; i++) await tx(core, [{ op: 'update', table: 'Bridge', where: [], row: { external_ids: ['map', [['i', String(i)], ['pad', 'x'.repeat(200)]]] } }]);
    // A compaction started by a commit runs in the background: wait until the file shows it.
    const recs = await waitFor('the journal to be compacted', () => {
      const all = decodeRecords(readFileSync(file)).records as Record<string, unknown>[];
      return all.some((r) => r._comment === 'compacted by bvs') && all;
    });
    assert.ok(recs.length < 300, `compacted (${recs.length} records)`);
  } finally {
    await core.close();
  }
  await withDb(file, async (core) => {
    const br = [...core.databases.get('Open_vSwitch')!.db.table('Bridge')!.rows.values()][0];
    assert.equal(br.cols.external_ids.values![0], '399');
  });
});

t('the real ovsdb-tool reads our journal, before and after compaction', async () => {
  const dir = tempDir('tool');
  const file = path.join(dir, 'conf.db');
  await Storage.create(file, SCHEMA_JSON);
  await withDb(file, async (core) => {
    await tx(core, initOvs);
    await tx(core, insertBridge('br0'));
    await tx(core, insertBridge('br1'));
    const br0 = [...core.databases.get('Open_vSwitch')!.db.table('Bridge')!.rows.values()].find((r) => r.cols.name.keys[0] === 'br0')!.uuid;
    await tx(core, [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['uuid', br0]]] }]);
  });
  const query = ['query', file, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name"]}]'];
  let r = await run('ovsdb-tool', query);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout)[0].rows, [{ name: 'br1' }]);
  const copy = path.join(dir, 'copy.db');
  copyFileSync(file, copy);
  r = await run(path.join(import.meta.dirname, '../../bin/bvs'), ['ovsdb-tool', 'compact', copy]);
  assert.is(r.code, 0, r.stderr);
  assert.is(decodeRecords(readFileSync(copy)).records.length, 2, 'schema + snapshot');
  r = await run('ovsdb-tool', ['query', copy, query[2]]);
  assert.equal(JSON.parse(r.stdout)[0].rows, [{ name: 'br1' }]);
});

t('reads a journal written by the real ovsdb-server (its _is_diff records)', async () => {
  const dir = tempDir('ovs');
  const file = path.join(dir, 'conf.db');
  const sock = path.join(dir, 'db.sock');
  let r = await run('ovsdb-tool', ['create', file, VSWITCH_SCHEMA_PATH]);
  assert.is(r.code, 0, r.stderr);
  const ovs = spawn('/usr/sbin/ovsdb-server', [file, `--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'ctl')}`, '--no-chdir', `--log-file=${path.join(dir, 'log')}`], { stdio: 'ignore' });
  try {
    (await connectWhenUp(sock, ovs)).close();
    for (const args of [['init'], ['add-br', 'br0'], ['add-port', 'br0', 'p1', 'tag=5'], ['add-port', 'br0', 'p2'], ['set', 'Bridge', 'br0', 'fail_mode=secure', 'external_ids:a=1', 'external_ids:b=2'],
      ['remove', 'Bridge', 'br0', 'external_ids', 'a'], ['set', 'Bridge', 'br0', 'external_ids:b=3'], ['clear', 'Bridge', 'br0', 'fail_mode'], ['del-port', 'p1']]) {
      r = await vsctl(sock, ...args);
      assert.is(r.code, 0, r.stderr);
    }
  } finally {
    ovs.kill('SIGTERM');
    await new Promise((res) => ovs.once('exit', res));
  }
  await withDb(file, async (core) => {
    const db = core.databases.get('Open_vSwitch')!.db;
    const br = [...db.table('Bridge')!.rows.values()][0];
    assert.equal(br.cols.external_ids, { keys: ['b'], values: ['3'] });
    assert.equal(br.cols.fail_mode, { keys: [] });
    assert.equal(names(core, 'Port'), ['br0', 'p2']);
    assert.equal(names(core, 'Interface'), ['br0', 'p2']);
    assert.is(br.cols.ports.keys.length, 2);
  });
});

t.after(() => removeTempDirs());
t.run();
