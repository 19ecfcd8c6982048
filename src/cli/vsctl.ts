/**
 * `bvs vsctl`: configure bvs through OVSDB like ovs-vsctl (src/vsctl does the work). The
 * command line is ovs-vsctl's, `--` separators included, so it is taken raw: commander only
 * routes here and stays out of option parsing.
 */
import type { Command } from 'commander';
import { runVsctl, VsctlError } from '../vsctl/index.ts';

export function registerVsctl(program: Command): void {
  program.command('vsctl')
    .description('configure bridges and ports through OVSDB (DIR/db.sock), like ovs-vsctl; `bvs vsctl --help` for commands')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', 'ovs-vsctl options and commands')
    .action(async (args: string[]) => {
      try {
        const r = await runVsctl(args);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.exitCode;
      } catch (err) {
        if (err instanceof VsctlError && err.exitCode === 2 && err.message === '') {
          process.exitCode = 2; // br-exists: a silent "no"
          return;
        }
        if (err instanceof VsctlError) {
          process.stderr.write(`bvs vsctl: ${err.message}\n`);
          process.exitCode = err.exitCode;
          return;
        }
        throw err;
      }
    });
}
