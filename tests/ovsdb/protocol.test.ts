/** The wire and the methods (RFC 7047 §4, ovsdb-server(7)), with a raw JSON-RPC client. */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OvsdbServer, Storage } from '../../src/ovsdb/index.ts';
import { removeTempDirs, RpcClient, SCHEMA_JSON, tempDir } from './helpers.ts';

const t = suite('ovsdb-protocol');
let srv: OvsdbServer;
let sock: string;
const clients: RpcClient[] = [];
const connect = async (): Promise<RpcClient> => {
  const c = await RpcClient.connect(sock);
  clients.push(c);
  return c;
};
const ZERO = '00000000-0000-0000-0000-000000000000';

t.before(async () => {
  const dir = tempDir('proto');
  sock = path.join(dir, 'db.sock');
  await Storage.create(path.join(dir, 'conf.db'), SCHEMA_JSON);
  srv = await OvsdbServer.open({ dbPath: path.join(dir, 'conf.db'), remotes: [`punix:${sock}`, 'ptcp:0'], log: () => undefined });
  await srv.db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
});

t('unix socket is mode 0600; TCP listens on 127.0.0.1 only', async () => {
  assert.is(statSync(sock).mode & 0o777, 0o600);
  const addr = srv.listeners[1].server.address() as { address: string; port: number };
  assert.is(addr.address, '127.0.0.1');
  const c = await RpcClient.connect({ port: addr.port, host: '127.0.0.1' });
  clients.push(c);
  assert.ok((await c.result('list_dbs', [])) as string[]);
});

t('list_dbs, get_schema, echo; replies carry exactly id/result/error', async () => {
  const c = await connect();
  const r = await c.call('list_dbs', []);
  assert.equal(Object.keys(r).sort(), ['error', 'id', 'result']);
  assert.equal((r.result as string[]).sort(), ['Open_vSwitch', '_Server']);
  assert.equal(((await c.result('get_schema', ['Open_vSwitch'])) as { name: string }).name, 'Open_vSwitch');
  assert.equal(await c.result('echo', ['x', 1]), ['x', 1]);
  const bad = await c.call('get_schema', ['Nope']);
  assert.equal(bad.error, { error: 'unknown database', details: 'get_schema request specifies unknown database Nope' });
});

t('unknown method and bad params: error reply, connection keeps working', async () => {
  const c = await connect();
  const r = await c.call('frob', []);
  assert.equal(r, { id: r.id, error: 'unknown method' }, 'exactly as ovsdb-server answers it');
  const p = await c.call('get_schema', [42]);
  assert.is((p.error as { error: string }).error, 'syntax error');
  assert.match((p.error as { details: string }).details, /params\[0\]/);
  const p2 = await c.call('transact', []);
  assert.is((p2.error as { error: string }).error, 'syntax error');
  assert.equal(await c.result('echo', []), []);
});

t('malformed JSON closes only that connection; the server keeps serving', async () => {
  const bad = await connect();
  bad.send('{"method": "echo", "params": [], "id": 1}{"method": nope}');
  await bad.waitNote(() => false, 1000).catch(() => undefined);
  assert.ok(bad.closed, 'bad connection closed');
  assert.equal(bad.raw, [{ id: 1, result: [], error: null }], 'the valid request before the garbage was answered, nothing else sent');
  const good = await connect();
  assert.equal(await good.result('echo', [1]), [1]);
});

t('a request split across many writes is reassembled', async () => {
  const c = await connect();
  const text = JSON.stringify({ method: 'echo', params: ['a"}{[', { x: '\\"' }], id: 99 });
  for (const ch of text) c.send(ch);
  await new Promise((r) => setTimeout(r, 100));
  const r = c.raw.find((m) => m.id === 99)!;
  assert.equal(r.result, ['a"}{[', { x: '\\"' }]);
});

t('_Server Database row and monitor_cond_since / update3', async () => {
  const c = await connect();
  const s = (await c.result('monitor_cond', ['_Server', ['m', '_Server'], { Database: [{ columns: ['name', 'model', 'connected', 'leader', 'schema'] }] }])) as Record<string, Record<string, { initial: Record<string, unknown> }>>;
  const rows = Object.values(s.Database).map((r) => r.initial);
  const ovs = rows.find((r) => r.name === 'Open_vSwitch')!;
  assert.is(ovs.model, 'standalone');
  assert.is(ovs.leader, true);
  assert.is(JSON.parse(ovs.schema as string).name, 'Open_vSwitch');
  const r = (await c.result('monitor_cond_since', ['Open_vSwitch', 'mid', { Bridge: [{ columns: ['name', 'external_ids'], where: [['name', '!=', 'hidden']] }] }, ZERO])) as unknown[];
  assert.is(r[0], false);
  assert.is(r[1], ZERO);
  await srv.db.transact([
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0', external_ids: ['map', [['a', '1']]] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'h', row: { name: 'hidden' } },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b'], ['named-uuid', 'h']]]]] },
  ]);
  const n = await c.waitNote((m) => m.method === 'update3');
  const [mid, txnId, upd] = n.params as [string, string, Record<string, Record<string, { insert: Record<string, unknown> }>>];
  assert.is(mid, 'mid');
  assert.is(txnId, ZERO);
  const ins = Object.values(upd.Bridge);
  assert.is(ins.length, 1, 'the where clause hides the other bridge');
  assert.equal(ins[0].insert, { name: 'br0', external_ids: ['map', [['a', '1']]] });
  await srv.db.transact([{ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['external_ids', 'delete', ['set', ['a']]], ['external_ids', 'insert', ['map', [['b', '2']]]]] }]);
  const n2 = await c.waitNote((m) => m.method === 'update3' && m !== n);
  const mod = Object.values((n2.params as [unknown, unknown, Record<string, Record<string, { modify: Record<string, unknown> }>>])[2].Bridge)[0].modify;
  assert.equal(mod, { external_ids: ['map', [['a', '1'], ['b', '2']]] }, 'map diff: removed key with old value, added key with new value');
  assert.equal(await c.result('monitor_cancel', ['mid']), {});
  assert.is((await c.call('monitor_cancel', ['mid'])).error !== null, true);
});

