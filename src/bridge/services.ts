/**
 * What the daemon hands its actors and the NATS command handlers: logging, event publishing,
 * the registry of live bridge runtimes, the current OVSDB handle, and timing knobs. A plain
 * object of dependencies, so a test can build one with fakes. The daemon (the composition
 * root) builds the real one; nothing here imports the daemon.
 */
import type { Logger } from 'pino';
import type { EventInputOf, EventName } from '../bus/index.ts';
import type { DbHandle } from '../ovsdb/index.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import type { Coverage } from './coverage.ts';

export type { Logger };

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface Services {
  log: Logger;
  /** Publishes a bus event; a no-op without a bus. Never throws. */
  publish: <E extends EventName>(name: E, payload: EventInputOf<E>) => void;
  /** Live runtimes by bridge name (bridge actors add and remove themselves). */
  runtimes: Map<string, BridgeRuntime>;
  /** The OVSDB handle of the serving ovsdb actor (replaced when it restarts). */
  db: { current: DbHandle | null };
  /** Restart/retry backoff of supervised actors and missing interfaces. */
  backoff: Backoff;
  /** How often port actors poll link state. */
  linkPollMs: number;
  /** Restart counts and last failures by component, for daemon.health and appctl. */
  health: Map<string, { restarts: number; status: 'ok' | 'degraded' | 'failing'; detail?: string }>;
  /** Event counters (coverage/show): every resource limit hit is counted here. */
  coverage: Coverage;
  /** The run dir, where bridges serve OpenFlow (BR.mgmt); none in unit tests of machines. */
  runDir?: string;
}

/** Delay before retry number `n` (0-based): initial * 2^n, capped. */
export function backoffDelay(b: Backoff, n: number): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.min(n, 20));
}

/** What a status write needs: the current OVSDB handle and a log for its failures. */
export type StatusServices = Pick<Services, 'db' | 'log'>;

/** Runs OVSDB ops on the current handle; resolves false (logged) when it cannot. */
export async function transactStatus(s: StatusServices, ops: unknown[], what: string): Promise<boolean> {
  const db = s.db.current;
  if (!db) return false;
  try {
    const r = await db.transact(ops) as ({ error?: string; details?: string } | null)[];
    const bad = r.find((x) => x && typeof x === 'object' && 'error' in x && x.error);
    if (bad) {
      s.log.warn({ what, error: bad.error, details: bad.details }, 'ovsdb status write failed');
      return false;
    }
    return true;
  } catch (err) {
    s.log.warn({ what, err }, 'ovsdb status write failed');
    return false;
  }
}
