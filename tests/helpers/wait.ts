/**
 * The one polling helper of the test suite. A test waits for the condition it needs, with a
 * deadline, instead of sleeping and then asserting: on a loaded machine a fixed sleep is either
 * too short (a flaky failure) or too long (a slow suite), and a condition is neither.
 *
 *   const n = await waitFor('two flows', () => dp.countFlows() >= 2 && dp.countFlows());
 *
 * `fn` is polled until it returns something other than undefined or false (that value is
 * returned), or throws the last error it threw when the deadline passes. The deadline is
 * generous by default (a loaded two-core machine can stall a process for seconds); a test that
 * needs a tighter bound asserts it on the value, not on time.
 *
 * Asserting that something did NOT happen: first wait for a positive signal that proves the
 * system got past the point where it would have happened (a later event, a counter that moved,
 * a reply to a request sent after), then assert the absence.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_WAIT_MS = 20_000;

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

export interface WaitOptions {
  /** Give up after this long (default DEFAULT_WAIT_MS). */
  timeoutMs?: number;
  /** Poll interval (default 20 ms). */
  stepMs?: number;
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const stepMs = opts.stepMs ?? 20;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      const why = last === undefined ? '' : `: ${(last as Error)?.message ?? String(last)}`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: last });
    }
    await sleep(stepMs);
  }
}
