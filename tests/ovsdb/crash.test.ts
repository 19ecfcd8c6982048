/** Crash safety end to end: `bin/bvs ovsdb-server` as a child, SIGKILLed mid-stream. */
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../helpers/wait.ts';
import { BVS, connect, killChildren, removeTempDirs, run, serverLog, spawnServer, tempDir, waitExit } from './helpers.ts';

const t = suite('ovsdb-crash');
const SCHEMA = { name: 'Crash', version: '1.0.0', tables: { T: { isRoot: true, columns: { client: { type: 'integer' }, n: { type: 'integer' } } } } };

async function setup(): Promise<{ dir: string; db: string; sock: string }> {
  const dir = tempDir('crash');
  const db = path.join(dir, 'crash.db');
  writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(SCHEMA));
  const r = await run(BVS, ['ovsdb-tool', 'create', db, path.join(dir, 'schema.json')]);
  assert.is(r.code, 0, r.stderr);
  return { dir, db, sock: path.join(dir, 'db.sock') };
}

async function rowsOf(sock: string): Promise<Set<string>> {
  const c = await connect(sock);
  try {
    const r = (await c.transact('Crash', [{ op: 'select', table: 'T', where: [] }])) as { rows: { client: number; n: number }[] }[];
    return new Set(r[0].rows.map((x) => `${x.client}/${x.n}`));
  } finally {
    c.close();
  }
}

t('kill -9 during a stream of transactions loses none that were acknowledged', async () => {
  const { db, sock } = await setup();
  const child = await spawnServer(db, sock);
  const acked = new Set<string>();
  let stop = false;
  const clients = await Promise.all([0, 1, 2, 3].map(() => connect(sock)));
  const streams = clients.map(async (c, client) => {
    for (let n = 0; !stop && !c.closed; n++) {
      const results = await c.transact('Crash', [{ op: 'insert', table: 'T', row: { client, n } }]).catch(() => null);
      if (!results) return; // the server died before answering: not acknowledged
      if (!results.some((x) => x.error)) acked.add(`${client}/${n}`);
    }
  });
  // Kill it mid-stream: once a real stream has been acknowledged, with all four still sending.
  await waitFor('a stream of acknowledged transactions', () => acked.size > 100);
  child.kill('SIGKILL');
  await waitExit(child);
  stop = true;
  await Promise.all(streams);
  for (const c of clients) c.close();
  assert.ok(acked.size > 100, `a real stream ran (${acked.size} acked)`);
  const child2 = await spawnServer(db, sock);
  try {
    const have = await rowsOf(sock);
    const lost = [...acked].filter((k) => !have.has(k));
    assert.equal(lost, [], 'no acknowledged transaction was lost');
  } finally {
    child2.kill('SIGTERM');
    await waitExit(child2);
  }
});

t('a server started on a journal with a torn tail warns, drops it, and serves the rest', async () => {
  const { db, sock } = await setup();
  const child = await spawnServer(db, sock);
  const c = await connect(sock);
  for (let n = 0; n < 5; n++) await c.transact('Crash', [{ op: 'insert', table: 'T', row: { client: 9, n } }]);
  c.close();
  child.kill('SIGTERM');
  await waitExit(child);
  const size = statSync(db).size;
  const text = readFileSync(db, 'latin1');
  const lastStart = text.lastIndexOf('OVSDB JSON');
  truncateSync(db, lastStart + Math.floor((size - lastStart) / 2));
  const child2 = await spawnServer(db, sock);
  try {
    const have = await rowsOf(sock);
    assert.equal([...have].sort(), ['9/0', '9/1', '9/2', '9/3']);
    assert.is(statSync(db).size, lastStart, 'file truncated to the last complete record');
    assert.match(serverLog(child2), /warning: .*truncated.*dropping/);
  } finally {
    child2.kill('SIGTERM');
    await waitExit(child2);
  }
});

t('CLI: bad remotes are named; --unix-mode sets the socket mode', async () => {
  const { db, sock } = await setup();
  let r = await run(BVS, ['ovsdb-server', db, '--remote', 'tcp:1.2.3.4']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /remote "tcp:1.2.3.4": expected punix:PATH or ptcp:PORT\[:IP\]/);
  r = await run(BVS, ['ovsdb-server', db, '--remote', `punix:${sock}`, '--unix-mode', '999']);
  assert.match(r.stderr, /--unix-mode 999/);
  r = await run(BVS, ['ovsdb-tool', 'create', db]);
  assert.is(r.code, 1, 'create refuses to overwrite');
  // spawnServer returns once the server accepts a connection: it has made the socket by then.
  const child = await spawnServer(db, sock, ['--unix-mode', '0660']);
  try {
    assert.is(statSync(sock).mode & 0o777, 0o660);
  } finally {
    child.kill('SIGTERM');
    await waitExit(child);
  }
});

t.after(() => {
  killChildren();
  removeTempDirs();
});
t.run();
