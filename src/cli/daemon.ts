/**
 * `bvs daemon`: the switch daemon (src/daemon). This module only maps the command line onto the
 * daemon's options; flags win over the environment (BVS_RUN_DIR, BVS_DB, BVS_PIN_DIR,
 * BVS_NATS_URL, BVS_NATS_CREDS, BVS_LOG_LEVEL, BVS_HOST), which wins over the defaults.
 * Validation and its messages (naming the flag) are src/daemon/options.ts's.
 *
 * The daemon module is imported when the command runs, so the other subcommands never load
 * the daemon's dependencies (xstate, pino, the addon).
 */
import type { Command } from 'commander';
import { DAEMON_DEFAULTS, LOG_LEVELS, resolveOptions, type DaemonOptionsInput } from '../daemon/options.ts'; // not index.ts: see above

interface DaemonFlags {
  runDir?: string;
  db?: string;
  pinDir?: string;
  nats?: string;
  natsCreds?: string;
  logLevel?: string;
  host?: string;
}

export function registerDaemon(program: Command): void {
  program.command('daemon')
    .description('run the bvs switch: OVSDB on DIR/db.sock, bridges and ports from it, commands and events over NATS')
    .option('--run-dir <DIR>', `run directory: db.sock, nats.url, bvs.pid (env BVS_RUN_DIR; default ${DAEMON_DEFAULTS.runDir})`)
    .option('--db <FILE>', `configuration database, created if missing (env BVS_DB; default ${DAEMON_DEFAULTS.db})`)
    .option('--pin-dir <DIR>', `bpffs directory of the datapath pins (env BVS_PIN_DIR; default ${DAEMON_DEFAULTS.pinDir})`)
    .option('--nats <URL>', 'use this NATS server or cluster instead of starting one (env BVS_NATS_URL)')
    .option('--nats-creds <FILE>', 'NATS credentials file for --nats (env BVS_NATS_CREDS)')
    .option('--log-level <LEVEL>', `${LOG_LEVELS.join('|')} (env BVS_LOG_LEVEL; default ${DAEMON_DEFAULTS.logLevel})`)
    .option('--host <ID>', 'host id in the NATS subjects (env BVS_HOST; default the hostname)')
    .action(async (flags: DaemonFlags) => {
      const input: DaemonOptionsInput = { ...flags };
      const opts = resolveOptions(input);
      const { runDaemon } = await import('../daemon/index.ts');
      process.exitCode = await runDaemon(opts); // returns after SIGTERM/SIGINT, once stopped
    });
}
