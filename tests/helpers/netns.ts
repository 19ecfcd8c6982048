/**
 * Test topology on the real kernel: hosts in their own network namespaces, each joined by a
 * veth pair whose root-namespace end becomes a switch port. Names are unique per run
 * (pid + random), and `destroy()` removes every namespace and link it made, whatever state the
 * test left them in. Register `destroy` in an `after` hook and in `finally` blocks.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Datapath, removePins } from '../../src/datapath/datapath.ts';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const BVS = path.join(REPO, 'bin/bvs');

export function sh(cmd: string, args: string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: opts.input });
}

export async function shAsync(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await execFileP(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

/** A short unique tag for names (interface names are at most 15 characters). */
export function uniqueTag(): string {
  return `${(process.pid % 1000).toString(36)}${crypto.randomBytes(2).toString('hex')}`;
}

export interface Host {
  ns: string;          // namespace name
  port: string;        // root-namespace veth end (the switch port)
  ip: string;          // IPv4 address of eth0 in the namespace
  mac: string;         // MAC of eth0 in the namespace
  macNum: number;
  ipNum: number;
}

export class Topology {
  readonly tag = uniqueTag();
  readonly hosts: Host[] = [];
  private readonly extraLinks: string[] = [];
  readonly pinRoot: string;

  constructor(readonly subnet = 10 + Math.floor(Math.random() * 200)) {
    this.pinRoot = `/sys/fs/bpf/bvs-test-${this.tag}`;
  }

