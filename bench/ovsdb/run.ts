/**
 * OVSDB benchmark: bvs ovsdb-server vs Debian's ovsdb-server (OVS 3.1), same machine, same run,
 * each in its own temp dir, same client (the product's OvsdbClient, as the tests use), same schemas.
 *
 * Durability: ovsdb-server (standalone) fsyncs its log only for transactions that carry
 * {"op":"commit","durable":true} (checked with strace: fdatasync before the reply; without it no
 * fsync at all). bvs fsyncs every commit before replying. So the tx/s figures send
 * commit durable:true to both ("fsync on" for both). ovs-vsctl sends no durable commit, so in the
 * add-port figure ovsdb-server does not fsync while bvs does; it is printed as measured.
 *
 *   node --import tsx bench/ovsdb/run.ts [--quick]
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import { OvsdbClient } from '../../src/vsctl/index.ts';
import { connectWhenUp } from '../../tests/helpers/ovsdb.ts';

const QUICK = process.argv.includes('--quick');
const ROOT = path.resolve(import.meta.dirname, '../..');
const OVS_SCHEMA = existsSync('/usr/share/openvswitch/vswitch.ovsschema') ? '/usr/share/openvswitch/vswitch.ovsschema' : VSWITCH_SCHEMA_PATH;
const BENCH_SCHEMA = {
  name: 'Bench',
  version: '1.0.0',
  tables: { T: { isRoot: true, columns: { name: { type: 'string' }, n: { type: 'integer' }, external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } } } } },
};
const SECONDS = QUICK ? 0.5 : 1.5;
const ROUNDS = QUICK ? 2 : 7;
const ADD_PORTS = QUICK ? 50 : 1000;
const ROUNDS_VSCTL = QUICK ? 2 : 10;
const MON_SAMPLES = QUICK ? 50 : 100;

interface Server {
  name: string;
  child: ChildProcess;
  sock: string;
}
const children: ChildProcess[] = [];
const dirs: string[] = [];

async function waitSock(sock: string, child: ChildProcess): Promise<void> {
  (await connectWhenUp(sock, child)).close();
}

const connect = (sock: string): Promise<OvsdbClient> => OvsdbClient.connect(`unix:${sock}`);

/** A transaction whose every operation must succeed (a failed one would make a figure meaningless). */
async function transactOk(c: OvsdbClient, ops: unknown[]): Promise<void> {
  const r = await c.transact('Bench', ops);
  for (const x of r) if ('error' in x) throw new Error(`transact: ${JSON.stringify(x)}`);
}

async function startOvs(schema: string, tag: string): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), `bvs-bench-ovs-${tag}-`));
  dirs.push(dir);
  const db = path.join(dir, 'conf.db');
  execFileSync('/usr/bin/ovsdb-tool', ['create', db, schema]);
  const sock = path.join(dir, 'db.sock');
  const child = spawn('/usr/sbin/ovsdb-server', [db, `--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'ctl')}`, '--no-chdir', `--log-file=${path.join(dir, 'log')}`], { stdio: 'ignore' });
  children.push(child);
  await waitSock(sock, child);
  return { name: 'ovsdb-server', child, sock };
}

async function startBvs(schema: string, tag: string): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), `bvs-bench-bvs-${tag}-`));
  dirs.push(dir);
  const db = path.join(dir, 'conf.db');
  execFileSync(path.join(ROOT, 'bin/bvs'), ['ovsdb-tool', 'create', db, schema]);
  const sock = path.join(dir, 'db.sock');
  const child = spawn(path.join(ROOT, 'bin/bvs'), ['ovsdb-server', db, '--remote', `punix:${sock}`], { stdio: 'ignore' });
  children.push(child);
  await waitSock(sock, child);
  return { name: 'bvs', child, sock };
}

async function stop(s: Server): Promise<void> {
  s.child.kill('SIGTERM');
  if (s.child.exitCode === null) await new Promise((r) => s.child.once('exit', r));
}

const insertOps = (name: string, n: number): unknown[] => [{ op: 'insert', table: 'T', row: { name, n, external_ids: ['map', [['k', String(n)]]] } }, { op: 'commit', durable: true }];

/** Transactions/second for `clients` clients, each committing inserts back to back for SECONDS. */
async function insertRate(sock: string, clients: number): Promise<number> {
  const cs = await Promise.all(Array.from({ length: clients }, () => connect(sock)));
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    cs.map(async (c, i) => {
      for (let n = 0; Date.now() < end; n++) {
        await transactOk(c, insertOps(`c${i}`, n));
        done++;
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of cs) c.close();
  return done / secs;
}

/** Median and p99 (ms) from sending an insert to the monitor's notification arriving. */
async function monitorLatency(sock: string): Promise<{ samples: number[] }> {
  const watcher = await connect(sock);
  const writer = await connect(sock);
  let pending: ((t: bigint) => void) | null = null;
  watcher.onNotify((method) => {
    if (method === 'update2' && pending) pending(process.hrtime.bigint());
  });
  await watcher.request('monitor_cond', ['Bench', 'lat', { T: [{ columns: ['name', 'n'], select: { initial: false } }] }]);
  const samples: number[] = [];
  const writes: Promise<void>[] = []; // not awaited per sample (the figure ends at the notification), only before closing
  for (let i = 0; i < MON_SAMPLES; i++) {
    const got = new Promise<bigint>((r) => (pending = r));
    const t0 = process.hrtime.bigint();
    writes.push(transactOk(writer, insertOps('lat', i)));
    const t1 = await got;
    pending = null;
    samples.push(Number(t1 - t0) / 1e6);
  }
  await Promise.all(writes);
  watcher.close();
  writer.close();
  return { samples };
}

function vsctlRun(sock: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ovs-vsctl', ['--no-wait', `--db=unix:${sock}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ovs-vsctl ${args.join(' ')}: ${err}`))));
  });
}

