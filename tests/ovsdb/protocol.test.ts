/** The wire and the methods (RFC 7047 §4, ovsdb-server(7)), through the product's client at the message level. */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OvsdbServer, Storage } from '../../src/ovsdb/index.ts';
import { OvsdbClient, type JsonRpcMessage } from '../../src/vsctl/index.ts';
import { Notes } from '../helpers/ovsdb.ts';
import { waitFor } from '../helpers/wait.ts';
import { connect as connectTo, removeTempDirs, SCHEMA_JSON, tempDir } from './helpers.ts';

const t = suite('ovsdb-protocol');
let srv: OvsdbServer;
let sock: string;
const clients: OvsdbClient[] = [];
const connect = async (): Promise<OvsdbClient> => {
  const c = await connectTo(sock);
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
  const c = await OvsdbClient.connect(`tcp:127.0.0.1:${addr.port}`);
  clients.push(c);
  assert.ok((await c.request('list_dbs', [])) as string[]);
});

t('list_dbs, get_schema, echo; replies carry exactly id/result/error', async () => {
  const c = await connect();
  const r = await c.requestMessage('list_dbs', []);
  assert.equal(Object.keys(r).sort(), ['error', 'id', 'result']);
  assert.equal((r.result as string[]).sort(), ['Open_vSwitch', '_Server']);
  assert.equal(((await c.request('get_schema', ['Open_vSwitch'])) as { name: string }).name, 'Open_vSwitch');
  assert.equal(await c.request('echo', ['x', 1]), ['x', 1]);
  const bad = await c.requestMessage('get_schema', ['Nope']);
  assert.equal(bad.error, { error: 'unknown database', details: 'get_schema request specifies unknown database Nope' });
});

t('unknown method and bad params: error reply, connection keeps working', async () => {
  const c = await connect();
  const r = await c.requestMessage('frob', []);
  assert.equal(r, { id: r.id, error: 'unknown method' }, 'exactly as ovsdb-server answers it');
  const p = await c.requestMessage('get_schema', [42]);
  assert.is((p.error as { error: string }).error, 'syntax error');
  assert.match((p.error as { details: string }).details, /params\[0\]/);
  const p2 = await c.requestMessage('transact', []);
  assert.is((p2.error as { error: string }).error, 'syntax error');
  assert.equal(await c.request('echo', []), []);
});

t('malformed JSON closes only that connection; the server keeps serving', async () => {
  const bad = await connect();
  const wire: JsonRpcMessage[] = [];
  bad.onMessage((m) => wire.push(m));
  bad.writeRaw('{"method": "echo", "params": [], "id": 1}{"method": nope}');
  await waitFor('the server to close the bad connection', () => bad.closed);
  assert.equal(wire, [{ id: 1, result: [], error: null }], 'the valid request before the garbage was answered, nothing else sent');
  const good = await connect();
  assert.equal(await good.request('echo', [1]), [1]);
});

t('a request split across many writes is reassembled', async () => {
  const c = await connect();
  const text = JSON.stringify({ method: 'echo', params: ['a"}{[', { x: '\\"' }], id: 99 });
  const wire: JsonRpcMessage[] = [];
  c.onMessage((m) => wire.push(m));
  for (const ch of text) c.writeRaw(ch);
  const r = await waitFor('the reply to the reassembled request', () => wire.find((m) => m.id === 99));
  assert.equal(r.result, ['a"}{[', { x: '\\"' }]);
});

t('_Server Database row and monitor_cond_since / update3', async () => {
  const c = await connect();
  const notes = new Notes(c);
  const s = (await c.request('monitor_cond', ['_Server', ['m', '_Server'], { Database: [{ columns: ['name', 'model', 'connected', 'leader', 'schema'] }] }])) as Record<string, Record<string, { initial: Record<string, unknown> }>>;
  const rows = Object.values(s.Database).map((r) => r.initial);
  const ovs = rows.find((r) => r.name === 'Open_vSwitch')!;
  assert.is(ovs.model, 'standalone');
  assert.is(ovs.leader, true);
  assert.is(JSON.parse(ovs.schema as string).name, 'Open_vSwitch');
  const r = (await c.request('monitor_cond_since', ['Open_vSwitch', 'mid', { Bridge: [{ columns: ['name', 'external_ids'], where: [['name', '!=', 'hidden']] }] }, ZERO])) as unknown[];
  assert.is(r[0], false);
  assert.is(r[1], ZERO);
  await srv.db.transact([
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0', external_ids: ['map', [['a', '1']]] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'h', row: { name: 'hidden' } },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b'], ['named-uuid', 'h']]]]] },
  ]);
  const n = await notes.next('an update3', (m) => m.method === 'update3');
  const [mid, txnId, upd] = n.params as [string, string, Record<string, Record<string, { insert: Record<string, unknown> }>>];
  assert.is(mid, 'mid');
  assert.is(txnId, ZERO);
  const ins = Object.values(upd.Bridge);
  assert.is(ins.length, 1, 'the where clause hides the other bridge');
  assert.equal(ins[0].insert, { name: 'br0', external_ids: ['map', [['a', '1']]] });
  await srv.db.transact([{ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['external_ids', 'delete', ['set', ['a']]], ['external_ids', 'insert', ['map', [['b', '2']]]]] }]);
  const n2 = await notes.next('a second update3', (m) => m.method === 'update3', notes.list.indexOf(n) + 1);
  const mod = Object.values((n2.params as [unknown, unknown, Record<string, Record<string, { modify: Record<string, unknown> }>>])[2].Bridge)[0].modify;
  assert.equal(mod, { external_ids: ['map', [['a', '1'], ['b', '2']]] }, 'map diff: removed key with old value, added key with new value');
  assert.equal(await c.request('monitor_cancel', ['mid']), {});
  assert.is((await c.requestMessage('monitor_cancel', ['mid'])).error !== null, true);
});

