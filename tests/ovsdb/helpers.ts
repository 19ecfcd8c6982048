/** Shared test helpers for tests/ovsdb: temp dirs, a raw JSON-RPC client, real OVS client runners. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { JsonSplitter, VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BVS = path.join(ROOT, 'bin/bvs');
export const SCHEMA_JSON = JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

const dirs: string[] = [];
export function tempDir(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `bvs-ovsdb-${tag}-${process.pid}-`));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
export function run(cmd: string, args: string[], timeoutMs = 15000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
export const vsctl = (sock: string, ...args: string[]): Promise<RunResult> => run('ovs-vsctl', ['--no-wait', `--db=unix:${sock}`, ...args]);

/** A raw JSON-RPC 1.0 client, to see exactly what the server sends. */
export class RpcClient {
  private splitter = new JsonSplitter();
  private nextId = 1;
  private waiting = new Map<number, (m: Record<string, unknown> | null) => void>();
  readonly notes: Record<string, unknown>[] = [];
  readonly raw: Record<string, unknown>[] = [];
  private noteWaiters: (() => void)[] = [];
  closed = false;

  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      for (const t of this.splitter.push(d)) {
        const m = JSON.parse(t) as Record<string, unknown>;
        this.raw.push(m);
        if (m.id === null) {
          this.notes.push(m);
          for (const w of this.noteWaiters.splice(0)) w();
        } else this.waiting.get(m.id as number)?.(m);
      }
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w(null);
      this.waiting.clear();
      for (const w of this.noteWaiters.splice(0)) w();
    });
  }

  static connect(target: string | { port: number; host: string }): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const s = typeof target === 'string' ? net.createConnection(target) : net.createConnection(target.port, target.host);
      s.once('connect', () => resolve(new RpcClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends a request; resolves with the whole reply message. */
  call(method: string, params: unknown[]): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        if (m) resolve(m);
        else reject(new Error('connection closed'));
      });
      this.sock.write(JSON.stringify({ method, params, id }));
    });
  }

  async result(method: string, params: unknown[]): Promise<unknown> {
    const r = await this.call(method, params);
    if (r.error !== null) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  send(text: string): void {
    this.sock.write(text);
  }

  /** Waits until a notification matching `pred` has arrived (or the timeout). */
  async waitNote(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 3000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.notes.find(pred);
      if (hit) return hit;
      if (this.closed || Date.now() > end) throw new Error(`notification not received; got ${JSON.stringify(this.notes)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.noteWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

const children = new Set<ChildProcess>();
const logs = new WeakMap<ChildProcess, { text: string }>();
/** What a spawned server wrote to stderr so far. */
export const serverLog = (c: ChildProcess): string => logs.get(c)?.text ?? '';
/** Spawns `bin/bvs ovsdb-server FILE --remote punix:SOCK`; resolves once the socket accepts. */
export async function spawnServer(db: string, sock: string): Promise<ChildProcess> {
  const child = spawn(BVS, ['ovsdb-server', db, '--remote', `punix:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const log = { text: '' };
  logs.set(child, log);
  child.stderr!.on('data', (d) => (log.text += String(d)));
  const err = (): string => log.text;
  for (let i = 0; i < 200; i++) {
    try {
      const c = await RpcClient.connect(sock);
      c.close();
      return child;
    } catch {
      if (child.exitCode !== null) throw new Error(`ovsdb-server exited: ${err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`ovsdb-server did not start: ${err()}`);
}
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}
export function waitExit(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
}
