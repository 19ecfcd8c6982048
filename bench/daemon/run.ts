/**
 * Daemon fast-path benchmark: two netns hosts (A sends, B receives) joined three ways, in one
 * run:
 *   bvs     a bvs datapath driven by the daemon's fast path: BridgeRuntime + the upcall and
 *           revalidator actors (the code `bvs daemon` runs per bridge), in this process
 *   bridge  a Linux bridge
 *   ovs     Debian's ovs-vswitchd with its userspace (netdev) datapath, private ovsdb-server
 * Measured:
 *   1. flow setup rate (bvs, and ovs as a peer): with the OpenFlow rule
 *      `udp,actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG0[0..15],output:2`, translation reads
 *      tp_dst, so every new UDP destination port is a new megaflow. A sends N datagrams to N
 *      ports (bench/daemon/udpflood.c, sendmmsg); we count megaflows installed per second
 *      while the handler is busy;
 *   2. first-packet latency: ping RTTs with every megaflow flushed before each trial; the first
 *      RTT pays two upcalls (request and reply), the later ones none;
 *   3. forwarding throughput: iperf3 TCP, one stream, and UDP 64-byte packets/s.
 * Prints a table with ratios. Not a test: it asserts nothing.
 *
 *   node --import tsx bench/daemon/run.ts [--seconds N] [--flows N] [--trials N]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor, type AnyActorRef } from 'xstate';
import { addon } from '../../src/datapath/addon.ts';
import { Datapath, removePins } from '../../src/datapath/datapath.ts';
import { revalidatorMachine } from '../../src/actors/revalidator.machine.ts';
import { upcallMachine } from '../../src/actors/upcall.machine.ts';
import { BridgeRuntime } from '../../src/vswitch/index.ts';
import { uniqueTag } from '../../tests/helpers/netns.ts';
import { OvsPeer } from './ovs.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const secs = arg('--seconds', 5);
const nFlows = arg('--flows', 50_000);
const trials = arg('--trials', 20);
const rates = process.argv.includes('--rates') ? process.argv[process.argv.indexOf('--rates') + 1]!.split(',').map(Number) : [20_000, 40_000, 60_000, 0];
const onlySetup = process.argv.includes('--only-setup');
const modes = process.argv.includes('--modes') ? process.argv[process.argv.indexOf('--modes') + 1]!.split(',') : ['bvs', 'bridge', 'ovs'];
const tag = uniqueTag();
const nsA = `bvd-${tag}-a`, nsB = `bvd-${tag}-b`, nsS = `bvd-${tag}-s`;
const pa = `bvd${tag}a`, pb = `bvd${tag}b`, lbr = `bvd${tag}br`, obr = `bvd${tag}o`;
const DP = `bench${tag}`;
const IP_A = '10.98.0.1', IP_B = '10.98.0.2';
/** Flow-setup target: B's MAC (static ARP in A) but an address B does not have, so B's stack
 *  drops the datagrams quietly instead of answering each with an ICMP port unreachable. */
const IP_SINK = '10.98.0.99';
const pinRoot = `/sys/fs/bpf/bvs-bench-${tag}`;
process.env.BVS_PIN_DIR = pinRoot;
const work = mkdtempSync(join(tmpdir(), `bvs-bench-${tag}-`));
const FLOOD = join(work, 'udpflood');

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd: string, ...args: string[]) => { try { run(cmd, ...args); } catch { /* absent */ } };
const inNs = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };

function execAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err || code}`))));
  });
}

type Mode = 'bvs' | 'bridge' | 'ovs';

/** CPU seconds of this process: the bvs handler and revalidator (plus the bench's polling). */
const selfCpu = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

// ---- topology --------------------------------------------------------------------------------

function hosts(): void {
  const macs = { [nsA]: '02:00:00:98:00:01', [nsB]: '02:00:00:98:00:02' };
  for (const [ns, port, ip] of [[nsA, pa, IP_A], [nsB, pb, IP_B]] as const) {
    run('ip', 'netns', 'add', ns);
    run('ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}x`);
    run('ip', 'link', 'set', `${port}x`, 'netns', ns);
    inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    inNs(ns, 'ip', 'link', 'set', `${port}x`, 'name', 'eth0');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', macs[ns]!);
    inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    tryRun('sysctl', '-qw', `net.ipv6.conf.${port}.disable_ipv6=1`);
    run('ip', 'link', 'set', port, 'up');
  }
  inNs(nsA, 'ip', 'neigh', 'replace', IP_B, 'lladdr', macs[nsB]!, 'dev', 'eth0', 'nud', 'permanent');
  inNs(nsB, 'ip', 'neigh', 'replace', IP_A, 'lladdr', macs[nsA]!, 'dev', 'eth0', 'nud', 'permanent');
  inNs(nsA, 'ip', 'neigh', 'replace', IP_SINK, 'lladdr', macs[nsB]!, 'dev', 'eth0', 'nud', 'permanent');
}

let dp: Datapath | undefined;
let rt: BridgeRuntime | undefined;
let actors: AnyActorRef[] = [];
let ovs: OvsPeer | undefined;
const busy = { ms: 0, n: 0 };

function bvsUp(flows: string[]): BridgeRuntime {
  dp = Datapath.create(DP, { maxFlows: Math.max(65536, nFlows * 2) });
  {
    // Time spent in handleBatch (wall clock, so it includes preemption on a loaded machine).
    const d = dp, orig = d.openUpcalls.bind(d);
    d.openUpcalls = (cb, mb, onErr) => orig((b) => { const t = performance.now(); cb(b); busy.ms += performance.now() - t; busy.n += b.length; }, mb, onErr);
  }
  const r = new BridgeRuntime({ datapath: dp, maxIdleMs: 120_000, clock: { monotonicNs: () => addon().monotonicNs() } });
  dp.addPort(pa, { portNo: 1 });
  dp.addPort(pb, { portNo: 2 });
  r.addPort({ name: pa, ofport: 1 });
  r.addPort({ name: pb, ofport: 2 });
  r.flowMod({ op: 'add', flows });
  actors = [createActor(upcallMachine, { input: { runtime: r } }).start(),
    createActor(revalidatorMachine, { input: { udpif: r.udpif } }).start()];
  rt = r;
  return r;
}

function bvsDown(): void {
  for (const a of actors) a.stop();
  actors = [];
  rt = undefined;
  if (dp) { dp.close(); dp = undefined; }
  try { if (Datapath.exists(DP)) Datapath.destroy(DP); } catch { /* gone */ }
}

function bridgeUp(): void {
  run('ip', 'link', 'add', lbr, 'type', 'bridge');
  run('ip', 'link', 'set', pa, 'master', lbr);
  run('ip', 'link', 'set', pb, 'master', lbr);
  run('ip', 'link', 'set', lbr, 'up');
}

function bridgeDown(): void {
  tryRun('ip', 'link', 'del', lbr);
}

const SETUP_FLOWS = ['priority=10,udp,actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG0[0..15],output:2', 'priority=0,actions=NORMAL'];

// ---- 1. flow setup ---------------------------------------------------------------------------

interface SetupResult { rateOffered: number; flows: number; seconds: number; rate: number; offered: number; lost: number; cpuSeconds: number; perCpuSecond: number }

/**
 * Sends nFlows datagrams to new ports at `rate` per second (0 = as fast as the sender goes);
 * `count` reads the megaflows installed so far, `lost` the upcalls dropped at a full ring, `cpu`
 * the switch process's CPU seconds. The rate is the megaflows installed between the first and
 * the last change of the count; per CPU second is the switch's capacity with a core to itself.
 */
