/**
 * Directly runnable daemon entry, for environments without the full CLI:
 *   node --import tsx src/daemon/main.ts [--run-dir DIR] [--db FILE] [--pin-dir DIR]
 *        [--nats URL] [--nats-creds FILE] [--log-level LEVEL] [--host ID]
 * `bvs daemon` (src/cli/daemon.ts) is the usual way; both end in runDaemon().
 */
import { parseArgs } from 'node:util';
import { resolveOptions } from './options.ts';
import { runDaemon } from './daemon.ts';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'run-dir': { type: 'string' }, db: { type: 'string' }, 'pin-dir': { type: 'string' },
      nats: { type: 'string' }, 'nats-creds': { type: 'string' }, 'log-level': { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const opts = resolveOptions({
    runDir: values['run-dir'], db: values.db, pinDir: values['pin-dir'], nats: values.nats,
    natsCreds: values['nats-creds'], logLevel: values['log-level'], host: values.host,
  });
  return runDaemon(opts);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`bvs daemon: ${(err as Error).message}\n`);
    if (process.env.BVS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
