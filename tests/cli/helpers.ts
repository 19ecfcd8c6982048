/** Helpers of the CLI tests: run bin/bvs and the real OVS clients as child processes, temp dirs. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectWhenUp } from '../helpers/ovsdb.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BVS = path.join(ROOT, 'bin/bvs');

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a program without blocking the event loop (a stub responder may live in this process). */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

export const bvs = (args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> =>
  run(BVS, args, opts);

const dirs: string[] = [];

export function tempDir(tag: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `bvs-cli-${tag}-${process.pid}-`));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** `bvs ovsdb-server DB --remote punix:SOCK` as a child; resolves once it accepts connections. */
export async function startOvsdbServer(dir: string): Promise<{ sock: string; child: ChildProcess; stop(): Promise<void> }> {
  const db = path.join(dir, 'conf.db');
  const sock = path.join(dir, 'db.sock');
  const c = await bvs(['ovsdb-tool', 'create', db]);
  if (c.code !== 0) throw new Error(`ovsdb-tool create: ${c.stderr}`);
  const child = spawn(BVS, ['ovsdb-server', db, '--remote', `punix:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    (await connectWhenUp(sock, child, () => stderr)).close();
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    sock, child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}
