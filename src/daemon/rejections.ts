/**
 * Unhandled promise rejections: Node ends the process on one by default. In the daemon one is
 * always a bug (every I/O path handles its own failures), and ending the process would stop
 * OVSDB and the upcall handlers for every bridge over one broken request. So it is logged,
 * counted, and shown in daemon.health (component "unhandled-rejections", degraded), and the
 * daemon keeps serving. Uncaught exceptions are left fatal: the stack may be in an undefined
 * state, and the pinned datapath keeps forwarding until the daemon is restarted.
 */
import type { Services } from '../bridge/index.ts';

export const REJECTIONS_COMPONENT = 'unhandled-rejections';

/** Installs the handler; returns its removal (the daemon's stop). */
export function containRejections(s: Pick<Services, 'log' | 'health' | 'coverage'>): () => void {
  let n = 0;
  const onRejection = (reason: unknown): void => {
    n++;
    s.coverage.inc('daemon_unhandled_rejection');
    s.log.error({ component: 'daemon', err: reason, count: n }, 'unhandled promise rejection (a bug); still serving');
    const what = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    s.health.set(REJECTIONS_COMPONENT, { status: 'degraded', restarts: 0, detail: `${n} since start; last: ${what.slice(0, 200)}` });
  };
  process.on('unhandledRejection', onRejection);
  return () => { process.off('unhandledRejection', onRejection); };
}
