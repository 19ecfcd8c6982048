/**
 * Shared setup for the addon tests: the native addon, the fixture BPF objects (compiled once
 * per process into a temp dir), unique names, pin directories and a veth/netns pair.
 *
 * Everything created here is removed by the matching destroy/remove call, which the test
 * files run in `after` (uvu runs `after` even when a test or `before` fails); the temp dir of
 * compiled objects goes at process exit.
 */
import { execFile, execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addon, type Addon } from '../../src/datapath/addon.ts';

export const A: Addon = addon();

const here = path.dirname(fileURLToPath(import.meta.url));

/** A short unique token (pid + random), so two runs never collide; fits in 15-char ifnames. */
export function tag(): string {
  return (process.pid % 46656).toString(36).padStart(3, '0') + Math.random().toString(36).slice(2, 6);
}

export function sh(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string;
}

/** Run, ignoring failure (cleanup paths). */
export function shQuiet(cmd: string, args: string[]): void {
  try { sh(cmd, args); } catch { /* already gone */ }
}

/**
 * Last-resort cleanup: what `after` would have removed, run on exit or on SIGINT/SIGTERM (a
 * killed or interrupted run). Each entry removes itself once cleaned up normally.
 */
const pending = new Set<() => void>();
function runPending(): void {
  for (const fn of [...pending]) { try { fn(); } catch { /* best effort */ } }
  pending.clear();
}
process.on('exit', runPending);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { runPending(); process.exit(128 + (sig === 'SIGINT' ? 2 : 15)); });
}

let objDir: string | undefined;

/** Compile tests/addon/fixture/<name>.bpf.c (once per process); returns the object path. */
export function fixtureObject(name: 'fixture' | 'bad'): string {
  if (!objDir) {
    objDir = mkdtempSync(path.join(os.tmpdir(), 'bvs-addon-fx-'));
    const dir = objDir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const out = path.join(objDir, `${name}.bpf.o`);
  if (!existsSync(out)) {
    const arch = `-I/usr/include/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    sh('clang', ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', '-Wall', arch, '-c',
      path.join(here, 'fixture', `${name}.bpf.c`), '-o', out]);
  }
  return out;
}

/** A fresh directory under bpffs (mounted if needed). */
export function makePinDir(label: string): string {
  try { sh('mountpoint', ['-q', '/sys/fs/bpf']); } catch { sh('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']); }
  const dir = `/sys/fs/bpf/bvs-test-${label}-${tag()}`;
  mkdirSync(dir);
  const undo = () => removePinDir(dir);
  pinUndo.set(dir, undo);
  pending.add(undo);
  return dir;
}
const pinUndo = new Map<string, () => void>();

/** Unlink every pin in dir, then the dir (bpffs allows unlink/rmdir of pins). */
export function removePinDir(dir: string | undefined): void {
  if (!dir) return;
  const undo = pinUndo.get(dir);
  if (undo) { pending.delete(undo); pinUndo.delete(dir); }
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** Close every fd of a load() result, ignoring ones already closed. */
export function closeLoad(r: { progFd: number; maps: Record<string, number> } | undefined): void {
  if (!r) return;
  for (const fd of [r.progFd, ...Object.values(r.maps)]) {
    try { A.close(fd); } catch { /* closed by the test */ }
  }
}

/**
 * A veth pair: `host` stays in this process's netns (tcx links and packet sockets work on
 * ifindexes of the caller's netns), `peer` lives in a new netns `ns`. No IP addresses in
 * this netns: the peer side gets one and a static neighbour, so its pings leave as frames
 * without ARP. IPv6 is off on both ends to keep the wire quiet (exact packet counts).
 */
export class VethNs {
  readonly ns: string;
  readonly host: string;
  readonly peer: string;
  hostIndex = 0;
  readonly peerIp = '10.213.0.1';
  readonly targetIp = '10.213.0.2';
  readonly targetMac = '02:00:5e:10:00:02';

  constructor() {
    const t = tag();
    this.ns = `bvs-addon-${t}`;
    this.host = `bxh${t}`;
    this.peer = `bxp${t}`;
  }

  private readonly undo = () => this.destroy();

  create(): this {
    pending.add(this.undo);
    sh('ip', ['netns', 'add', this.ns]);
    sh('ip', ['link', 'add', this.host, 'type', 'veth', 'peer', 'name', this.peer, 'netns', this.ns]);
    sh('sysctl', ['-q', '-w', `net.ipv6.conf.${this.host}.disable_ipv6=1`]);
    this.inNs('sysctl', ['-q', '-w', `net.ipv6.conf.${this.peer}.disable_ipv6=1`]);
    sh('ip', ['link', 'set', this.host, 'up']);
    this.inNs('ip', ['link', 'set', 'lo', 'up']);
    this.inNs('ip', ['addr', 'add', `${this.peerIp}/24`, 'dev', this.peer]);
    this.inNs('ip', ['link', 'set', this.peer, 'up']);
    this.inNs('ip', ['neigh', 'replace', this.targetIp, 'lladdr', this.targetMac, 'dev', this.peer, 'nud', 'permanent']);
    this.hostIndex = A.ifNameToIndex(this.host);
    if (!this.hostIndex) throw new Error(`veth ${this.host} has no ifindex`);
    return this;
  }

  inNs(cmd: string, args: string[]): string {
    return sh('ip', ['netns', 'exec', this.ns, cmd, ...args]);
  }

  peerRxPackets(): number {
    return Number(this.inNs('cat', [`/sys/class/net/${this.peer}/statistics/rx_packets`]).trim());
  }

  /**
   * n pings from the peer side towards targetIp, without blocking the event loop. Nobody
   * answers (exit status 1 is expected); the frames cross the veth to the host end.
   */
  ping(n: number): Promise<void> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.ns, 'ping', '-q', '-c', String(n), '-i', '0.002', '-W', '0.2',
        this.targetIp], () => resolve());
    });
  }

  destroy(): void {
    pending.delete(this.undo);
    shQuiet('ip', ['link', 'del', this.host]);
    shQuiet('ip', ['netns', 'del', this.ns]);
  }
}

/** Read a whole file if it exists (sysfs). */
export function readIf(p: string): string | undefined {
  try { return readFileSync(p, 'utf8'); } catch { return undefined; }
}

/** Run fn, expecting it to throw; return the error. */
export function throws(fn: () => unknown): Error & { code?: string; errno?: number; op?: string; count?: number; log?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string; errno?: number; op?: string };
  }
  throw new Error('expected an exception');
}