  /** Environment for bvs processes of this test: its own pin root. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, BVS_PIN_DIR: this.pinRoot };
  }

  /** Add host i (1-based): netns, veth, address 10.<subnet>.0.i/24, MAC 02:00:00:<subnet>:00:i. */
  addHost(i: number): Host {
    const ns = `bvs-${this.tag}-h${i}`;
    const port = `bv${this.tag}p${i}`;
    const peer = `bv${this.tag}q${i}`;
    const mac = `02:00:00:${this.subnet.toString(16).padStart(2, '0')}:00:${i.toString(16).padStart(2, '0')}`;
    const ip = `10.${this.subnet}.0.${i}`;
    sh('ip', ['netns', 'add', ns]);
    const host: Host = {
      ns, port, ip, mac, macNum: parseInt(mac.replace(/:/g, ''), 16),
      ipNum: ((10 << 24) >>> 0) + (this.subnet << 16) + i,
    };
    this.hosts.push(host);
    sh('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', peer]);
    sh('ip', ['link', 'set', peer, 'netns', ns]);
    const inNs = (...a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);
    // No IPv6 autoconf chatter (router solicitations, MLD): counters must count only our traffic.
    inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    inNs('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    inNs('ip', 'link', 'set', peer, 'name', 'eth0');
    inNs('ip', 'link', 'set', 'eth0', 'address', mac);
    inNs('ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    inNs('ip', 'link', 'set', 'eth0', 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
    sh('sysctl', ['-qw', `net.ipv6.conf.${port}.disable_ipv6=1`]);
    sh('ip', ['link', 'set', port, 'up']);
    return host;
  }

  /** Static ARP entries between all hosts, so no ARP traffic disturbs exact counts. */
  staticArp(): void {
    for (const a of this.hosts) for (const b of this.hosts) {
      if (a !== b) sh('ip', ['netns', 'exec', a.ns, 'ip', 'neigh', 'replace', b.ip, 'lladdr', b.mac, 'dev', 'eth0', 'nud', 'permanent']);
    }
  }

  inNs(host: Host, cmd: string[]): string {
    return sh('ip', ['netns', 'exec', host.ns, ...cmd]);
  }

  async inNsAsync(host: Host, cmd: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return shAsync('ip', ['netns', 'exec', host.ns, ...cmd]);
  }

  /**
   * Ping from a to b; returns the number of replies received. `waitS` is ping's -W: how long it
   * waits when no reply has come yet (a first packet goes through an upcall, slow on a loaded
   * host). A ping that expects replies can afford a long one (ping ends with the last reply); one
   * that expects none waits it out in full.
   */
  async ping(a: Host, b: Host, count = 3, interval = 0.2, waitS = 1): Promise<number> {
    const r = await this.inNsAsync(a, ['ping', '-c', String(count), '-i', String(interval), '-W', String(waitS), '-q', b.ip]);
    const m = /(\d+) received/.exec(r.stdout);
    return m ? Number(m[1]) : 0;
  }

  /** Send raw frames out of eth0 inside the host's namespace (they arrive at its port). */
  inject(host: Host, frames: Uint8Array[]): void {
    const hex = frames.map((f) => Buffer.from(f).toString('hex'));
    sh('ip', ['netns', 'exec', host.ns, process.execPath, path.join(here, 'inject.mjs'), 'eth0', ...hex]);
  }

  /** Start a capture on eth0 in the host's namespace; stop() returns the frames captured. */
  capture(host: Host, filter: string[] = []): Capture {
    return new Capture(host.ns, filter);
  }

  /**
   * The usual kernel-test setup: hosts 1..n and a datapath `name` (under this topology's pin
   * root) whose port i is host i. On failure everything made so far is removed.
   */
  withDatapath(name: string, n: number): { dp: Datapath; hosts: Host[] } {
    process.env.BVS_PIN_DIR = this.pinRoot;
    try {
      const hosts = Array.from({ length: n }, (_, i) => this.addHost(i + 1));
      this.dp = Datapath.create(name);
      hosts.forEach((h, i) => this.dp!.addPort(h.port, { portNo: i + 1 }));
      return { dp: this.dp, hosts };
    } catch (err) {
      console.error(err);
      this.destroy();
      throw err;
    }
  }

  private dp: Datapath | undefined;

  /** Remove everything this topology made. Safe to call twice and after partial setup. */
  destroy(): void {
    if (this.dp) {
      const name = this.dp.name;
      try { this.dp.close(); } catch { /* closed */ }
      try { if (Datapath.exists(name)) Datapath.destroy(name); } catch { /* gone */ }
      this.dp = undefined;
    }
    for (const h of this.hosts) {
      try { execFileSync('ip', ['link', 'del', h.port], { stdio: 'ignore' }); } catch { /* gone */ }
      try { execFileSync('ip', ['netns', 'del', h.ns], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    for (const l of this.extraLinks) {
      try { execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    removePins(this.pinRoot);
  }
}

/**
 * A tcpdump capture inside a namespace, written to a pcap file (-U: flushed per packet). Await
 * ready() before sending; then wait for the frames a test expects with
 * `waitFor(what, () => cap.frames().some(...))` and stop() once they are there.
 */
export class Capture {
  private readonly file = path.join(os.tmpdir(), `bvs-cap-${uniqueTag()}.pcap`);
  private readonly proc: ChildProcess;
  private readonly started: Promise<void>;

  constructor(ns: string, filter: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-Q', 'in', '-w', this.file, ...filter],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    // Only tcpdump's own "listening" line says that it captures: a capture that merely ran for a
    // while could still miss the first frames on a loaded host.
    this.started = new Promise((resolve, reject) => {
      let err = '';
      this.proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening')) resolve();
      });
      this.proc.on('exit', (code) => reject(new Error(`tcpdump exited (${code}) before listening: ${err}`)));
    });
    this.started.catch(() => undefined); // reported by ready(); a test that never asks still stops it
  }

  ready(): Promise<void> {
    return this.started;
  }

  /** The frames captured so far (tcpdump writes each one as it comes). */
  frames(): Uint8Array[] {
    try {
      return parsePcap(fs.readFileSync(this.file));
    } catch {
      return [];
    }
  }

  /** Stops tcpdump and returns every frame captured. Safe to call again (same frames). */
  stop(): Promise<Uint8Array[]> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private stopping: Promise<Uint8Array[]> | undefined;

  private async doStop(): Promise<Uint8Array[]> {
    // A grace for frames in flight; no test may count on it: wait for the expected frames first.
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    try {
      return this.frames();
    } finally {
      if (!process.env.BVS_KEEP_PCAP) fs.rmSync(this.file, { force: true });
    }
  }
}

export function parsePcap(buf: Buffer): Uint8Array[] {
  if (buf.length < 24) return [];
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const frames: Uint8Array[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) break;
    frames.push(Uint8Array.from(buf.subarray(off + 16, off + 16 + incl)));
    off += 16 + incl;
  }
  return frames;
}

/** Run `bin/bvs ARGS` with the topology's environment. */
export function bvs(topo: Topology, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return shAsync(BVS, args, topo.env());
}
