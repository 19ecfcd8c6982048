/**
 * Controller benchmark: packet-in -> packet-out round trips and a controller-driven flow-mod
 * burst, on a bvs bridge (a `bvs daemon`) and on Debian's OVS 3.1 (ovs-vswitchd, netdev
 * datapath, private run dir) in one run, with ratios.
 *
 * Both bridges are fail_mode=secure, protocols=OpenFlow13, ports 1 and 2, and connect to the
 * same kind of controller (bench/controller/controller.ts, bvs's own OpenFlow codec, a unix
 * socket each): it installs `priority=0,actions=CONTROLLER:65535` and answers every packet-in
 * with a packet-out of the packet to the other port. Traffic is raw frames from a host netns
 * (bench/controller/rtpkt.c): sent on the veth of port 1, read back on the veth of port 2, each
 * carrying its send time, so a round trip is host -> switch -> controller -> switch -> host.
 * Every frame misses: bvs installs a megaflow with a userspace action for the table-miss flow
 * and OVS a slow-path (controller) datapath flow, so in both every packet goes to userspace
 * and to the controller (the controller's packet-in count shows it).
 *
 * Measured per switch and trial (trials alternate bvs and OVS; the table has medians):
 *   latency     WINDOW 1: one frame in flight; round-trip p50/p99
 *   throughput  WINDOW W: W frames in flight (closed loop); round trips/s, the controller's
 *               packet-ins/s and packet-outs/s, p50/p99 under that load, frames lost, and the
 *               switch process's CPU seconds per 1000 round trips
 *   burst       N flow-mods (distinct ip,nw_dst matches, one write) then a barrier: seconds
 *               from the first byte to the barrier reply, checked with dump-aggregate
 *
 *   node --import tsx bench/controller/run.ts [--packets N] [--latency N] [--window W]
 *        [--flows N] [--trials T] [--quick] [--profile FILE]
 *
 * Not a test: it asserts nothing about the figures. Everything it creates (netns, veths, the
 * daemon, OVS, the temp dir, the pin dir) is removed on exit, on failure and on SIGINT/SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { DaemonProc } from '../../tests/daemon/helpers.ts';
import { uniqueTag } from '../../tests/helpers/netns.ts';
import { waitFor } from '../../tests/helpers/wait.ts';
import { OvsPeer } from '../daemon/ovs.ts';
import { BenchController, flowModAdd } from './controller.ts';

const quick = process.argv.includes('--quick');
const arg = (name: string, full: number, short: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : quick ? short : full;
};
const packets = arg('packets', 30_000, 2000);
const latencyN = arg('latency', 5000, 300);
const window = arg('window', 32, 32);
const nFlows = arg('flows', 10_000, 1000);
const trials = arg('trials', 3, 1);

const tag = uniqueTag();
const nsH = `bvc-${tag}-h`, nsS = `bvc-${tag}-s`;
const tmp = mkdtempSync(path.join(os.tmpdir(), `bvs-ctlbench-${tag}-`));
const pinDir = `/sys/fs/bpf/bvs-ctlb-${tag}`;
const RTPKT = path.join(tmp, 'rtpkt');
const brB = `cb${tag}`, brO = `co${tag}`;
/** Host-side and switch-side veth names: b = bvs, o = OVS; ports 1 and 2. */
const veth = (sw: 'b' | 'o', end: 'h' | 's', port: 1 | 2) => `c${tag}${sw}${end}${port}`;

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd: string, ...args: string[]) => { try { run(cmd, ...args); } catch { /* absent */ } };
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function execAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err || code}`))));
  });
}

/** CPU seconds (user + system) of a process so far. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

// ---- topology --------------------------------------------------------------------------------

function topology(): void {
  run('ip', 'netns', 'add', nsH);
  run('ip', 'netns', 'add', nsS);
  run('ip', 'netns', 'exec', nsH, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
  run('ip', 'netns', 'exec', nsS, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
  run('ip', 'netns', 'exec', nsH, 'ip', 'link', 'set', 'lo', 'up');
  for (const sw of ['b', 'o'] as const) {
    for (const p of [1, 2] as const) {
      const h = veth(sw, 'h', p), s = veth(sw, 's', p);
      run('ip', 'link', 'add', h, 'type', 'veth', 'peer', 'name', s);
      run('ip', 'link', 'set', h, 'netns', nsH);
      run('ip', 'netns', 'exec', nsH, 'ip', 'link', 'set', h, 'up');
      if (sw === 'o') {
        run('ip', 'link', 'set', s, 'netns', nsS);
        run('ip', 'netns', 'exec', nsS, 'ip', 'link', 'set', s, 'up');
      } else {
        tryRun('sysctl', '-qw', `net.ipv6.conf.${s}.disable_ipv6=1`);
        run('ip', 'link', 'set', s, 'up');
      }
    }
  }
}

// ---- the two switches ------------------------------------------------------------------------

interface Switch {
  who: 'bvs' | 'ovs';
  ctl: BenchController;
  tx: string; rx: string;
  pid(): number;
  ofctl(...args: string[]): Promise<string>;
  /** The datapath's flows, as its dpctl dump-flows prints them. */
  dpFlows(): Promise<string>;
}

const cleanups: (() => Promise<void> | void)[] = [];

async function bvsSwitch(): Promise<Switch> {
  const d = new DaemonProc(pinDir, mkdtempSync(path.join(tmp, 'd-')));
  cleanups.push(() => d.cleanup());
  // --profile FILE: the daemon's CPU profile of the measured part (see cpu-prof.mjs).
  const prof = process.argv.indexOf('--profile');
  const saved = { ...process.env };
  if (prof > 0) {
    process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path.join(import.meta.dirname, 'cpu-prof.mjs')).href}`;
    process.env.BVS_CPU_PROF = path.resolve(process.argv[prof + 1]!);
  }
  const started = d.start(['--log-level', 'info']); // spawns before its first await
  process.env.NODE_OPTIONS = saved.NODE_OPTIONS;
  if (saved.NODE_OPTIONS === undefined) delete process.env.NODE_OPTIONS;
  delete process.env.BVS_CPU_PROF;
  await started;
  const ctl = new BenchController(path.join(tmp, 'bvs-ctl.sock'));
  cleanups.push(() => ctl.close());
  await ctl.listen();
  await d.v('add-br', brB, '--', 'set', 'bridge', brB, 'fail_mode=secure', 'protocols=OpenFlow13',
    '--', 'add-port', brB, veth('b', 's', 1), '--', 'set', 'interface', veth('b', 's', 1), 'ofport_request=1',
    '--', 'add-port', brB, veth('b', 's', 2), '--', 'set', 'interface', veth('b', 's', 2), 'ofport_request=2')
    .catch((e: Error) => { throw new Error(`${e.message}\ndaemon log:\n${d.log.slice(-3000)}`); });
  await d.v('set-controller', brB, `unix:${ctl.sockPath}`);
  const ofctl = (...a: string[]) => execAsync('ovs-ofctl', ['-O', 'OpenFlow13', ...a.map((x) => x === 'BR' ? `unix:${path.join(d.runDir, `${brB}.mgmt`)}` : x)]);
  const dpFlows = () => execAsync('env', [`BVS_PIN_DIR=${pinDir}`, path.join(import.meta.dirname, '../../bin/bvs'), 'dpctl', 'dump-flows']);
  return { who: 'bvs', ctl, tx: veth('b', 'h', 1), rx: veth('b', 'h', 2), pid: () => d.proc!.pid!, ofctl, dpFlows };
}

