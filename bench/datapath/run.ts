/**
 * Datapath benchmark: two netns hosts, measured three ways in one run:
 *   bvs     a bvs datapath with one wildcard flow per direction (in_port(N) -> output)
 *   bridge  a Linux bridge
 *   veth    a direct veth pair between the two namespaces (the floor of the cost)
 * For each: TCP throughput (iperf3, one stream) and small-packet UDP packets/s (iperf3 -u, 64-byte
 * payloads, unlimited rate, counted at the receiver). Then bvs hit throughput with 1, 8 and 32
 * masks installed (the extra masks never match; the real flows' mask is installed last).
 * Prints a table with the ratio bvs / Linux bridge. Not a test: it asserts nothing.
 *
 *   node --import tsx bench/datapath/run.ts [--seconds N]
 */
import { execFileSync, spawn } from 'node:child_process';
import { Datapath, removePins } from '../../src/datapath/datapath.ts';
import { emptyKey } from '../../src/datapath/flow.ts';
import { uniqueTag } from '../../tests/helpers/netns.ts';

const secs = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;
const tag = uniqueTag();
const nsA = `bvb-${tag}-a`;
const nsB = `bvb-${tag}-b`;
const pinRoot = `/sys/fs/bpf/bvs-bench-${tag}`;
process.env.BVS_PIN_DIR = pinRoot;

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd: string, ...args: string[]) => { try { run(cmd, ...args); } catch { /* absent */ } };
const inNs = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args);

function setupHosts(): void {
  for (const ns of [nsA, nsB]) {
    run('ip', 'netns', 'add', ns);
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
  }
}

function hostEnd(ns: string, peer: string, ip: string): void {
  run('ip', 'link', 'set', peer, 'netns', ns);
  inNs(ns, 'ip', 'link', 'set', peer, 'name', 'eth0');
  inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
}

function clearHosts(): void {
  for (const ns of [nsA, nsB]) tryRun('ip', 'netns', 'exec', ns, 'ip', 'link', 'del', 'eth0');
}

type Mode = 'veth' | 'bridge' | 'bvs';
let dp: Datapath | undefined;
const DP = `bench${tag}`;
const pa = `bvb${tag}a`;
const pb = `bvb${tag}b`;
const br = `bvb${tag}br`;

function topology(mode: Mode): void {
  clearHosts();
  if (mode === 'veth') {
    run('ip', 'link', 'add', 'vbA', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'vbB', 'netns', nsB);
    inNs(nsA, 'ip', 'link', 'set', 'vbA', 'name', 'eth0');
    inNs(nsB, 'ip', 'link', 'set', 'vbB', 'name', 'eth0');
    inNs(nsA, 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'eth0');
    inNs(nsB, 'ip', 'addr', 'add', '10.99.0.2/24', 'dev', 'eth0');
    inNs(nsA, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(nsB, 'ip', 'link', 'set', 'eth0', 'up');
    return;
  }
  run('ip', 'link', 'add', pa, 'type', 'veth', 'peer', 'name', `${pa}x`);
  run('ip', 'link', 'add', pb, 'type', 'veth', 'peer', 'name', `${pb}x`);
  hostEnd(nsA, `${pa}x`, '10.99.0.1');
  hostEnd(nsB, `${pb}x`, '10.99.0.2');
  for (const p of [pa, pb]) run('ip', 'link', 'set', p, 'up');
  if (mode === 'bridge') {
    run('ip', 'link', 'add', br, 'type', 'bridge');
    run('ip', 'link', 'set', pa, 'master', br);
    run('ip', 'link', 'set', pb, 'master', br);
    run('ip', 'link', 'set', br, 'up');
  } else {
    dp = Datapath.create(DP);
    dp.addPort(pa);
    dp.addPort(pb);
  }
}

function teardown(): void {
  tryRun('ip', 'link', 'del', pa);
  tryRun('ip', 'link', 'del', pb);
  tryRun('ip', 'link', 'del', br);
  if (dp) { dp.close(); dp = undefined; }
  try { if (Datapath.exists(DP)) Datapath.destroy(DP); } catch { /* gone */ }
}

/** Install `extra` never-matching masks, then the two real flows (their mask comes last). */
function bvsFlows(extra: number): void {
  if (!dp) return;
  dp.flushFlows();
  for (let i = 0; i < extra; i++) {
    const mask = { ...emptyKey(), inPort: 0xffffffff, tpDst: 0xffff >>> (i % 16), ipv4Dst: (0xffffffff << (i % 32)) >>> 0 };
    dp.putFlow({ ...emptyKey(), inPort: 999 }, mask, [], 'add');
  }
  const m = { ...emptyKey(), inPort: 0xffffffff };
  dp.putFlow({ ...emptyKey(), inPort: 1 }, m, [{ type: 'output', port: 2 }], 'add');
  dp.putFlow({ ...emptyKey(), inPort: 2 }, m, [{ type: 'output', port: 1 }], 'add');
}

async function iperf(args: string[]): Promise<{ bps: number; pps: number }> {
  const server = spawn('ip', ['netns', 'exec', nsB, 'iperf3', '-s', '-1', '-p', '5299'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  try {
    const out = inNs(nsA, 'iperf3', '-c', '10.99.0.2', '-p', '5299', '-t', String(secs), '-J', ...args);
    const j = JSON.parse(out);
    const sum = j.end.sum_received ?? j.end.sum;
    if (args.includes('-u')) {
      const rx = j.end.sum.packets - j.end.sum.lost_packets;
      return { bps: j.end.sum.bits_per_second, pps: rx / j.end.sum.seconds };
    }
    return { bps: sum.bits_per_second, pps: 0 };
  } finally {
    server.kill('SIGKILL');
  }
}

const tcp = () => iperf([]);
const udp = () => iperf(['-u', '-b', '0', '-l', '64']);

async function main(): Promise<void> {
  const rows: string[][] = [];
  const res: Record<string, { tcp: number; udp: number }> = {};
  try {
    setupHosts();
    for (const mode of ['veth', 'bridge', 'bvs'] as Mode[]) {
      topology(mode);
      bvsFlows(0);
      res[mode] = { tcp: (await tcp()).bps, udp: (await udp()).pps };
      teardown();
    }
    topology('bvs');
    const masks: Record<number, { tcp: number; udp: number }> = {};
    for (const n of [1, 8, 32]) {
      bvsFlows(n - 1);
      masks[n] = { tcp: (await tcp()).bps, udp: (await udp()).pps };
    }
    teardown();
    const g = (b: number) => (b / 1e9).toFixed(2);
    const k = (p: number) => (p / 1e3).toFixed(0);
    rows.push(['path', 'TCP Gbit/s', 'UDP 64B kpps']);
    for (const m of ['veth', 'bridge', 'bvs']) rows.push([m, g(res[m].tcp), k(res[m].udp)]);
    rows.push(['bvs / bridge', (res.bvs.tcp / res.bridge.tcp).toFixed(2), (res.bvs.udp / res.bridge.udp).toFixed(2)]);
    for (const n of [1, 8, 32]) rows.push([`bvs, ${n} mask${n > 1 ? 's' : ''}`, g(masks[n].tcp), k(masks[n].udp)]);
    const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(`datapath benchmark (${secs}s per figure, kernel ${run('uname', '-r').trim()}, ${run('nproc').trim()} CPUs)`);
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
  } finally {
    teardown();
    for (const ns of [nsA, nsB]) tryRun('ip', 'netns', 'del', ns);
    removePins(pinRoot);
  }
}

await main();
