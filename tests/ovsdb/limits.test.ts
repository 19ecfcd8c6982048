/**
 * Hostile and broken input against the real `bvs ovsdb-server` process (issue 9, D1-D4): every
 * violation closes that one connection, the process keeps serving the others, and nothing is
 * stored. Plus the output backlog: a client that never reads costs a bounded amount of memory.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { JsonSplitter } from '../../src/ovsdb/index.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('ovsdb-limits');
const BVS = path.resolve(import.meta.dirname, '../../bin/bvs');
// /dev/shm: fsync costs nothing there, so 10k commits take seconds, not minutes.
const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `bvs-limits-${process.pid}-`));
const DB = path.join(dir, 'conf.db');
const SOCK = path.join(dir, 'db.sock');
let server: ChildProcess;
let stderr = '';

/** A raw connection: what we send, what comes back, and when it closes. */
class Raw {
  readonly sock: net.Socket;
  readonly msgs: Record<string, unknown>[] = [];
  closed = false;
  private splitter = new JsonSplitter();
  constructor(read = true) {
    this.sock = net.createConnection(SOCK);
    this.sock.on('error', () => { this.closed = true; });
    this.sock.on('close', () => { this.closed = true; });
    if (read) this.sock.on('data', (d: Buffer) => { for (const x of this.splitter.push(d)) this.msgs.push(JSON.parse(x)); });
    else this.sock.pause();
  }
  connected(): Promise<void> { return new Promise((r) => this.sock.once('connect', () => r())); }
  send(text: string | Buffer): void { if (!this.closed) this.sock.write(text); }
  reply(id: number): Promise<Record<string, unknown>> {
    return waitFor(`reply ${id}`, () => this.msgs.find((m) => m.id === id));
  }
  close(): void { this.sock.destroy(); }
}

async function echoWorks(): Promise<void> {
  const c = new Raw();
  await c.connected();
  c.send('{"method":"echo","params":["still here"],"id":7}');
  assert.equal((await c.reply(7)).result, ['still here']);
  c.close();
}

function procStat(pid: number): { rssKiB: number; cpuS: number } {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssKiB: rss, cpuS: (Number(f[11]) + Number(f[12])) / 100 };
}

