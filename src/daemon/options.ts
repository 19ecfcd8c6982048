/**
 * Daemon options: command line flags, then environment variables, then defaults, validated with
 * zod at this boundary (the CLI is user input). Errors name the option.
 *
 *   bvs daemon [--run-dir DIR] [--db FILE] [--pin-dir DIR] [--nats URL] [--nats-creds FILE]
 *              [--log-level LEVEL] [--host ID]
 *   env: BVS_RUN_DIR, BVS_DB, BVS_PIN_DIR, BVS_NATS_URL, BVS_NATS_CREDS, BVS_LOG_LEVEL, BVS_HOST
 */
import path from 'node:path';
import { z } from 'zod';

export const DAEMON_DEFAULTS = {
  runDir: '/run/bvs',
  db: '/var/lib/bvs/conf.db',
  pinDir: '/sys/fs/bpf/bvs',
  logLevel: 'info',
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const absPath = (what: string) => z.string().min(1, `${what} must not be empty`).transform((p) => path.resolve(p));

export const DaemonOptionsSchema = z.strictObject({
  runDir: absPath('run dir'),
  db: absPath('database file'),
  pinDir: absPath('pin dir').refine((p) => p.startsWith('/sys/fs/bpf/'), 'must be under /sys/fs/bpf (bpffs)'),
  nats: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'expected a NATS URL like nats://host:4222').optional(),
  natsCreds: absPath('NATS credentials file').optional(),
  logLevel: z.enum(LOG_LEVELS),
  /** Host id of the NATS subjects (default: hostId()). */
  host: z.string().min(1).optional(),
});

export type DaemonOptions = z.output<typeof DaemonOptionsSchema>;
export type DaemonOptionsInput = Partial<Record<keyof DaemonOptions, string | undefined>>;

/** Names of the flags, for error messages. */
const FLAG: Record<keyof DaemonOptions, string> = {
  runDir: '--run-dir', db: '--db', pinDir: '--pin-dir', nats: '--nats', natsCreds: '--nats-creds',
  logLevel: '--log-level', host: '--host',
};

export class DaemonOptionsError extends Error {
  override name = 'DaemonOptionsError';
  constructor(readonly option: string, message: string) {
    super(`${option}: ${message}`);
  }
}

/** Flags win over the environment, which wins over the defaults. */
export function resolveOptions(flags: DaemonOptionsInput = {}, env: NodeJS.ProcessEnv = process.env): DaemonOptions {
  const pick = (k: keyof DaemonOptions, e: string | undefined, d?: string): string | undefined =>
    flags[k] ?? (e === '' ? undefined : e) ?? d;
  const raw = {
    runDir: pick('runDir', env.BVS_RUN_DIR, DAEMON_DEFAULTS.runDir),
    db: pick('db', env.BVS_DB, DAEMON_DEFAULTS.db),
    pinDir: pick('pinDir', env.BVS_PIN_DIR, DAEMON_DEFAULTS.pinDir),
    nats: pick('nats', env.BVS_NATS_URL),
    natsCreds: pick('natsCreds', env.BVS_NATS_CREDS),
    logLevel: pick('logLevel', env.BVS_LOG_LEVEL, DAEMON_DEFAULTS.logLevel),
    host: pick('host', env.BVS_HOST),
  };
  const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const r = DaemonOptionsSchema.safeParse(clean);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    const key = String(iss.path[0] ?? '') as keyof DaemonOptions;
    throw new DaemonOptionsError(FLAG[key] ?? key, iss.message);
  }
  if (r.data.natsCreds !== undefined && r.data.nats === undefined) {
    throw new DaemonOptionsError('--nats-creds', 'needs --nats URL (the embedded server uses a token)');
  }
  return r.data;
}