interface Row {
  metric: string;
  bvs: number;
  ovs: number;
  unit: string;
  higherIsBetter: boolean;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The machine is shared (2 cores, other jobs), so the servers take turns: ROUNDS short rounds,
 * alternating which goes first, and each figure is the median over rounds. Both servers run the
 * whole time; only one is loaded at a time.
 */
async function alternate<T>(ovs: Server, bvs: Server, rounds: number, fn: (s: Server) => Promise<T>): Promise<{ ovs: T[]; bvs: T[] }> {
  const out = { ovs: [] as T[], bvs: [] as T[] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? [bvs, ovs] : [ovs, bvs];
    for (const s of order) (s === ovs ? out.ovs : out.bvs).push(await fn(s));
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bvs-bench-schema-'));
  dirs.push(dir);
  const benchSchema = path.join(dir, 'bench.ovsschema');
  writeFileSync(benchSchema, JSON.stringify(BENCH_SCHEMA));
  const rows: Row[] = [];
  const servers = [await startOvs(benchSchema, 'b'), await startBvs(benchSchema, 'b'), await startOvs(OVS_SCHEMA, 'v'), await startBvs(OVS_SCHEMA, 'v')];
  const [ovsB, bvsB, ovsV, bvsV] = servers;
  try {
    const seq = await alternate(ovsB, bvsB, ROUNDS, (s) => insertRate(s.sock, 1));
    rows.push({ metric: 'insert tx/s, 1 client (durable)', ovs: median(seq.ovs), bvs: median(seq.bvs), unit: 'tx/s', higherIsBetter: true });
    const conc = await alternate(ovsB, bvsB, ROUNDS, (s) => insertRate(s.sock, 8));
    rows.push({ metric: 'insert tx/s, 8 clients (durable)', ovs: median(conc.ovs), bvs: median(conc.bvs), unit: 'tx/s', higherIsBetter: true });
    const lat = await alternate(ovsB, bvsB, ROUNDS, (s) => monitorLatency(s.sock));
    const all = (xs: number[][]): number[] => xs.flat();
    rows.push({ metric: 'monitor latency p50', ovs: median(all(lat.ovs.map((l) => l.samples))), bvs: median(all(lat.bvs.map((l) => l.samples))), unit: 'ms', higherIsBetter: false });
    const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
    rows.push({ metric: 'monitor latency p99', ovs: p99(all(lat.ovs.map((l) => l.samples))), bvs: p99(all(lat.bvs.map((l) => l.samples))), unit: 'ms', higherIsBetter: false });
    for (const s of [ovsV, bvsV]) {
      await vsctlRun(s.sock, ['init']);
      await vsctlRun(s.sock, ['add-br', 'br0']);
    }
    let next = { ovs: 0, bvs: 0 };
    const batch = ADD_PORTS / ROUNDS_VSCTL;
    const ports = await alternate(ovsV, bvsV, ROUNDS_VSCTL, async (s) => {
      const key = s === ovsV ? 'ovs' : 'bvs';
      const t0 = Date.now();
      for (let i = 0; i < batch; i++) await vsctlRun(s.sock, ['add-port', 'br0', `p${next[key]++}`]);
      return (Date.now() - t0) / 1000;
    });
    next = { ovs: 0, bvs: 0 };
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    rows.push({ metric: `${ADD_PORTS} x ovs-vsctl --no-wait add-port`, ovs: sum(ports.ovs), bvs: sum(ports.bvs), unit: 's', higherIsBetter: false });
  } finally {
    for (const s of servers) await stop(s);
  }

  const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  console.log(`add-port uses ${OVS_SCHEMA} on both servers; tx/s and latency use a one-table root schema on both.`);
  console.log(`${ROUNDS} alternating rounds of ${SECONDS}s per rate figure (median), ${ROUNDS * MON_SAMPLES} latency samples per server.`);
  console.log(`| metric | bvs | ovsdb-server 3.1 | ratio (>1 = bvs better) |`);
  console.log(`|---|---|---|---|`);
  for (const r of rows) {
    const ratio = r.higherIsBetter ? r.bvs / r.ovs : r.ovs / r.bvs;
    console.log(`| ${r.metric} | ${fmt(r.bvs)} ${r.unit} | ${fmt(r.ovs)} ${r.unit} | ${ratio.toFixed(2)} |`);
  }
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