async function ovsSwitch(): Promise<Switch> {
  const ovs = new OvsPeer(nsS);
  cleanups.push(async () => {
    await ovs.stop();
    tryRun('ip', 'netns', 'exec', nsS, 'ip', 'link', 'del', 'ovs-netdev');
  });
  await ovs.start();
  // OVS connects to unix: controllers only inside its run dir (bridge.c, self-confinement).
  const ctl = new BenchController(path.join(ovs.dir, 'ctl.sock'));
  cleanups.push(() => ctl.close());
  await ctl.listen();
  ovs.addBridge(brO, [veth('o', 's', 1), veth('o', 's', 2)]);
  ovs.vsctl('set', 'bridge', brO, 'fail_mode=secure', 'protocols=OpenFlow13');
  ovs.vsctl('set-controller', brO, `unix:${ctl.sockPath}`);
  const ofctl = (...a: string[]) => execAsync('ovs-ofctl', ['-O', 'OpenFlow13', ...a.map((x) => x === 'BR' ? `unix:${path.join(ovs.dir, `${brO}.mgmt`)}` : x)]);
  const pid = Number(readFileSync(path.join(ovs.dir, 'vswitchd.pid'), 'utf8').trim());
  const dpFlows = async () => ovs.appctl('dpctl/dump-flows');
  return { who: 'ovs', ctl, tx: veth('o', 'h', 1), rx: veth('o', 'h', 2), pid: () => pid, ofctl, dpFlows };
}

