/**
 * The main-thread side of the fuzzers: runs a target in the shared worker (worker.ts), watches
 * it for an input that never returns, keeps every failing input as a regression case, and
 * asserts that nothing failed.
 *
 *   t('ofctl-flow', async () => expectClean(await fuzz('ofctl-flow')));
 *
 * Bounded and reproducible: FUZZ_RUNS inputs per target (10k by default) from a fixed seed
 * (FUZZ_SEED, mixed with the target's name). A failing input is appended to
 * tests/fuzz/corpus/<target>/regressions.jsonl, which every later run replays first: commit it
 * with the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as assert from 'uvu/assert';
import { CORPUS_DIR, HEADER_BYTES, type RunReport, type RunRequest } from './target.ts';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 9);
/**
 * A parse that returns is timed by the worker (limit 1 s). One that never returns is caught
 * here, later, so that a loaded machine cannot turn a slow but finite input into a "hang".
 */
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 10_000);
const SHARED_BYTES = HEADER_BYTES + (4 << 20);

let current: { worker: Worker; shared: SharedArrayBuffer } | undefined;

function startWorker(): { worker: Worker; shared: SharedArrayBuffer } {
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  // A worker does not inherit the tsx loader (Node 20): register it, then load the TypeScript.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(code, { eval: true, workerData: { fuzzShared: shared } });
  worker.unref(); // the suite's process ends with its tests, whatever the worker does
  return { worker, shared };
}

function seedOf(name: string): number {
  let h = SEED | 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}

/** Runs one target: its corpus, then `runs` generated inputs. */
export function fuzz(name: string, runs = RUNS, hangMs = HANG_MS): Promise<RunReport> {
  current ??= startWorker();
  const { worker, shared } = current;
  const flags = new Int32Array(shared, 0, 2);
  const start = new Float64Array(shared, 8, 1);
  return new Promise<RunReport>((resolve, reject) => {
    const finish = (): void => {
      clearInterval(watchdog);
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (r: RunReport): void => { finish(); resolve(r); };
    const onError = (e: Error): void => { finish(); current = undefined; reject(e); };
    const watchdog = setInterval(() => {
      if (Atomics.load(flags, 0) !== 1 || Date.now() - start[0]! <= hangMs) return;
      const line = new TextDecoder().decode(new Uint8Array(shared, HEADER_BYTES, Atomics.load(flags, 1)).slice());
      finish();
      current = undefined;
      void worker.terminate();
      resolve({
        name, replayed: 0, generated: 0, maxMs: Date.now() - start[0]!, slowest: line.slice(0, 200), elapsedMs: NaN,
        failures: [{ line, reason: `hung: no return after ${hangMs} ms` }],
      });
    }, 100);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage({ name, seed: seedOf(name), runs } satisfies RunRequest);
  });
}

/** Appends each failing input to corpus/<name>/regressions.jsonl (once). */
function record(r: RunReport): string {
  if (r.failures.length === 0) return '';
  const file = path.join(CORPUS_DIR, r.name, 'regressions.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const have = new Set(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []);
  const added = r.failures.map((f) => f.line).filter((l) => !have.has(l));
  if (added.length) fs.appendFileSync(file, [...new Set(added)].map((l) => `${l}\n`).join(''));
  return ` (kept in ${path.relative(process.cwd(), file)})`;
}

/** Asserts that the target ran in full and nothing failed; prints a one-line summary. */
export function expectClean(r: RunReport, runs = RUNS): void {
  const kept = record(r);
  const summary = `${r.name}: ${r.replayed} corpus + ${r.generated} generated inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, slowest ${r.maxMs.toFixed(1)} ms`;
  console.log(`  ${summary}`);
  const shown = r.failures.slice(0, 5).map((f) => `  input ${f.line.length > 300 ? `${f.line.slice(0, 300)}...` : f.line}\n  ${f.reason}`);
  assert.ok(r.failures.length === 0, `${summary}: ${r.failures.length} failing input(s)${kept}\n${shown.join('\n')}`);
  assert.ok(r.generated >= runs, `${r.name}: only ${r.generated} of ${runs} inputs ran`);
}
