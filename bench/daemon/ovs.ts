/**
 * Debian's Open vSwitch as a benchmark peer: a private ovsdb-server and ovs-vswitchd (database,
 * sockets, pid and log files in a temp dir; OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR point there), one
 * bridge with datapath_type=netdev (the userspace datapath). Both processes are started here
 * and killed by pid in stop().
 *
 * ovs-vswitchd runs inside the network namespace `netns`: the netdev datapath creates a tap
 * device named "ovs-netdev", one per namespace, so a second OVS on the host (another test,
 * a real installation) would otherwise clash with ours. The switch ports must be in that netns.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class OvsPeer {
  readonly dir = mkdtempSync(join(tmpdir(), `bvs-ovs-${process.pid}-`));
  constructor(readonly netns: string) {}
  private procs: ChildProcess[] = [];
  private readonly env = { ...process.env, OVS_RUNDIR: this.dir, OVS_DBDIR: this.dir, OVS_LOGDIR: this.dir, OVS_SYSCONFDIR: this.dir };

  static available(): boolean {
    try {
      execFileSync('ovs-vswitchd', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    const d = this.dir;
    execFileSync('ovsdb-tool', ['create', join(d, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema'], { env: this.env });
    this.procs.push(spawn('ovsdb-server', [join(d, 'conf.db'), `--remote=punix:${join(d, 'db.sock')}`, `--unixctl=${join(d, 'ovsdb.ctl')}`,
      `--pidfile=${join(d, 'ovsdb.pid')}`, `--log-file=${join(d, 'ovsdb.log')}`], { env: this.env, stdio: 'ignore' }));
    await waitFor(join(d, 'db.sock'));
    this.vsctl('--no-wait', 'init');
    this.procs.push(spawn('ip', ['netns', 'exec', this.netns, 'ovs-vswitchd', `unix:${join(d, 'db.sock')}`, `--unixctl=${join(d, 'vswitchd.ctl')}`,
      `--pidfile=${join(d, 'vswitchd.pid')}`, `--log-file=${join(d, 'vswitchd.log')}`], { env: this.env, stdio: 'ignore' }));
    await waitFor(join(d, 'vswitchd.ctl'));
  }

  vsctl(...args: string[]): string {
    return execFileSync('ovs-vsctl', [`--db=unix:${join(this.dir, 'db.sock')}`, '--timeout=30', ...args], { env: this.env, encoding: 'utf8' });
  }

  appctl(...args: string[]): string {
    return execFileSync('ovs-appctl', [`--target=${join(this.dir, 'vswitchd.ctl')}`, ...args], { env: this.env, encoding: 'utf8' });
  }

  ofctl(...args: string[]): string {
    return execFileSync('ovs-ofctl', args, { env: this.env, encoding: 'utf8' });
  }

  /** A netdev (userspace datapath) bridge with these system ports, ofports 1, 2, ... */
  addBridge(br: string, ports: string[]): void {
    const args = ['add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev'];
    ports.forEach((p, i) => args.push('--', 'add-port', br, p, '--', 'set', 'interface', p, `ofport_request=${i + 1}`));
    this.vsctl(...args);
  }

  delBridge(br: string): void {
    try { this.vsctl('--if-exists', 'del-br', br); } catch { /* vswitchd gone */ }
  }

  /** Datapath flows, from upcall/show ("flows : (current N) ..."; refreshed by OVS every 100 ms). */
  flowCount(): number {
    return Number(/current (\d+)/.exec(this.appctl('upcall/show'))?.[1] ?? 0);
  }

  /** CPU seconds (user + system) of ovs-vswitchd so far, from /proc/PID/stat. */
  cpuSeconds(): number {
    const pid = readFileSync(join(this.dir, 'vswitchd.pid'), 'utf8').trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }

  /** Upcalls lost by the datapath (dpctl/show "lookups: ... lost:N"). */
  lost(): number {
    return Number(/lost:(\d+)/.exec(this.appctl('dpctl/show'))?.[1] ?? 0);
  }

  /** SIGTERM by pid (from the pidfiles), SIGKILL what is still alive after 3 s. */
  async stop(): Promise<void> {
    for (const name of ['vswitchd.pid', 'ovsdb.pid']) {
      try {
        const pid = Number(readFileSync(join(this.dir, name), 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch { /* not running */ }
    }
    const deadline = Date.now() + 3000;
    while (this.procs.some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const p of this.procs) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitFor(path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
