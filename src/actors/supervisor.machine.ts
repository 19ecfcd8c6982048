/**
 * The supervisor: root of the daemon's actors (ovs-vswitchd's main loop, as an actor tree).
 *
 *   supervisor
 *   ├── ovsdb    (ovsdb.machine.ts)    the database and DIR/db.sock
 *   └── vswitch  (vswitch.machine.ts)  the reconciler, spawned once the database serves
 *       └── bridge:NAME ── port:NAME, upcall, revalidator
 *
 * A child that fails (its actor errors) is logged, counted (services.health: restarts, status,
 * last error; daemon.health shows it) and spawned again after an exponential backoff (a delayed
 * RESTART on the actor system's clock, so a SimulatedClock drives it in tests). When the
 * ovsdb actor comes back, the vswitch actor gets the new handle through services.db and a
 * CONFIG_CHANGED. STOP stops the vswitch first (bridges close their rings and fds; datapaths
 * stay pinned and forwarding), then the ovsdb, then the supervisor reaches its final state.
 * The children are declared as ChildLogic (child-logic.ts), so a test swaps them for stand-ins.
 */
import { assertEvent, assign, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { backoffDelay, type Services } from '../bridge/index.ts';
import type { DbHandle } from '../ovsdb/index.ts';
import type { ChildLogic } from './child-logic.ts';
import { ovsdbMachine, type OvsdbInput } from './ovsdb.machine.ts';
import { vswitchMachine, type VswitchInput } from './vswitch.machine.ts';

export interface SupervisorInput {
  services: Services;
  dbPath: string;
  sockPath: string;
  /** Called for each coalesced OVSDB change (the daemon publishes config.changed). */
  onConfigChange?: (nextCfg: number) => void;
}

export const CHILDREN = ['ovsdb', 'vswitch'] as const;
type ChildId = (typeof CHILDREN)[number];

export type SupervisorEvent =
  | { type: 'OVSDB_READY'; db: DbHandle }
  | { type: 'CONFIG_CHANGED'; nextCfg: number }
  | { type: 'RESTART'; child: ChildId }
  | { type: 'STOP' }
  | ChildEndEvent;

/** A child actor ended: xstate v5 sends these for spawned children that finish or fail. */
type ChildEndEvent =
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId?: string }
  | { type: `xstate.done.actor.${string}`; output?: unknown; actorId?: string };

function childOf(type: string): ChildId | undefined {
  const m = /^xstate\.(?:error|done)\.actor\.(ovsdb|vswitch)$/.exec(type);
  return m?.[1] as ChildId | undefined;
}

const ovsdb: ChildLogic<OvsdbInput> = ovsdbMachine;
const vswitch: ChildLogic<VswitchInput> = vswitchMachine;

