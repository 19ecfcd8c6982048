import type { Command } from 'commander';

export function registerDpctl(program: Command): void {
  program.command('dpctl').description('inspect and program a bvs datapath (like ovs-dpctl)');
}
