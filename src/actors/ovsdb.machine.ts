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
 * I/O lives in the `open`, `watch` and `close` actors (src/bridge/ovsdb-io.ts), so tests can
 * swap them.
 */
import { assign, sendParent, setup } from 'xstate';
import {
  closeOvsdbLogic, currentNextCfg, openOvsdbLogic, watchOvsdbLogic, type CoverageSink, type Logger, type OvsdbWatchEvent,
} from '../bridge/index.ts';
import type { DbHandle, OvsdbServer } from '../ovsdb/index.ts';

export interface OvsdbInput {
  dbPath: string;
  sockPath: string;
  log: Logger;
  /** Counts connections refused at the connection limit (jsonrpc_conn_rejected). */
  coverage?: CoverageSink;
  /** Called for each coalesced change (the daemon publishes config.changed). */
  onChange?: (nextCfg: number) => void;
}

export type OvsdbParentEvent =
  | { type: 'OVSDB_READY'; db: DbHandle }
  | { type: 'CONFIG_CHANGED'; nextCfg: number };

export const ovsdbMachine = setup({
  types: {
    input: {} as OvsdbInput,
    context: {} as OvsdbInput & { server: OvsdbServer | null },
    events: {} as { type: 'STOP' } | OvsdbWatchEvent,
  },
  actors: {
    open: openOvsdbLogic,
    close: closeOvsdbLogic,
    watch: watchOvsdbLogic,
  },
}).createMachine({
  id: 'ovsdb',
  context: ({ input }) => ({ ...input, server: null }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        src: 'open',
        input: ({ context }) => ({ dbPath: context.dbPath, sockPath: context.sockPath, log: context.log, coverage: context.coverage }),
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
