/** Shared test helpers for tests/ovsdb: temp dirs, real OVS client runners, bvs ovsdb-server children. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import { OvsdbClient } from '../../src/vsctl/index.ts';
import { connectWhenUp } from '../helpers/ovsdb.ts';

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
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
export const vsctl = (sock: string, ...args: string[]): Promise<RunResult> => run('ovs-vsctl', ['--no-wait', `--db=unix:${sock}`, ...args]);

const children = new Set<ChildProcess>();
const logs = new WeakMap<ChildProcess, { text: string }>();
/** What a spawned server wrote to stderr so far. */
export const serverLog = (c: ChildProcess): string => logs.get(c)?.text ?? '';
/** Spawns `bin/bvs ovsdb-server FILE --remote punix:SOCK [EXTRA...]`; resolves once the socket accepts. */
export async function spawnServer(db: string, sock: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(BVS, ['ovsdb-server', db, '--remote', `punix:${sock}`, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const log = { text: '' };
  logs.set(child, log);
  child.stderr!.on('data', (d) => (log.text += String(d)));
  (await connectWhenUp(sock, child, () => log.text)).close();
  return child;
}
/** A client of `unix:SOCK`. */
export const connect = (sock: string): Promise<OvsdbClient> => OvsdbClient.connect(`unix:${sock}`);
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}
export function waitExit(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
}
