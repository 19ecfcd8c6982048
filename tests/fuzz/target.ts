/**
 * What a fuzz target is: one parser (or codec) and the property every input must satisfy.
 *
 * The property (issue 9): an input yields a result or one of the project's own named errors.
 * Never a TypeError, RangeError or stack overflow, never more than 1 s, and never a change to
 * shared state: neither the module tables a target names in state() nor the input itself.
 * A target may add checks of its own in run() (a round trip through the printer), failing
 * them with PropertyViolation, which is not a named error and so counts as a defect.
 */
import path from 'node:path';
import type fc from 'fast-check';
import { textInputs } from './mutate.ts';

export interface Target<I> {
  /** Also the corpus directory: tests/fuzz/corpus/<name>/. */
  readonly name: string;
  /** An input as one JSON value (one line of a corpus file), and back. */
  encode(input: I): unknown;
  decode(json: unknown): I;
  /** Seeds built in code, beside corpus/<name>/seeds.jsonl (frames from the test builders). */
  builtSeeds?(): I[];
  /** Random inputs and mutations of the seeds. */
  inputs(seeds: readonly I[]): fc.Arbitrary<I>;
  /** Feeds one input to the parser; returns, or throws whatever the parser throws. */
  run(input: I): void;
  /** The project's own errors for this input: what a parser may throw. */
  isNamed(err: unknown): boolean;
  /**
   * Values a parse must leave alone, compared with Object.is after every input: the module
   * tables the parser reads and the prototypes every lookup falls back to.
   */
  state(): readonly unknown[];
}

/** The parts of a target whose inputs are text (a corpus line is the JSON string). */
export function textTarget(fragments: readonly string[], isNamed: (e: unknown) => boolean, state: () => readonly unknown[]):
  Pick<Target<string>, 'encode' | 'decode' | 'inputs' | 'isNamed' | 'state'> {
  return { encode: (s) => s, decode: (j) => j as string, inputs: (seeds) => textInputs(seeds, fragments), isNamed, state };
}

/** A property of the target failed (not a crash of the parser, but wrong output). */
export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

/**
 * Own properties of the prototypes a lookup by a user token reaches (obj[key], obj[key][k]):
 * prototype pollution shows here.
 */
export function prototypeState(): unknown[] {
  const out: unknown[] = [];
  for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
    const keys = Reflect.ownKeys(proto);
    out.push(keys.length);
    for (const k of keys) {
      const d = Object.getOwnPropertyDescriptor(proto, k)!;
      out.push(k, d.value ?? d.get);
    }
  }
  return out;
}

/** Every key and value of a Map (or entries of an object), flattened for comparison. */
export function entriesState(m: ReadonlyMap<unknown, unknown> | object): unknown[] {
  const entries = m instanceof Map ? [...m] : Object.entries(m);
  return entries.flat();
}

// ---- Between harness.ts (main thread) and worker.ts

export const CORPUS_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), 'corpus');
/** An input that returns after more than this is a defect (issue 9). */
export const SLOW_MS = 1000;
/** Shared buffer: int32 [0] busy, [1] length of the line; float64 at 8: start (Date.now()). */
export const HEADER_BYTES = 16;

export interface RunRequest { name: string; seed: number; runs: number }
export interface Failure { line: string; reason: string }
export interface RunReport {
  name: string;
  replayed: number;
  generated: number;
  maxMs: number;
  slowest: string;
  elapsedMs: number;
  failures: Failure[];
}
