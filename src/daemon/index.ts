/**
 * Public surface of src/daemon: `bvs daemon` (D3's src/cli/daemon.ts wires commander to it).
 *
 *   const opts = resolveOptions({ runDir, db, pinDir, nats, natsCreds, logLevel }); // flags > env > defaults
 *   process.exitCode = await runDaemon(opts);  // returns after SIGTERM/SIGINT, once stopped
 *
 * startDaemon(opts) is the same without signal handling (tests, embedding).
 */
export { DAEMON_DEFAULTS, DaemonOptionsError, DaemonOptionsSchema, LOG_LEVELS, resolveOptions, type DaemonOptions, type DaemonOptionsInput } from './options.ts';
export { DaemonError, runDaemon, startDaemon, type Daemon, type DaemonTuning } from './daemon.ts';
export { createLogger, silentLogger, type Logger } from './logging.ts';
export type { Services, Backoff } from './services.ts';