export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorInput & { running: Record<ChildId, boolean>; restarts: Record<ChildId, number> },
    events: {} as SupervisorEvent,
  },
  actors: { ovsdb, vswitch },
  actions: {
    /** The serving database: the vswitch actor and the command handlers read services.db. */
    setDb: ({ context, event }) => {
      assertEvent(event, 'OVSDB_READY');
      context.services.db.current = event.db;
    },
    configChanged: enqueueActions(({ enqueue }) => enqueue.sendTo('vswitch', { type: 'CONFIG_CHANGED' })),
    spawnOvsdb: enqueueActions(({ context, enqueue }) => {
      enqueue.spawnChild('ovsdb', {
        id: 'ovsdb',
        input: { dbPath: context.dbPath, sockPath: context.sockPath, log: context.services.log.child({ component: 'ovsdb' }),
          coverage: context.services.coverage, onChange: context.onConfigChange },
      });
      enqueue.assign({ running: { ...context.running, ovsdb: true } });
    }),
    spawnVswitch: enqueueActions(({ context, enqueue }) => {
      enqueue.spawnChild('vswitch', { id: 'vswitch', input: { services: context.services } });
      enqueue.assign({ running: { ...context.running, vswitch: true } });
    }),
    childFailed: enqueueActions(({ context, event, enqueue }) => {
      const child = childOf(event.type);
      if (!child) return;
      const n = context.restarts[child] + 1;
      const err = (event as { error?: unknown }).error;
      const delay = backoffDelay(context.services.backoff, n - 1);
      context.services.log.error({ component: 'supervisor', child, err, restarts: n, retryInMs: delay }, 'child failed; restarting');
      context.services.health.set(child, { restarts: n, status: 'failing', detail: String((err as Error)?.message ?? err) });
      if (child === 'ovsdb') context.services.db.current = null;
      enqueue.assign({ restarts: { ...context.restarts, [child]: n }, running: { ...context.running, [child]: false } });
      enqueue.raise({ type: 'RESTART', child }, { delay });
    }),
    childDone: assign({ running: ({ context, event }) => {
      const child = childOf(event.type);
      return child ? { ...context.running, [child]: false } : context.running;
    } }),
    markOk: ({ context }, p: { child: ChildId }) => {
      const h = context.services.health.get(p.child);
      context.services.health.set(p.child, { restarts: h?.restarts ?? 0, status: 'ok' });
    },
  },
  guards: {
    vswitchRunning: ({ context }) => context.running.vswitch,
    ovsdbRunning: ({ context }) => context.running.ovsdb,
    allStopped: ({ context }) => !context.running.ovsdb && !context.running.vswitch,
    vswitchStopped: ({ context }) => !context.running.vswitch,
    restartOvsdb: ({ event }) => event.type === 'RESTART' && event.child === 'ovsdb',
    haveDb: ({ context }) => context.services.db.current !== null,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, running: { ovsdb: false, vswitch: false }, restarts: { ovsdb: 0, vswitch: 0 } }),
  initial: 'running',
  states: {
    running: {
      entry: ['spawnOvsdb', { type: 'markOk', params: { child: 'ovsdb' } }],
      on: {
        OVSDB_READY: [
          { guard: 'vswitchRunning', actions: ['setDb', { type: 'markOk', params: { child: 'ovsdb' } }, 'configChanged'] },
          { actions: ['setDb', { type: 'markOk', params: { child: 'ovsdb' } }, 'spawnVswitch', { type: 'markOk', params: { child: 'vswitch' } }] },
        ],
        CONFIG_CHANGED: { guard: 'vswitchRunning', actions: 'configChanged' },
        'xstate.error.actor.*': { actions: 'childFailed' },
        'xstate.done.actor.*': { actions: 'childDone' },
        RESTART: [
          { guard: 'restartOvsdb', actions: 'spawnOvsdb' },
          { guard: 'haveDb', actions: ['spawnVswitch', { type: 'markOk', params: { child: 'vswitch' } }] },
          // vswitch without a database: it is spawned when the ovsdb actor is ready again.
        ],
        STOP: 'stoppingVswitch',
      },
    },
    stoppingVswitch: {
      entry: enqueueActions(({ context, enqueue }) => {
        if (context.running.vswitch) enqueue.sendTo('vswitch', { type: 'STOP' });
      }),
      always: { guard: 'vswitchStopped', target: 'stoppingOvsdb' },
      on: { 'xstate.done.actor.*': { actions: 'childDone' }, 'xstate.error.actor.*': { actions: 'childDone' } },
    },
    stoppingOvsdb: {
      entry: enqueueActions(({ context, enqueue }) => {
        if (context.running.ovsdb) enqueue.sendTo('ovsdb', { type: 'STOP' });
      }),
      always: { guard: 'allStopped', target: 'stopped' },
      on: { 'xstate.done.actor.*': { actions: 'childDone' }, 'xstate.error.actor.*': { actions: 'childDone' } },
    },
    stopped: { type: 'final' },
  },
});

export type SupervisorActor = ActorRefFrom<typeof supervisorMachine>;
