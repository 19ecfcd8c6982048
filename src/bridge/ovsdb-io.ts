/**
 * The ovsdb actor's I/O (src/actors/ovsdb.machine.ts decides when; this does it): open and
 * serve the database, watch it for commits, close it. Each is actor logic the machine names in
 * setup({ actors }), so a test swaps it with machine.provide({ actors }).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { OvsdbServer, Storage, VSWITCH_SCHEMA_PATH, type DbHandle } from '../ovsdb/index.ts';
import type { CoverageSink } from './coverage.ts';
import type { Logger } from './services.ts';

export interface OpenOvsdbInput {
  dbPath: string;
  sockPath: string;
  log: Logger;
  coverage?: CoverageSink;
}

export class OvsdbOpenError extends Error {
  override name = 'OvsdbOpenError';
}

/** Opens (creating if needed) and serves the database; ensures the Open_vSwitch row. */
export async function openOvsdb(input: OpenOvsdbInput): Promise<OvsdbServer> {
  if (!fs.existsSync(input.dbPath)) {
    fs.mkdirSync(path.dirname(input.dbPath), { recursive: true, mode: 0o700 });
    await Storage.create(input.dbPath, JSON.parse(fs.readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
    input.log.info({ db: input.dbPath }, 'created database');
  }
  fs.rmSync(input.sockPath, { force: true }); // a stale socket of a killed daemon
  const srv = await OvsdbServer.open({
    dbPath: input.dbPath, remotes: [`punix:${input.sockPath}`], socketMode: 0o600,
    log: (m) => input.log.warn({ component: 'ovsdb-server' }, m),
    limits: { onReject: () => input.coverage?.inc('jsonrpc_conn_rejected') },
  });
  try {
    if (srv.db.rows('Open_vSwitch').length === 0) {
      const r = await srv.db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]) as { error?: string }[];
      if (r[0]?.error) throw new OvsdbOpenError(`cannot create the Open_vSwitch row: ${r[0].error}`);
    }
    // ovs-vswitchd reports its version and types; bvs reports the subset it implements.
    await srv.db.transact([{
      op: 'update', table: 'Open_vSwitch', where: [],
      row: { ovs_version: 'bvs-0.1.0', datapath_types: ['set', ['system']], iface_types: ['set', ['internal', 'system']] },
    }]);
  } catch (err) {
    await srv.close();
    throw err;
  }
  return srv;
}

/** Open_vSwitch.next_cfg (0 before the row exists). */
export function currentNextCfg(db: DbHandle): number {
  const row = db.rows('Open_vSwitch')[0] as { next_cfg?: unknown } | undefined;
  return typeof row?.next_cfg === 'number' ? row.next_cfg : 0;
}

export const openOvsdbLogic = fromPromise<OvsdbServer, OpenOvsdbInput>(({ input }) => openOvsdb(input));
export const closeOvsdbLogic = fromPromise<void, { server: OvsdbServer | null }>(async ({ input }) => { await input.server?.close(); });

export type OvsdbWatchEvent = { type: 'CHANGED'; nextCfg: number };

/** Sends CHANGED with next_cfg after commits; several commits in one tick make one event. */
export const watchOvsdbLogic = fromCallback<{ type: 'STOP' }, { db: DbHandle }>(({ input, sendBack }) => {
  let pending = false;
  return input.db.subscribe(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      sendBack({ type: 'CHANGED', nextCfg: currentNextCfg(input.db) } satisfies OvsdbWatchEvent);
    });
  });
});