t('update2 modify: optional columns carry the new value (["set",[]] when cleared), sets the difference', async () => {
  const c = await connect();
  const notes = new Notes(c);
  await c.request('monitor_cond', ['Open_vSwitch', 'opt', { Bridge: [{ columns: ['fail_mode', 'flood_vlans'], where: [['name', '==', 'br0']] }] }]);
  const upd = async (row: Record<string, unknown>): Promise<unknown> => {
    const before = notes.list.length;
    await srv.db.transact([{ op: 'update', table: 'Bridge', where: [['name', '==', 'br0']], row }]);
    const n = await notes.next('an update2', (m) => m.method === 'update2', before);
    return Object.values((n.params as [unknown, Record<string, Record<string, { modify: unknown }>>])[1].Bridge)[0].modify;
  };
  assert.equal(await upd({ fail_mode: 'secure', flood_vlans: ['set', [1, 2]] }), { fail_mode: 'secure', flood_vlans: ['set', [1, 2]] });
  assert.equal(await upd({ fail_mode: 'standalone', flood_vlans: ['set', [2, 3]] }), { fail_mode: 'standalone', flood_vlans: ['set', [1, 3]] });
  assert.equal(await upd({ fail_mode: ['set', []] }), { fail_mode: ['set', []] });
});

t('monitor (v1) with _version, select flags, and set_db_change_aware', async () => {
  const c = await connect();
  const notes = new Notes(c);
  assert.equal(await c.request('set_db_change_aware', [true]), {});
  const init = (await c.request('monitor', ['Open_vSwitch', null, { Open_vSwitch: { columns: ['next_cfg', '_version'], select: { initial: true, modify: true } } }])) as Record<string, Record<string, { new: Record<string, unknown> }>>;
  const [uuid, row] = Object.entries(init.Open_vSwitch)[0];
  const v0 = row.new._version;
  await srv.db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
  const n = await notes.next('an update', (m) => m.method === 'update');
  const [id, upd] = n.params as [null, Record<string, Record<string, { old: Record<string, unknown>; new: Record<string, unknown> }>>];
  assert.is(id, null);
  const u = upd.Open_vSwitch[uuid];
  assert.is(u.old.next_cfg, 0);
  assert.is(u.new.next_cfg, 1);
  assert.not.equal(u.new._version, v0);
  assert.is((await c.requestMessage('monitor', ['Open_vSwitch', null, { Nope: {} }])).error !== null, true);
});

t('locks: lock, queued lock gets "locked"; steal sends "stolen"; assert', async () => {
  const a = await connect();
  const b = await connect();
  const bNotes = new Notes(b);
  assert.equal(await a.request('lock', ['L']), { locked: true });
  assert.equal(await b.request('lock', ['L']), { locked: false });
  const as = (await a.request('transact', ['Open_vSwitch', { op: 'assert', lock: 'L' }])) as unknown[];
  assert.equal(as, [{}]);
  assert.is(((await a.requestMessage('lock', ['L'])).error as { details: string }).details, 'must issue "unlock" before new "lock"');
  assert.is(((await a.requestMessage('unlock', ['other'])).error as { error: string }).error, 'syntax error');
  const bs = (await b.request('transact', ['Open_vSwitch', { op: 'assert', lock: 'L' }])) as { error: string }[];
  assert.is(bs[0].error, 'not owner');
  assert.equal(await a.request('unlock', ['L']), {});
  const ln = await bNotes.next('"locked"', (m) => m.method === 'locked');
  assert.equal(ln.params, ['L']);
  assert.equal(await a.request('steal', ['L']), { locked: true });
  assert.equal((await bNotes.next('"stolen"', (m) => m.method === 'stolen')).params, ['L']);
  a.close();
  await bNotes.next('"locked" again once the thief is gone', (m) => m.method === 'locked', bNotes.list.indexOf(ln) + 1);
});

t('cancel: a blocked wait is answered with "canceled"', async () => {
  const c = await connect();
  const p = c.requestMessage('transact', ['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [['name', '==', 'never']], columns: ['name'], until: '==', rows: [{ name: 'never' }], timeout: 60000 }]);
  // A request sent after the transact is answered after the server has handled the transact
  // (one connection is read in order): only then is there a blocked transaction to cancel.
  assert.equal(await c.request('echo', ['after']), ['after']);
  c.notify('cancel', [1]); // the first request on c has id 1
  const r = await p;
  assert.is((r.error as { error: string }).error, 'canceled');
});

t.after(async () => {
  for (const c of clients) c.close();
  await srv?.close();
  removeTempDirs();
});
t.run();