/** The controller connected and its table-miss flow in the switch's table. */
async function attach(sw: Switch): Promise<void> {
  await waitFor(`${sw.who} to connect to the controller`, () => sw.ctl.connected, { timeoutMs: 30_000 });
  await sw.ctl.ready();
  await waitFor(`the table-miss flow in ${sw.who}`, async () => /actions=CONTROLLER:65535/.test(await sw.ofctl('dump-flows', 'BR')), { timeoutMs: 10_000 });
}

// ---- measurements ----------------------------------------------------------------------------

interface Rt { sent: number; received: number; lost: number; late: number; seconds: number; p50: number; p99: number }

async function roundTrips(sw: Switch, count: number, win: number): Promise<Rt> {
  const out = await execAsync('ip', ['netns', 'exec', nsH, RTPKT, sw.tx, sw.rx, String(count), String(win), '300']);
  return JSON.parse(out) as Rt;
}

/** Each switch's datapath flows after its first warm-up: the miss flow sends to userspace. */
const dpShown = new Map<string, string>();

interface Trial {
  lat: Rt; load: Rt; pinRate: number; poutRate: number; cpuPerK: number; ctlCpuPerK: number; burst: number; burstRate: number;
}

async function trial(sw: Switch, mods: ReturnType<typeof flowModAdd>[]): Promise<Trial> {
  await roundTrips(sw, 200, 1); // warm up: the megaflow, the JIT of both ends
  if (!dpShown.has(sw.who)) {
    dpShown.set(sw.who, (await sw.dpFlows().catch((e: Error) => e.message)).trim().split('\n').slice(0, 3).join('\n  '));
  }
  const lat = await roundTrips(sw, latencyN, 1);
  const pin0 = sw.ctl.packetIns, pout0 = sw.ctl.packetOuts, cpu0 = cpuOf(sw.pid()), ctl0 = process.cpuUsage();
  const load = await roundTrips(sw, packets, window);
  const cpu = cpuOf(sw.pid()) - cpu0, ctlCpu = process.cpuUsage(ctl0);
  const pinRate = (sw.ctl.packetIns - pin0) / load.seconds, poutRate = (sw.ctl.packetOuts - pout0) / load.seconds;
  const burst = await sw.ctl.burst(mods);
  const agg = await sw.ofctl('dump-aggregate', 'BR');
  const n = Number(/flow_count=(\d+)/.exec(agg)?.[1] ?? NaN);
  if (n !== mods.length + 1) throw new Error(`${sw.who}: ${n} flows after a burst of ${mods.length} (+1 table-miss): ${sw.ctl.errors.join('; ')}`);
  await sw.ofctl('del-flows', 'BR', 'cookie=0xb/-1');
  const perK = (secs: number) => (secs / Math.max(load.received, 1)) * 1000;
  return { lat, load, pinRate, poutRate, cpuPerK: perK(cpu), ctlCpuPerK: perK((ctlCpu.user + ctlCpu.system) / 1e6), burst, burstRate: mods.length / burst };
}

// ---- main ------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) { try { await c(); } catch { /* best effort */ } }
    tryRun('ip', 'netns', 'del', nsH);
    tryRun('ip', 'netns', 'del', nsS);
    for (const p of [1, 2] as const) tryRun('ip', 'link', 'del', veth('b', 's', p));
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { console.error(`${sig}: cleaning up`); void cleanup().finally(() => process.exit(1)); });
}

