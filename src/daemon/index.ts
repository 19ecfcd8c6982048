/**
 * Public surface of src/daemon, the composition root: it builds the services, starts NATS, the
 * actor tree and the command handlers, and stops them; nothing below imports it. `bvs daemon`
 * (src/cli/daemon.ts, the one entry point) wires commander to it.
 *
 *   const opts = resolveOptions({ runDir, db, pinDir, nats, natsCreds, logLevel }); // flags > env > defaults
 *   process.exitCode = await runDaemon(opts);  // returns after SIGTERM/SIGINT, once stopped
 *
 * startDaemon(opts) is the same without signal handling (tests, embedding).
 */
export { DAEMON_DEFAULTS, DaemonOptionsError, DaemonOptionsSchema, LOG_LEVELS, resolveOptions, type DaemonOptions, type DaemonOptionsInput } from './options.ts';
export { DaemonError, runDaemon, startDaemon, type Daemon, type DaemonTuning } from './daemon.ts';
export { createLogger, silentLogger, type Logger } from './logging.ts';
