/**
 * Real OpenFlow controllers as child processes of a test: ovs-testcontroller (OVS's learning
 * switch) and osken-manager (os-ken) running an app. Each has its own temp dir (unixctl socket,
 * log, pid file) and is killed by stop(); stop() is safe to call twice and after a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export class Peer {
  readonly dir: string;
  proc: ChildProcess | undefined;
  out = '';
  private exited: Promise<void> | undefined;

  constructor(readonly name: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `bvs-peer-${name}-`));
  }

  start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): this {
    const p = spawn(cmd, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    p.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.exited = new Promise((r) => p.once('exit', () => r()));
    this.proc = p;
    return this;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.running) this.proc!.kill('SIGKILL');
    await this.exited;
    this.proc = undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** ovs-testcontroller on `method` (e.g. punix:FILE or ptcp:PORT:127.0.0.1), allowed `versions`. */
export function testController(method: string, versions = 'OpenFlow10,OpenFlow13,OpenFlow15', extra: string[] = []): Peer {
  const p = new Peer('testcontroller');
  return p.start('ovs-testcontroller', [
    `--unixctl=${path.join(p.dir, 'tc.ctl')}`, '-O', versions, '-vconsole:info', ...extra, method,
  ]);
}

/** osken-manager running `app` (a .py file), listening on 127.0.0.1:port; the app records its
 *  events in `events` (OSKEN_EVENTS = DIR/events.jsonl). */
export function osKen(app: string, port: number, env: NodeJS.ProcessEnv = {}): Peer & { events: string } {
  const p = new Peer('osken') as Peer & { events: string };
  p.events = path.join(p.dir, 'events.jsonl');
  return p.start('osken-manager', [
    '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), '--use-stderr', app,
  ], { PYTHONUNBUFFERED: '1', ...env, OSKEN_EVENTS: p.events });
}

/** Whether something listens on loopback TCP `port` (read from the kernel, no connection made). */
export function listeningOn(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // /proc/net/tcp rows: sl local_address rem_address st ...; st 0A = LISTEN.
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(hex) === true && f[3] === '0A';
  });
}

/** A TCP port free on loopback now (the kernel's choice; a later bind may still race). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
