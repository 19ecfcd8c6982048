/**
 * The vswitch actor: the reconciler (OVS bridge_reconfigure). On start and after every OVSDB
 * change it reads the desired configuration (src/bridge/config.ts), spawns a bridge actor for
 * each new Bridge row, sends CONFIG to the existing ones and DELETE to those whose row is gone.
 * Pinned datapaths with no Bridge row (configured before a restart, deleted while the daemon
 * was down) are adopted and destroyed: the `scanning` state lists them before the first
 * reconciliation.
 *
 * cur_cfg: each reconciliation gets a sequence number and remembers the Open_vSwitch.next_cfg
 * it read. When every bridge has reported BRIDGE_APPLIED for the latest sequence and no bridge
 * is being deleted, cur_cfg is set to that next_cfg (the `commit` region), so ovs-vsctl without
 * --no-wait returns once the change is live, and config.applied is published.
 *
 * Supervision of bridges: a bridge actor that fails is logged, counted in services.health and
 * re-spawned after a backoff (a delayed event, on the actor system's clock); the next
 * reconciliation gives it the current configuration.
 *
 * I/O (listing datapaths, writing cur_cfg, closing a failed bridge's fds) is in actors from
 * src/bridge/vswitch-io.ts and bridge-io.ts, so a test swaps it with provide({ actors }).
 */
import { assign, enqueueActions, raise, setup } from 'xstate';
import {
  defaultOpenFlow,
  backoffDelay, commitCurCfgLogic, listDatapathsLogic, readConfig, releaseRuntimeLogic,
  type BridgeConfig, type Services, type SwitchConfig,
} from '../bridge/index.ts';
import { bridgeMachine, type BridgeInput, type BridgeParentEvent } from './bridge.machine.ts';
import type { ChildLogic } from './child-logic.ts';

export interface VswitchInput {
  services: Services;
}

interface BridgeSlot {
  applied: number;
  deleting: boolean;
  failed: boolean;
}

type VswitchEvent =
  | { type: 'CONFIG_CHANGED' }
  | { type: 'STOP' }
  | { type: 'RESPAWN'; bridge: string }
  | { type: 'CHECK' }
  | BridgeParentEvent
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId?: string }
  | { type: `xstate.done.actor.${string}`; output?: unknown; actorId?: string };

/** The bridge an event is about: its payload, or the id of the actor that ended ("bridge:NAME"). */
function bridgeOf(event: { type: string }): string | undefined {
  const e = event as { bridge?: string; actorId?: string };
  if (e.bridge !== undefined) return e.bridge;
  const m = /^xstate\.(?:done|error)\.actor\.bridge:(.+)$/.exec(event.type);
  return m?.[1] ?? (e.actorId?.startsWith('bridge:') ? e.actorId.slice(7) : undefined);
}

const bridge: ChildLogic<BridgeInput> = bridgeMachine;

const emptyBridge = (name: string): BridgeConfig => ({ uuid: '', name, ports: [], otherConfig: {}, tuning: {}, openflow: defaultOpenFlow() });