async function flowSetup(count: () => number, lost: () => number, pollMs: number, offered: number, cpu: () => number): Promise<SetupResult> {
  const base = count(), lost0 = lost();
  const cpu0 = cpu();
  let done = false;
  const sender = execAsync('ip', ['netns', 'exec', nsA, FLOOD, IP_SINK, '1', String(nFlows), String(offered)]).finally(() => { done = true; });
  let last = base, lastT = NaN, first = NaN;
  const start = performance.now();
  for (;;) {
    await sleep(pollMs);
    const n = count(), t = performance.now();
    if (n !== last) {
      if (Number.isNaN(first)) first = Math.max(start, t - pollMs);
      last = n; lastT = t;
    }
    if (done && t - (Number.isNaN(lastT) ? start : lastT) > 1000) break;
    if (t - (Number.isNaN(lastT) ? start : lastT) > 15_000) break;
  }
  const cpuSeconds = cpu() - cpu0;
  const sendSecs = Number((await sender).trim());
  const flows = last - base;
  const seconds = (lastT - first) / 1000;
  return { rateOffered: offered, flows, seconds, rate: flows / seconds, offered: nFlows / sendSecs, lost: lost() - lost0,
    cpuSeconds, perCpuSecond: flows / cpuSeconds };
}

// ---- 2. first-packet latency -----------------------------------------------------------------