t.before(async () => {
  execFileSync(BVS, ['ovsdb-tool', 'create', DB]);
  server = spawn(BVS, ['ovsdb-server', DB, '--remote', `punix:${SOCK}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr!.on('data', (d) => { stderr += String(d); });
  await waitFor('the server socket', () => fs.existsSync(SOCK) && echoWorks().then(() => true, () => false));
  const c = new Raw();
  await c.connected();
  c.send('{"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{}}],"id":1}');
  assert.not.ok(JSON.stringify((await c.reply(1)).result).includes('error'));
  c.close();
});

t.after(() => {
  server?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

t('D1: nesting deeper than 1000 closes that connection; the server keeps serving', async () => {
  const c = new Raw();
  await c.connected();
  const d = 10_000;
  c.send(`{"method":"echo","params":[${'['.repeat(d)}${']'.repeat(d)}],"id":1}`);
  await waitFor('the connection to close', () => c.closed);
  assert.is(c.msgs.length, 0);
  await waitFor('the reason in the log', () => /maximum nesting depth 1000/.test(stderr));
  assert.is(server.exitCode, null, 'still running');
  await echoWorks();
  // Deep but within the limit: answered.
  const ok = new Raw();
  await ok.connected();
  ok.send(`{"method":"echo","params":[${'['.repeat(900)}${']'.repeat(900)}],"id":2}`);
  assert.ok(Array.isArray((await ok.reply(2)).result));
  ok.close();
});

t('D3: a 100 MB value is refused after 64 MiB, in linear time', async () => {
  const before = procStat(server.pid!).cpuS;
  const c = new Raw();
  await c.connected();
  const chunk = Buffer.alloc(1 << 20, 0x20);
  chunk.write('{"method":"echo","params":["');
  chunk.fill(0x61, 30);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!c.closed && sent < 100) {
        sent++;
        if (!c.sock.write(sent === 1 ? chunk : chunk.fill(0x61))) return void c.sock.once('drain', pump);
      }
      resolve();
    };
    c.sock.once('close', resolve);
    pump();
  });
  await waitFor('the connection to close', () => c.closed);
  assert.ok(sent < 100, `refused before the end (sent ${sent} MiB)`);
  const cpu = procStat(server.pid!).cpuS - before;
  // Quadratic buffering took 31-47 s of CPU for this; a linear scan of 64 MiB takes well under 5.
  assert.ok(cpu < 5, `server CPU for the message: ${cpu} s`);
  await echoWorks();
});

t('D4: invalid UTF-8 is refused, not stored as U+FFFD; an id of 1e400 is refused', async () => {
  const c = new Raw();
  await c.connected();
  const bad = Buffer.concat([
    Buffer.from('{"method":"transact","params":["Open_vSwitch",{"op":"update","table":"Open_vSwitch","where":[],"row":{"external_ids":["map",[["k","'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"]]]}}],"id":3}'),
  ]);
  c.send(bad);
  await waitFor('the connection to close', () => c.closed);
  assert.is(c.msgs.length, 0);
  const r = new Raw();
  await r.connected();
  r.send('{"method":"transact","params":["Open_vSwitch",{"op":"select","table":"Open_vSwitch","where":[],"columns":["external_ids"]}],"id":4}');
  const rows = ((await r.reply(4)).result as { rows: { external_ids: unknown }[] }[])[0]!.rows;
  assert.equal(rows[0]!.external_ids, ['map', []], 'nothing was stored');
  r.close();
  const n = new Raw();
  await n.connected();
  n.send('{"method":"echo","params":[],"id":1e400}');
  await waitFor('the connection to close', () => n.closed);
  assert.is(n.msgs.length, 0, 'no reply with "id": null');
  await waitFor('the reason in the log', () => /number outside valid range/.test(stderr));
  await echoWorks();
});

t('D2: a monitor client that never reads costs bounded memory over 10k commits', async () => {
  const stuck = new Raw(false);
  await stuck.connected();
  stuck.send('{"method":"monitor","params":["Open_vSwitch","m",{"Open_vSwitch":{}}],"id":1}');
  const w = new Raw();
  await w.connected();
  // Let the first commits go out while the stuck client's socket still takes them, then
  // measure from there.
  const commit = (id: number): string => JSON.stringify({ method: 'transact', id, params: ['Open_vSwitch',
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    { op: 'update', table: 'Open_vSwitch', where: [], row: { external_ids: ['map', [['pad', 'x'.repeat(2000)], ['n', String(id)]]] } }] });
  for (let i = 1; i <= 500; i++) w.send(commit(10 + i));
  await w.reply(510);
  const rss0 = procStat(server.pid!).rssKiB;
  const N = 10_000;
  for (let i = 1; i <= N; i++) {
    w.send(commit(1000 + i));
    if (i % 500 === 0) await w.reply(1000 + i);
  }
  await w.reply(1000 + N);
  const grown = (procStat(server.pid!).rssKiB - rss0) / 1024;
  // Each commit's update is ~2.2 kB: 10k of them queued would be 22 MB of strings (and was
  // 120 MiB of RSS). Held and coalesced, they are one row. 32 MiB allows for GC slack.
  assert.ok(grown < 32, `RSS grew by ${grown.toFixed(1)} MiB over ${N} commits`);
  assert.not.ok(stuck.closed, 'a slow client is held back, not dropped');
  // Once it reads, it gets one coalesced update with the latest row.
  const got: Record<string, unknown>[] = [];
  const sp = new JsonSplitter();
  stuck.sock.on('data', (d: Buffer) => { for (const x of sp.push(d)) got.push(JSON.parse(x)); });
  stuck.sock.resume();
  const last = await waitFor('the update with the last commit', () => got.find((m) => m.method === 'update'
    && JSON.stringify(m.params).includes(`"n","${1000 + N}"`)));
  assert.ok(got.filter((m) => m.method === 'update').length < 600, `updates received: ${got.length}`);
  assert.ok(last);
  stuck.close();
  w.close();
});

t.run();
