/**
 * bvs command line: one executable with OVS-style subcommands. Each subcommand lives in its own
 * module and registers itself on the root program; commander gives `--help` at every level.
 * Why commander: it is the most used, well-kept Node CLI library, has nested subcommands, variadic
 * arguments and generated help, and no dependencies.
 */
import { Command, CommanderError } from 'commander';
import { registerDpctl } from './dpctl.ts';
import { registerOfproto } from './ofproto.ts';
import { registerOvsdb } from './ovsdb.ts';
import { registerVsctl } from './vsctl.ts';
import { registerOfctl } from './ofctl.ts';
import { registerAppctl } from './appctl.ts';
import { registerDaemon } from './daemon.ts';

export function buildProgram(): Command {
  const program = new Command('bvs')
    .description('bvs: an Open vSwitch-style virtual switch with an eBPF datapath')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  registerDpctl(program);
  registerOfproto(program);
  registerOvsdb(program);
  registerVsctl(program);
  registerOfctl(program);
  registerAppctl(program);
  registerDaemon(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander.
      return err.exitCode;
    }
    const e = err as Error;
    const sub = argv[2] && !argv[2].startsWith('-') ? ` ${argv[2]}` : '';
    process.stderr.write(`bvs${sub}: ${e.message}\n`);
    if (process.env.BVS_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