async function main(): Promise<void> {
  const load0 = loadavg(), up0 = run('uptime').trim();
  run('cc', '-O2', '-Wall', '-o', RTPKT, path.join(import.meta.dirname, 'rtpkt.c'));
  topology();
  const mods = Array.from({ length: nFlows }, (_, i) =>
    flowModAdd(`cookie=0xb,priority=100,ip,nw_dst=10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff},actions=output:2`));
  // Started together: the daemon's start (tsx, nats-server, BPF loads) is most of a --quick run.
  const sws = await Promise.all([bvsSwitch(), ovsSwitch()]);
  await Promise.all(sws.map(attach));
  if (process.argv.includes('--profile')) process.kill(sws[0]!.pid(), 'SIGUSR2');
  const res: Record<string, Trial[]> = { bvs: [], ovs: [] };
  for (let t = 0; t < trials; t++) {
    for (const sw of t % 2 === 0 ? sws : [...sws].reverse()) res[sw.who]!.push(await trial(sw, mods));
  }
  const errs = sws.flatMap((s) => s.ctl.errors.map((e) => `${s.who}: ${e}`));
  const m = (who: string, f: (t: Trial) => number) => median(res[who]!.map(f));
  const row = (what: string, f: (t: Trial) => number, fmt: (x: number) => string, higherBetter: boolean) => {
    const b = m('bvs', f), o = m('ovs', f);
    const ratio = higherBetter ? b / o : o / b;
    return `| ${what} | ${fmt(b)} | ${fmt(o)} | ${ratio.toFixed(2)} |`;
  };
  const k = (x: number) => `${(x / 1000).toFixed(1)}k/s`, us = (x: number) => `${x} us`, s = (x: number) => `${x.toFixed(3)} s`;
  console.log(`Controller benchmark, OpenFlow 1.3, kernel ${run('uname', '-r').trim()}, ${os.cpus().length} CPUs, ` +
    `${trials} trial(s), median shown; window ${window}, ${packets} frames, ${latencyN} for latency, ${nFlows} flow-mods`);
  console.log(`uptime at the start: ${up0}`);
  console.log('| what | bvs | OVS 3.1 netdev | bvs / OVS (speed; >1 = bvs better) |');
  console.log('|---|---|---|---|');
  for (const r of [
    row('round trips/s (frames back on port 2)', (t) => t.load.received / t.load.seconds, k, true),
    row('packet-ins/s at the controller', (t) => t.pinRate, k, true),
    row('packet-outs/s from the controller', (t) => t.poutRate, k, true),
    row(`RTT p50, window ${window}`, (t) => t.load.p50, us, false),
    row(`RTT p99, window ${window}`, (t) => t.load.p99, us, false),
    row('RTT p50, one in flight', (t) => t.lat.p50, us, false),
    row('RTT p99, one in flight', (t) => t.lat.p99, us, false),
    row('switch CPU-s per 1000 round trips', (t) => t.cpuPerK, (x) => x.toFixed(3), false),
    row('controller CPU-s per 1000 round trips', (t) => t.ctlCpuPerK, (x) => x.toFixed(3), false),
    row(`${nFlows} flow-mods + barrier`, (t) => t.burst, s, false),
    row('flow-mods/s in the burst', (t) => t.burstRate, k, true),
  ]) console.log(r);
  for (const who of ['bvs', 'ovs']) {
    const lost = res[who]!.reduce((a, t) => a + t.load.lost + t.lat.lost, 0), late = res[who]!.reduce((a, t) => a + t.load.late + t.lat.late, 0);
    console.log(`${who}: frames lost ${lost}, late ${late}; per trial round trips/s ${res[who]!.map((t) => Math.round(t.load.received / t.load.seconds)).join(', ')}`);
  }
  for (const [who, f] of dpShown) console.log(`${who} datapath flows after the warm-up:\n  ${f}`);
  if (errs.length) console.log(`errors from the switches: ${errs.join('; ')}`);
  console.log(`load average at the start: ${load0}; at the end: ${loadavg()}`);
  console.log(`uptime at the end: ${run('uptime').trim()}`);
}

main()
  .catch((e: unknown) => { console.error(e); process.exitCode = 1; })
  .finally(() => cleanup());
