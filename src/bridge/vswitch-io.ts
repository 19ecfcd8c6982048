/**
 * The vswitch actor's I/O (src/actors/vswitch.machine.ts decides when; this does it): list the
 * pinned datapaths (orphans are found among them at start) and commit cur_cfg. Each is actor
 * logic the machine names in setup({ actors }), so a test swaps it with provide({ actors }).
 */
import { fromPromise } from 'xstate';
import { Datapath } from '../datapath/index.ts';
import { transactStatus, type StatusServices } from './services.ts';

export class CurCfgError extends Error {
  override name = 'CurCfgError';
}

/** The names of the datapaths pinned under the pin root (this run's and earlier runs'). */
export const listDatapathsLogic = fromPromise<string[]>(async () => Datapath.list());

/** Writes Open_vSwitch.cur_cfg; resolves with the value written. */
export async function commitCurCfg(services: StatusServices, nextCfg: number): Promise<number> {
  const ok = await transactStatus(services, [{ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: nextCfg } }], 'cur_cfg');
  if (!ok) throw new CurCfgError(`cannot write cur_cfg ${nextCfg}`);
  return nextCfg;
}

export const commitCurCfgLogic = fromPromise<number, { services: StatusServices; nextCfg: number }>(
  ({ input }) => commitCurCfg(input.services, input.nextCfg));
