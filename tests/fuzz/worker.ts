/**
 * The fuzz loop, run in a worker thread so that the main thread can watch it: before each
 * input the worker writes the input (its corpus line) and the time into a shared buffer, so a
 * parser that never returns is caught by harness.ts and the input that hung it is kept.
 *
 * Per target: replay corpus/<name>/regressions.jsonl and seeds.jsonl, then `runs` generated
 * inputs from a fixed seed (fast-check, which shrinks a failing input before it is reported).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { CORPUS_DIR, HEADER_BYTES, SLOW_MS, type Failure, type RunReport, type RunRequest, type Target } from './target.ts';
import { TARGETS } from './targets/index.ts';

export function readCorpus(name: string, file: string): unknown[] {
  const p = path.join(CORPUS_DIR, name, file);
  if (!fs.existsSync(p)) return [];
  return fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

class Runner<I> {
  readonly failures: Failure[] = [];
  maxMs = 0;
  slowest = '';
  #base: readonly unknown[];
  readonly #flags: Int32Array;
  readonly #start: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #enc = new TextEncoder();

  constructor(readonly t: Target<I>, shared: SharedArrayBuffer) {
    this.#base = t.state();
    this.#flags = new Int32Array(shared, 0, 2);
    this.#start = new Float64Array(shared, 8, 1);
    this.#bytes = new Uint8Array(shared, HEADER_BYTES);
  }

  /** Runs one input; returns why it failed, or undefined. */
  check(input: I): string | undefined {
    const line = JSON.stringify(this.t.encode(input));
    const { written } = this.#enc.encodeInto(line, this.#bytes);
    Atomics.store(this.#flags, 1, written);
    this.#start[0] = Date.now();
    Atomics.store(this.#flags, 0, 1);
    let ms: number;
    let reason: string | undefined;
    try {
      ms = this.#timed(input, (r) => { reason = r; });
      if (reason === undefined && ms > SLOW_MS) {
        // One slow run may be the loaded machine; a slow parse is slow twice.
        ms = Math.min(ms, this.#timed(input, () => {}));
        if (ms > SLOW_MS) reason = `took ${ms.toFixed(0)} ms (limit ${SLOW_MS} ms)`;
      }
    } finally {
      Atomics.store(this.#flags, 0, 0);
    }
    if (ms > this.maxMs) { this.maxMs = ms; this.slowest = line.slice(0, 200); }
    if (reason !== undefined) return reason;
    if (JSON.stringify(this.t.encode(input)) !== line) return 'the parser changed its input';
    const now = this.t.state();
    const i = now.findIndex((v, k) => !Object.is(v, this.#base[k]));
    if (i >= 0 || now.length !== this.#base.length) {
      const what = i >= 0 ? `entry ${i} (${String(this.#base[i])} -> ${String(now[i])})` : `size ${this.#base.length} -> ${now.length}`;
      this.#base = now; // so that shrinking looks for an input that changes it again
      return `shared state changed: ${what}`;
    }
    return undefined;
  }

  #timed(input: I, fail: (reason: string) => void): number {
    const t0 = performance.now();
    try {
      this.t.run(input);
    } catch (e) {
      if (!this.t.isNamed(e)) {
        const err = e as Error;
        fail(`${err?.name ?? typeof e}: ${err?.message ?? String(e)}${err?.stack ? `\n${err.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
      }
    }
    return performance.now() - t0;
  }
}

function runTarget(req: RunRequest, shared: SharedArrayBuffer): RunReport {
  const t = TARGETS.get(req.name) as Target<unknown> | undefined;
  if (!t) throw new Error(`no fuzz target "${req.name}"`);
  const t0 = performance.now();
  const r = new Runner(t, shared);
  const seeds = [...readCorpus(t.name, 'seeds.jsonl').map((j) => t.decode(j)), ...(t.builtSeeds?.() ?? [])];
  const regressions = readCorpus(t.name, 'regressions.jsonl').map((j) => t.decode(j));
  for (const input of [...regressions, ...seeds]) {
    const reason = r.check(input);
    if (reason !== undefined) r.failures.push({ line: JSON.stringify(t.encode(input)), reason });
  }
  const details = fc.check(fc.property(t.inputs(seeds), (input) => {
    const reason = r.check(input);
    if (reason !== undefined) throw new Error(reason);
  }), { seed: req.seed, numRuns: req.runs });
  if (details.failed && details.counterexample) {
    const input = details.counterexample[0];
    const reason = (details.errorInstance as Error | undefined)?.message ?? 'failed';
    r.failures.push({ line: JSON.stringify(t.encode(input)), reason: `${reason} (seed ${req.seed}, after ${details.numRuns} runs, shrunk ${details.numShrinks} times)` });
  }
  return {
    name: t.name, replayed: regressions.length + seeds.length, generated: details.numRuns,
    maxMs: r.maxMs, slowest: r.slowest, failures: r.failures, elapsedMs: performance.now() - t0,
  };
}

if (parentPort && workerData?.fuzzShared) {
  const shared = workerData.fuzzShared as SharedArrayBuffer;
  parentPort.on('message', (req: RunRequest) => {
    parentPort!.postMessage(runTarget(req, shared));
  });
}