/** ping RTTs (ms) of `trials` runs of 5 pings, calling `reset` before each run. */
async function firstVsLater(reset: () => Promise<void> | void): Promise<{ first: number; firstP90: number; later: number; firsts: number[] }> {
  const firsts: number[] = [], later: number[] = [];
  for (let i = 0; i < trials; i++) {
    await reset();
    // Asynchronously: the upcall handler runs on this process's event loop.
    const out = await execAsync('ip', ['netns', 'exec', nsA, 'ping', '-c', '5', '-i', '0.05', '-W', '1', IP_B]).catch((e: Error) => e.message);
    const rtts = [...out.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const f = rtts.find(([seq]) => seq === 1);
    if (f) firsts.push(f[1]);
    for (const [seq, ms] of rtts) if (seq > 1) later.push(ms);
  }
  const sorted = [...firsts].sort((a, b) => a - b);
  return { first: median(firsts), firstP90: sorted[Math.floor(sorted.length * 0.9)] ?? NaN, later: median(later), firsts };
}

// ---- 3. throughput ---------------------------------------------------------------------------

async function iperf(args: string[]): Promise<{ bps: number; pps: number }> {
  const server = spawn('ip', ['netns', 'exec', nsB, 'iperf3', '-s', '-1', '-p', '5298'], { stdio: 'ignore' });
  await sleep(300);
  try {
    const out = await execAsync('ip', ['netns', 'exec', nsA, 'iperf3', '-c', IP_B, '-p', '5298', '-t', String(secs), '-J', ...args]).catch((e: Error) => JSON.stringify({ error: e.message.slice(0, 300) }));
    const j = JSON.parse(out);
    if (j.error) { console.error(`iperf3 ${args.join(' ')}: ${j.error}`); return { bps: NaN, pps: NaN }; }
    if (args.includes('-u')) return { bps: j.end.sum.bits_per_second, pps: (j.end.sum.packets - j.end.sum.lost_packets) / j.end.sum.seconds };
    return { bps: (j.end.sum_received ?? j.end.sum).bits_per_second, pps: 0 };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

async function throughput(): Promise<{ tcp: number; udp: number }> {
  return { tcp: (await iperf([])).bps, udp: (await iperf(['-u', '-b', '0', '-l', '64'])).pps };
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  run('cc', '-O2', '-o', FLOOD, join(import.meta.dirname, 'udpflood.c'));
  const haveOvs = OvsPeer.available();
  const setup: Partial<Record<Mode, SetupResult>> = {};
  const lat: Partial<Record<Mode, { first: number; firstP90: number; later: number }>> = {};
  const tput: Partial<Record<Mode, { tcp: number; udp: number }>> = {};
  hosts();

  // bvs: flow setup at several offered rates (each on a fresh datapath), then the rest.
  const sweep: SetupResult[] = [];
  let r: BridgeRuntime;
  const progress = (what: string, v: unknown) => console.error(`[${new Date().toISOString()}] ${what}: ${JSON.stringify(v)}`);
  if (modes.includes('bvs')) {
  for (const offered of rates) {
    r = bvsUp(SETUP_FLOWS);
    sweep.push(await flowSetup(() => r.udpif.handler.flowsInstalled, () => Number(dp!.stats().lost), 5, offered, selfCpu));
    if (r.udpif.handler.errors) console.error(`bvs handler errors: ${r.udpif.handler.errors}`);
    bvsDown();
  }
  setup.bvs = sweep.reduce((a, b) => (b.rate > a.rate ? b : a));
  progress('bvs setup', sweep);
  if (onlySetup) { console.log(sweep, busy, busy.ms * 1000 / busy.n, 'us/upcall in handleBatch'); return; }
  r = bvsUp(['priority=0,actions=NORMAL']);
  lat.bvs = await firstVsLater(async () => { dp!.flushFlows(); r.udpif.ukeys.clear(); r.udpif.flowCount = 0; });
  progress('bvs latency', lat.bvs);
  tput.bvs = await throughput();
  progress('bvs throughput', tput.bvs);
  bvsDown();
  }

  // Linux bridge
  if (modes.includes('bridge')) {
    bridgeUp();
    lat.bridge = await firstVsLater(() => {});
    progress('bridge latency', lat.bridge);
    tput.bridge = await throughput();
    progress('bridge throughput', tput.bridge);
    bridgeDown();
  }

  // Open vSwitch, userspace datapath
  if (haveOvs && modes.includes('ovs')) {
    // OVS runs in its own netns (see ovs.ts): the switch ports move there.
    run('ip', 'netns', 'add', nsS);
    for (const p of [pa, pb]) {
      run('ip', 'link', 'set', p, 'netns', nsS);
      inNs(nsS, 'ip', 'link', 'set', p, 'up');
    }
    ovs = new OvsPeer(nsS);
    await ovs.start();
    ovs.addBridge(obr, [pa, pb]);
    ovs.ofctl('del-flows', obr);
    for (const f of SETUP_FLOWS) ovs.ofctl('add-flow', obr, f);
    ovs.appctl('upcall/set-flow-limit', String(Math.max(200_000, nFlows * 2)));
    await sleep(500);
    setup.ovs = await flowSetup(() => ovs!.flowCount(), () => ovs!.lost(), 50, 0, () => ovs!.cpuSeconds());
    progress('ovs setup', setup.ovs);
    ovs.ofctl('del-flows', obr);
    ovs.ofctl('add-flow', obr, 'priority=0,actions=NORMAL');
    lat.ovs = await firstVsLater(() => { ovs!.appctl('dpctl/del-flows'); });
    progress('ovs latency', lat.ovs);
    // The userspace datapath reads frames with AF_PACKET and cannot finish the partial
    // checksums a veth hands over: OVS's documented requirement is TX checksum offload off
    // on the hosts' interfaces (ICMP works without it, TCP and UDP do not).
    for (const ns of [nsA, nsB]) inNs(ns, 'ethtool', '-K', 'eth0', 'tx', 'off');
    tput.ovs = await throughput();
    progress('ovs throughput', tput.ovs);
    ovs.delBridge(obr);
  }

  // ---- report
  const f1 = (x: number) => x.toFixed(1), f3 = (x: number) => x.toFixed(3);
  const o = <T>(v: T | undefined, f: (x: T) => string): string => (v === undefined ? '-' : f(v));
  const rows: string[][] = [['measure', 'bvs', 'Linux bridge', 'OVS netdev', 'bvs/bridge', 'bvs/OVS']];
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '-');
  const sr = (m: Mode) => setup[m] ? `${Math.round(setup[m]!.rate)}` : '-';
  rows.push(['flow setups/s (wall clock)', sr('bvs'), 'n/a', sr('ovs'), '-', ratio(setup.bvs?.rate, setup.ovs?.rate)]);
  const pc = (m: Mode) => setup[m] ? `${Math.round(setup[m]!.perCpuSecond)}` : '-';
  rows.push(['flow setups per switch CPU-second', pc('bvs'), 'n/a', pc('ovs'), '-', ratio(setup.bvs?.perCpuSecond, setup.ovs?.perCpuSecond)]);
  rows.push(['first ping RTT ms (median)', o(lat.bvs, (x) => f3(x.first)), o(lat.bridge, (x) => f3(x.first)), o(lat.ovs, (x) => f3(x.first)), ratio(lat.bvs?.first, lat.bridge?.first), ratio(lat.bvs?.first, lat.ovs?.first)]);
  rows.push(['first ping RTT ms (p90)', o(lat.bvs, (x) => f3(x.firstP90)), o(lat.bridge, (x) => f3(x.firstP90)), o(lat.ovs, (x) => f3(x.firstP90)), ratio(lat.bvs?.firstP90, lat.bridge?.firstP90), ratio(lat.bvs?.firstP90, lat.ovs?.firstP90)]);
  rows.push(['later ping RTT ms (median)', o(lat.bvs, (x) => f3(x.later)), o(lat.bridge, (x) => f3(x.later)), o(lat.ovs, (x) => f3(x.later)), ratio(lat.bvs?.later, lat.bridge?.later), ratio(lat.bvs?.later, lat.ovs?.later)]);
  rows.push(['first-packet extra ms', ...(['bvs', 'bridge', 'ovs'] as const).map((m) => o(lat[m], (x) => f3(x.first - x.later))), '-', '-']);
  rows.push(['TCP Gbit/s (1 stream)', ...(['bvs', 'bridge', 'ovs'] as const).map((m) => o(tput[m], (x) => f1(x.tcp / 1e9))), ratio(tput.bvs?.tcp, tput.bridge?.tcp), ratio(tput.bvs?.tcp, tput.ovs?.tcp)]);
  rows.push(['UDP 64B kpps', ...(['bvs', 'bridge', 'ovs'] as const).map((m) => o(tput[m], (x) => f1(x.udp / 1e3))), ratio(tput.bvs?.udp, tput.bridge?.udp), ratio(tput.bvs?.udp, tput.ovs?.udp)]);
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((x) => x[c]!.length)));
  console.log(`daemon fast-path benchmark: kernel ${run('uname', '-r').trim()}, ${run('nproc').trim()} CPUs, ${secs}s per throughput figure, ${nFlows} flows, ${trials} latency trials`);
  for (const x of rows) console.log(x.map((c, i) => c.padEnd(w[i]!)).join('  '));
  console.log('flow setup runs (offered = new UDP ports/s the sender achieved; lost = misses dropped at a full upcall queue):');
  for (const [m, s] of [...sweep.map((x) => ['bvs', x] as const), ...(setup.ovs ? [['ovs', setup.ovs] as const] : [])]) {
    console.log(`  ${m.padEnd(3)} offered ${String(Math.round(s.offered)).padStart(6)}/s: ${s.flows} megaflows in ${s.seconds.toFixed(3)} s = ${Math.round(s.rate)}/s, lost ${s.lost}, switch CPU ${s.cpuSeconds.toFixed(2)} s`);
  }
  console.log(`bvs handler: ${(busy.ms * 1000 / busy.n).toFixed(1)} us of wall clock per upcall inside handleBatch (${busy.n} upcalls)`);
  console.log(`load average at the end: ${run('cat', '/proc/loadavg').trim()}`);
}

try {
  await main();
} finally {
  bvsDown();
  bridgeDown();
  if (ovs) await ovs.stop();
  tryRun('ip', 'netns', 'exec', nsS, 'ip', 'link', 'del', 'ovs-netdev');
  tryRun('ip', 'netns', 'del', nsS);
  for (const l of [pa, pb]) tryRun('ip', 'link', 'del', l);
  for (const ns of [nsA, nsB]) tryRun('ip', 'netns', 'del', ns);
  removePins(pinRoot);
  try { addon().packetCloseAll(); } catch { /* none */ }
  rmSync(work, { recursive: true, force: true });
}