export const vswitchMachine = setup({
  types: {
    input: {} as VswitchInput,
    context: {} as VswitchInput & {
      seq: number;
      target: number;
      written: number;
      config: SwitchConfig | null;
      /** By bridge name (OVSDB names: Maps, so "constructor" is just a name). */
      bridges: ReadonlyMap<string, BridgeSlot>;
      restarts: ReadonlyMap<string, number>;
      first: boolean;
      /** Datapaths pinned when this actor started (orphans are found among them). */
      pinned: string[];
    },
    events: {} as VswitchEvent,
  },
  actors: {
    bridge,
    listDatapaths: listDatapathsLogic,
    commitCurCfg: commitCurCfgLogic,
    releaseRuntime: releaseRuntimeLogic,
  },
  guards: {
    allApplied: ({ context }) => {
      if (context.config === null || context.written >= context.target) return false;
      return [...context.bridges.values()].every((b) => !b.deleting && (b.failed || b.applied >= context.seq));
    },
    stoppedAll: ({ context }) => context.bridges.size === 0,
  },
  actions: {
    /** Drops the slot of a bridge actor that ended (done, gone, failed, or about to respawn). */
    forgetBridge: assign({ bridges: ({ context, event }) => {
      const name = bridgeOf(event);
      if (name === undefined || !context.bridges.has(name)) return context.bridges;
      const rest = new Map(context.bridges);
      rest.delete(name);
      return rest;
    } }),
    bridgeFailed: enqueueActions(({ context, event, enqueue }) => {
      const name = bridgeOf(event);
      const err = (event as { error?: unknown }).error;
      if (name === undefined) {
        context.services.log.error({ component: 'vswitch', event: event.type, err }, 'child failed');
        return;
      }
      const n = (context.restarts.get(name) ?? 0) + 1;
      context.services.log.error({ component: 'vswitch', bridge: name, err, restarts: n }, 'bridge actor failed; restarting');
      // The failed actor's children are stopped (its upcall ring closed); its registry entry
      // goes now and its datapath fds are closed by a child (long before the respawn's backoff
      // ends). The datapath stays pinned: the restart adopts it.
      const rt = context.services.runtimes.get(name);
      if (rt) {
        context.services.runtimes.delete(name);
        enqueue.spawnChild('releaseRuntime', { input: { runtime: rt } });
      }
      context.services.health.set(`bridge:${name}`, { restarts: n, status: 'degraded', detail: String((err as Error)?.message ?? err) });
      const slot = context.bridges.get(name);
      enqueue.assign({
        restarts: new Map(context.restarts).set(name, n),
        bridges: slot ? new Map(context.bridges).set(name, { ...slot, failed: true }) : context.bridges,
      });
      enqueue.raise({ type: 'RESPAWN', bridge: name }, { delay: backoffDelay(context.services.backoff, n - 1) });
    }),
    reconcile: enqueueActions(({ context, enqueue }) => {
      const s = context.services;
      const db = s.db.current;
      if (!db) return;
      let cfg: SwitchConfig | undefined;
      try {
        cfg = readConfig(db);
      } catch (err) {
        s.log.error({ component: 'vswitch', err }, 'cannot read the configuration');
        return;
      }
      if (!cfg) return;
      for (const p of cfg.problems) s.log.warn({ component: 'vswitch' }, p);
      const seq = context.seq + 1;
      const bridges = new Map(context.bridges);
      const want = new Map(cfg.bridges.map((b) => [b.name, b]));
      for (const [name, slot] of bridges) {
        if (!want.has(name) && !slot.deleting && !slot.failed) {
          bridges.set(name, { ...slot, deleting: true });
          enqueue.sendTo(`bridge:${name}`, { type: 'DELETE' });
        }
      }
      for (const b of cfg.bridges) {
        const slot = bridges.get(b.name);
        if (slot?.deleting || slot?.failed) continue; // re-spawned once gone
        if (!slot) {
          bridges.set(b.name, { applied: 0, deleting: false, failed: false });
          enqueue.spawnChild('bridge', { id: `bridge:${b.name}`, input: { config: b, seq, services: s } });
        } else {
          enqueue.sendTo(`bridge:${b.name}`, { type: 'CONFIG', config: b, seq });
        }
      }
      if (context.first) {
        // Orphan datapaths: pinned by an earlier run, no Bridge row now.
        for (const name of context.pinned) {
          if (want.has(name) || bridges.has(name)) continue;
          s.log.info({ component: 'vswitch', bridge: name }, 'destroying unconfigured datapath');
          bridges.set(name, { applied: 0, deleting: true, failed: false });
          enqueue.spawnChild('bridge', { id: `bridge:${name}`, input: { config: emptyBridge(name), seq, services: s, deleteOnOpen: true } });
        }
      }
      enqueue.assign({ seq, target: cfg.nextCfg, written: Math.max(context.written, cfg.curCfg), config: cfg, bridges, first: false });
      enqueue.raise({ type: 'CHECK' });
    }),
  },
}).createMachine({
  id: 'vswitch',
  context: ({ input }) => ({ ...input, seq: 0, target: 0, written: -1, config: null, bridges: new Map(), restarts: new Map(), first: true, pinned: [] }),
  initial: 'scanning',
  on: {
    'xstate.done.actor.*': { actions: 'forgetBridge' },
  },
  states: {
    scanning: {
      invoke: {
        src: 'listDatapaths',
        onDone: { target: 'running', actions: assign({ pinned: ({ event }) => event.output }) },
        onError: {
          target: 'running',
          actions: ({ context, event }) => context.services.log.error({ component: 'vswitch', err: event.error }, 'cannot list the pinned datapaths'),
        },
      },
      // The first reconciliation (on entering running) reads the configuration as it is then.
      on: { STOP: 'stopped' },
    },
    running: {
      entry: 'reconcile',
      on: {
        CONFIG_CHANGED: { actions: 'reconcile' },
        BRIDGE_APPLIED: {
          actions: [
            assign({ bridges: ({ context, event }) => {
              const b = context.bridges.get(event.bridge);
              return b ? new Map(context.bridges).set(event.bridge, { ...b, applied: Math.max(b.applied, event.seq) }) : context.bridges;
            } }),
            raise({ type: 'CHECK' }),
          ],
        },
        BRIDGE_GONE: { actions: ['forgetBridge', 'reconcile'] },
        'xstate.error.actor.*': { actions: 'bridgeFailed' },
        RESPAWN: { actions: ['forgetBridge', 'reconcile'] },
        STOP: 'stopping',
      },
      initial: 'idle',
      states: {
        idle: { on: { CHECK: { guard: 'allApplied', target: 'writing' } } },
        writing: {
          invoke: {
            src: 'commitCurCfg',
            input: ({ context }) => ({ services: context.services, nextCfg: context.target }),
            onDone: {
              target: 'idle',
              actions: [
                assign({ written: ({ event }) => event.output }),
                ({ context, event }) => {
                  context.services.log.info({ component: 'vswitch', cur_cfg: event.output }, 'configuration applied');
                  context.services.publish('config.applied', { cur_cfg: event.output });
                },
                raise({ type: 'CHECK' }),
              ],
            },
            onError: { target: 'idle', actions: ({ context, event }) => context.services.log.error({ component: 'vswitch', err: event.error }, 'cur_cfg write failed') },
          },
        },
      },
    },
    stopping: {
      entry: enqueueActions(({ context, enqueue }) => {
        // A failed bridge waiting for its respawn has no actor to stop.
        const live = new Map([...context.bridges].filter(([, b]) => !b.failed));
        for (const name of live.keys()) enqueue.sendTo(`bridge:${name}`, { type: 'STOP' });
        enqueue.assign({ bridges: live });
      }),
      always: { guard: 'stoppedAll', target: 'stopped' },
      on: {
        BRIDGE_GONE: { actions: 'forgetBridge' },
        'xstate.error.actor.*': { actions: 'forgetBridge' },
      },
    },
    stopped: { type: 'final' },
  },
});
