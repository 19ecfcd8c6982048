/**
 * The daemon under test, as a real child process (`bin/bvs daemon`, which execs node, so the
 * child's pid is the daemon's), with its own run dir, database and pin root, and
 * the real ovs-vsctl talking to DIR/db.sock. kill() and cleanup() leave nothing behind: the
 * daemon, its nats-server child, the run dir; the test's Topology removes netns, links, pins.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { connectRunDir, type Bus } from '../../src/bus/index.ts';
import { removeInternalPort } from '../../src/netdev/index.ts';
import { REPO, type Host, type Topology } from '../helpers/netns.ts';
import { DEFAULT_WAIT_MS, waitFor } from '../helpers/wait.ts';

const execFileP = promisify(execFile);

/**
 * Deadlines of the daemon's own start and stop: preconditions, not what a test measures, so
 * generous (a daemon start on a loaded two-core host runs tsx, nats-server and BPF loads).
 */
const START_WAIT_MS = 60_000;
const STOP_WAIT_MS = 30_000;
const REQUEST_WAIT_MS = 30_000;

/** waitFor with the argument order these tests grew up with. */
export function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = DEFAULT_WAIT_MS, stepMs = 50): Promise<T> {
  return waitFor(what, fn, { timeoutMs, stepMs });
}

/** nats-server processes whose config is in `runDir`. */
export function natsServersOf(runDir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '') === 'nats-server' && argv.includes(path.join(runDir, 'nats.conf'))) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

export class DaemonProc {
  readonly dir: string;
  readonly runDir: string;
  readonly dbPath: string;
  proc: ChildProcess | null = null;
  log = '';
  private exited: Promise<number | null> | null = null;

  constructor(readonly pinDir: string, dir?: string) {
    this.dir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-daemon-'));
    this.runDir = path.join(this.dir, 'run');
    this.dbPath = path.join(this.dir, 'conf.db');
  }

  get sock(): string {
    return path.join(this.runDir, 'db.sock');
  }

  /** Starts the daemon and waits until OVSDB answers and the bus serves. */
  async start(extra: string[] = []): Promise<void> {
    this.log = '';
    const p = spawn(path.join(REPO, 'bin/bvs'), ['daemon',
      '--run-dir', this.runDir, '--db', this.dbPath, '--pin-dir', this.pinDir, '--log-level', 'debug', ...extra],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BVS_PIN_DIR: this.pinDir } });
    this.proc = p;
    p.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    this.exited = new Promise((resolve) => p.once('exit', (code) => resolve(code)));
    const up = await until('the daemon to serve OVSDB and NATS', async () => {
      if (p.exitCode !== null || p.signalCode !== null) return 'exited' as const;
      if (!this.log.includes('"daemon started"') || !this.log.includes('"ovsdb serving"')) return false;
      return (await this.vsctl(['show'])).code === 0;
    }, START_WAIT_MS);
    if (up === 'exited') throw new Error(`daemon exited with ${p.exitCode ?? p.signalCode}:\n${this.log}`);
  }

  /** The real ovs-vsctl; its --timeout is only a guard against a hung run (a loaded host is slow). */
  vsctl(args: string[], timeoutS = 60): Promise<{ stdout: string; stderr: string; code: number }> {
    return run('ovs-vsctl', [`--db=unix:${this.sock}`, `--timeout=${timeoutS}`, ...args]);
  }

  /** ovs-vsctl that must succeed; returns trimmed stdout. */
  async v(...args: string[]): Promise<string> {
    const r = await this.vsctl(args);
    if (r.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * A bus client of this daemon whose requests wait up to REQUEST_WAIT_MS unless told otherwise:
   * the default 5 s is a CLI's patience, and a command that waits for the daemon to apply a
   * change can take longer on a loaded host. What the tests check is the reply, not its speed.
   */
  async bus(): Promise<Bus> {
    const b = await connectRunDir(this.runDir);
    const request = b.request.bind(b);
    b.request = ((name, payload, opts = {}) => request(name, payload, { timeoutMs: REQUEST_WAIT_MS, ...opts })) as Bus['request'];
    return b;
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | null> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc?.exitCode ?? null;
    this.proc.kill('SIGTERM');
    const code = await Promise.race([this.exited!, sleep(STOP_WAIT_MS).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`the daemon did not stop within ${STOP_WAIT_MS / 1000} s of SIGTERM`);
    }
    return code;
  }

  /** SIGKILL: the datapaths stay pinned; nats-server's guard stops it when our pipe closes. */
  // (The internal devices are noted first, so cleanup() can remove them after a kill -9.)
  async kill9(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try { await this.noteInternalPorts(); } catch { /* not answering */ }
    this.proc.kill('SIGKILL');
    await this.exited;
    await until('the nats-server of the killed daemon to exit', () => natsServersOf(this.runDir).length === 0);
  }

  /** Names of the internal interfaces the daemon made (they outlive it, like OVS's). */
  private readonly internal = new Set<string>();

  private async noteInternalPorts(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const r = await this.vsctl(['--bare', '--columns=name', 'find', 'Interface', 'type=internal'], 5);
    for (const n of r.stdout.split(/\s+/)) if (n) this.internal.add(n);
  }

  /** Stops whatever runs, removes the internal devices it made and the temp dir. Safe to call twice. */
  async cleanup(): Promise<void> {
    try { await this.noteInternalPorts(); } catch { /* not answering */ }
    try { await this.stop(); } catch { /* killed */ }
    for (const n of this.internal) { try { removeInternalPort(n); } catch { /* gone */ } }
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    for (const pid of natsServersOf(this.runDir)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await execFileP(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

/**
 * Number of BPF links running the datapath's program (pinned at DIR/prog): one per attached
 * port, so a double attach shows up as one link too many. (bpftool 7.1 prints tcx links as
 * "type 11" without their device, hence counting by program.)
 */
export async function progLinks(pinDir: string, dp: string): Promise<number> {
  const prog = JSON.parse((await run('bpftool', ['-j', 'prog', 'show', 'pinned', path.join(pinDir, dp, 'prog')])).stdout) as { id: number };
  const links = JSON.parse((await run('bpftool', ['-j', 'link', 'show'])).stdout || '[]') as { prog_id?: number }[];
  return links.filter((l) => l.prog_id === prog.id).length;
}

export function ifindexOf(dev: string): number {
  return Number(fs.readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim());
}

/**
 * A daemon with bridge `br` whose ports are `n` netns hosts of `topo` (ofports 1..n, added with
 * the real ovs-vsctl). The caller cleans up: d.cleanup() and topo.destroy().
 */
export async function daemonWithHosts(topo: Topology, br: string, n: number): Promise<{ d: DaemonProc; h: Host[] }> {
  process.env.BVS_PIN_DIR = topo.pinRoot;
  const h = Array.from({ length: n }, (_, i) => topo.addHost(i + 1));
  const d = new DaemonProc(topo.pinRoot);
  await d.start();
  await d.v('add-br', br);
  for (const x of h) await d.v('add-port', br, x.port);
  return { d, h };
}