t('update2 modify: optional columns carry the new value (["set",[]] when cleared), sets the difference', async () => {
  const c = await connect();
  await c.result('monitor_cond', ['Open_vSwitch', 'opt', { Bridge: [{ columns: ['fail_mode', 'flood_vlans'], where: [['name', '==', 'br0']] }] }]);
  const upd = async (row: Record<string, unknown>): Promise<unknown> => {
    const before = c.notes.length;
    await srv.db.transact([{ op: 'update', table: 'Bridge', where: [['name', '==', 'br0']], row }]);
    const n = await c.waitNote((m) => c.notes.indexOf(m) >= before && m.method === 'update2');
    return Object.values((n.params as [unknown, Record<string, Record<string, { modify: unknown }>>])[1].Bridge)[0].modify;
  };
  assert.equal(await upd({ fail_mode: 'secure', flood_vlans: ['set', [1, 2]] }), { fail_mode: 'secure', flood_vlans: ['set', [1, 2]] });
  assert.equal(await upd({ fail_mode: 'standalone', flood_vlans: ['set', [2, 3]] }), { fail_mode: 'standalone', flood_vlans: ['set', [1, 3]] });
  assert.equal(await upd({ fail_mode: ['set', []] }), { fail_mode: ['set', []] });
});

t('monitor (v1) with _version, select flags, and set_db_change_aware', async () => {
  const c = await connect();
  assert.equal(await c.result('set_db_change_aware', [true]), {});
  const init = (await c.result('monitor', ['Open_vSwitch', null, { Open_vSwitch: { columns: ['next_cfg', '_version'], select: { initial: true, modify: true } } }])) as Record<string, Record<string, { new: Record<string, unknown> }>>;
  const [uuid, row] = Object.entries(init.Open_vSwitch)[0];
  const v0 = row.new._version;
  await srv.db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
  const n = await c.waitNote((m) => m.method === 'update');
  const [id, upd] = n.params as [null, Record<string, Record<string, { old: Record<string, unknown>; new: Record<string, unknown> }>>];
  assert.is(id, null);
  const u = upd.Open_vSwitch[uuid];
  assert.is(u.old.next_cfg, 0);
  assert.is(u.new.next_cfg, 1);
  assert.not.equal(u.new._version, v0);
  assert.is((await c.call('monitor', ['Open_vSwitch', null, { Nope: {} }])).error !== null, true);
});

t('locks: lock, queued lock gets "locked"; steal sends "stolen"; assert', async () => {
  const a = await connect();
  const b = await connect();
  assert.equal(await a.result('lock', ['L']), { locked: true });
  assert.equal(await b.result('lock', ['L']), { locked: false });
  const as = (await a.result('transact', ['Open_vSwitch', { op: 'assert', lock: 'L' }])) as unknown[];
  assert.equal(as, [{}]);
  assert.is(((await a.call('lock', ['L'])).error as { details: string }).details, 'must issue "unlock" before new "lock"');
  assert.is(((await a.call('unlock', ['other'])).error as { error: string }).error, 'syntax error');
  const bs = (await b.result('transact', ['Open_vSwitch', { op: 'assert', lock: 'L' }])) as { error: string }[];
  assert.is(bs[0].error, 'not owner');
  assert.equal(await a.result('unlock', ['L']), {});
  const ln = await b.waitNote((m) => m.method === 'locked');
  assert.equal(ln.params, ['L']);
  assert.equal(await a.result('steal', ['L']), { locked: true });
  assert.equal((await b.waitNote((m) => m.method === 'stolen')).params, ['L']);
  a.close();
  await b.waitNote((m) => m.method === 'locked' && m !== ln);
});

t('cancel: a blocked wait is answered with "canceled"', async () => {
  const c = await connect();
  const p = c.call('transact', ['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [['name', '==', 'never']], columns: ['name'], until: '==', rows: [{ name: 'never' }], timeout: 60000 }]);
  await new Promise((r) => setTimeout(r, 50));
  c.send(JSON.stringify({ method: 'cancel', params: [1], id: null })); // the first request on c has id 1
  const r = await p;
  assert.is((r.error as { error: string }).error, 'canceled');
});

t.after(async () => {
  for (const c of clients) c.close();
  await srv?.close();
  removeTempDirs();
});
t.run();
