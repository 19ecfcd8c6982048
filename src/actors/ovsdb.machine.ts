/**
 * The ovsdb actor: owns the OVSDB server of the daemon (the database file, served on
 * DIR/db.sock with mode 0600) and reports committed changes.
 *
 * Lifecycle: opening (create the file from the vswitch schema when missing, open, serve, and
 * make sure the one Open_vSwitch row exists: `ovs-vsctl init` semantics) -> serving -> on STOP:
 * closing -> stopped (final). Once serving it sends its parent OVSDB_READY with the DbHandle,
 * and after each durable commit CONFIG_CHANGED with next_cfg (several commits in one tick are
 * coalesced into one event). A failure to open makes the actor fail; its supervisor restarts it.
 *
 * I/O lives in the `open`, `watch` and `close` actors, so tests can swap them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assign, fromCallback, fromPromise, sendParent, setup } from 'xstate';
import type { Logger } from '../bridge/index.ts';
import { OvsdbServer, Storage, VSWITCH_SCHEMA_PATH, type DbHandle } from '../ovsdb/index.ts';

export interface OvsdbInput {
  dbPath: string;
  sockPath: string;
  log: Logger;
  /** Called for each coalesced change (the daemon publishes config.changed). */
  onChange?: (nextCfg: number) => void;
}

export type OvsdbParentEvent =
  | { type: 'OVSDB_READY'; db: DbHandle }
  | { type: 'CONFIG_CHANGED'; nextCfg: number };

/** Opens (creating if needed) and serves the database; ensures the Open_vSwitch row. */
export async function openOvsdb(input: { dbPath: string; sockPath: string; log: Logger }): Promise<OvsdbServer> {
  if (!fs.existsSync(input.dbPath)) {
    fs.mkdirSync(path.dirname(input.dbPath), { recursive: true, mode: 0o700 });
    await Storage.create(input.dbPath, JSON.parse(fs.readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
    input.log.info({ db: input.dbPath }, 'created database');
  }
  fs.rmSync(input.sockPath, { force: true }); // a stale socket of a killed daemon
  const srv = await OvsdbServer.open({
    dbPath: input.dbPath, remotes: [`punix:${input.sockPath}`], socketMode: 0o600,
    log: (m) => input.log.warn({ component: 'ovsdb-server' }, m),
  });
  try {
    if (srv.db.rows('Open_vSwitch').length === 0) {
      const r = await srv.db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]) as { error?: string }[];
      if (r[0]?.error) throw new Error(`cannot create the Open_vSwitch row: ${r[0].error}`);
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

function currentNextCfg(db: DbHandle): number {
  const row = db.rows('Open_vSwitch')[0] as { next_cfg?: unknown } | undefined;
  return typeof row?.next_cfg === 'number' ? row.next_cfg : 0;
}

export const ovsdbMachine = setup({
  types: {
    input: {} as OvsdbInput,
    context: {} as OvsdbInput & { server: OvsdbServer | null },
    events: {} as { type: 'STOP' } | { type: 'CHANGED'; nextCfg: number },
  },
  actors: {
    open: fromPromise<OvsdbServer, { dbPath: string; sockPath: string; log: Logger }>(({ input }) => openOvsdb(input)),
    close: fromPromise<void, { server: OvsdbServer | null }>(async ({ input }) => { await input.server?.close(); }),
    watch: fromCallback<{ type: 'STOP' }, { db: DbHandle }>(({ input, sendBack }) => {
      let pending = false;
      return input.db.subscribe(() => {
        if (pending) return;
        pending = true;
        setImmediate(() => {
          pending = false;
          sendBack({ type: 'CHANGED', nextCfg: currentNextCfg(input.db) });
        });
      });
    }),
  },
}).createMachine({
  id: 'ovsdb',
  context: ({ input }) => ({ ...input, server: null }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        src: 'open',
        input: ({ context }) => ({ dbPath: context.dbPath, sockPath: context.sockPath, log: context.log }),
        onDone: {
          target: 'serving',
          actions: [
            assign({ server: ({ event }) => event.output }),
            ({ context, event }) => context.log.info({ db: context.dbPath, socket: context.sockPath, nextCfg: currentNextCfg(event.output.db) }, 'ovsdb serving'),
            sendParent(({ event }) => ({ type: 'OVSDB_READY', db: event.output.db })),
          ],
        },
        // No onError: the failure propagates and the supervisor restarts this actor.
      },
      on: { STOP: 'stopped' },
    },
    serving: {
      invoke: { src: 'watch', input: ({ context }) => ({ db: context.server!.db }) },
      on: {
        CHANGED: {
          actions: [
            ({ context, event }) => context.onChange?.(event.nextCfg),
            sendParent(({ event }) => ({ type: 'CONFIG_CHANGED', nextCfg: event.nextCfg })),
          ],
        },
        STOP: 'closing',
      },
    },
    closing: {
      invoke: {
        src: 'close',
        input: ({ context }) => ({ server: context.server }),
        onDone: 'stopped',
        onError: { target: 'stopped', actions: ({ context, event }) => context.log.error({ err: event.error }, 'ovsdb close failed') },
      },
    },
    stopped: { type: 'final' },
  },
});
