/**
 * Deliberately broken targets, for harness.test.ts: each fails the property in one way on the
 * input 7 (of 0..9), so that the test can show the harness reports that way and that input.
 */
import fc from 'fast-check';
import { prototypeState, type Target } from '../target.ts';

class SelfTestError extends Error { override name = 'SelfTestError'; }

/** A table that the 'state' target edits. */
const TABLE = { a: 1 };

function target(name: string, broken: (x: number) => void): Target<number> {
  return {
    name,
    encode: (x) => x,
    decode: (j) => j as number,
    inputs: () => fc.integer({ min: 0, max: 9 }),
    isNamed: (e) => e instanceof SelfTestError,
    state: () => [...prototypeState(), TABLE.a],
    run(x) {
      if (x === 7) broken(x);
      else if (x % 2) throw new SelfTestError('a named error is a fine answer');
    },
  };
}

const busyWait = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* spin */ } };

export const SELFTESTS = [
  target('selftest-typeerror', () => { (undefined as unknown as { x: () => void }).x(); }),
  target('selftest-state', () => { TABLE.a++; }),
  target('selftest-slow', () => busyWait(1100)),
  target('selftest-hang', () => { for (;;) { /* never returns */ } }),
];
