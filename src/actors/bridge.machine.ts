/**
 * The bridge actor: one per Bridge row (OVS bridge.c's struct bridge + ofproto creation).
 *
 *   opening --> running --DELETE--> draining (ports detach) --> destroying --> (final, deleted)
 *                  |  CONFIG: diff ports (spawn / UPDATE / REMOVE)
 *                  '--STOP--> closing --> (final): the datapath stays pinned and forwarding
 *
 * Opening creates or adopts the datapath and builds the bridge's runtime (src/bridge/
 * bridge-io.ts: adoption after a restart, unconfigured datapath ports, the default flow).
 * Each configured port gets a port actor with an ofport the bridge assigns (src/bridge/ports.ts
 * assignOfport: no races between port actors). The upcall and revalidator actors run while the
 * bridge runs.
 *
 * "Applied": after CONFIG number `seq`, the bridge sends BRIDGE_APPLIED {seq} once every port
 * actor has reported the generation it was given and no removal is pending.
 *
 * I/O is in the open/close/destroy actors (src/bridge/bridge-io.ts), and the port, upcall and
 * revalidator children are declared as ChildLogic (child-logic.ts): a test swaps any of them
 * with provide({ actors }).
 */
import { assign, enqueueActions, sendParent, setup, type ActorRefFrom } from 'xstate';
import {
  assignOfport, closeBridgeLogic, connMgrConfig, destroyBridgeLogic, openBridgeLogic, portFingerprint, portIdentity,
  type BridgeConfig, type OpenedBridge, type Services,
} from '../bridge/index.ts';
import { DEFAULT_FLOW_LIMIT, DEFAULT_MAX_IDLE_MS } from '../vswitch/index.ts';
import type { ChildLogic } from './child-logic.ts';
import { portMachine, type PortInput, type PortParentEvent } from './port.machine.ts';
import { revalidatorMachine, type RevalidatorInput } from './revalidator.machine.ts';
import { upcallMachine, type UpcallInput } from './upcall.machine.ts';

export interface BridgeInput {
  config: BridgeConfig;
  seq: number;
  services: Services;
  /** An orphan datapath (pinned, no Bridge row): adopt it only to destroy it. */
  deleteOnOpen?: boolean;
}

interface PortSlot {
  ofport: number;
  fp: string;
  identity: string;
  gen: number;
  appliedGen: number;
  removing: boolean;
}

export type BridgeEvent =
  | { type: 'CONFIG'; config: BridgeConfig; seq: number }
  | { type: 'DELETE' }
  | { type: 'STOP' }
  | PortParentEvent;

export type BridgeParentEvent =
  | { type: 'BRIDGE_APPLIED'; bridge: string; seq: number }
  | { type: 'BRIDGE_GONE'; bridge: string };

const port: ChildLogic<PortInput> = portMachine;
const upcall: ChildLogic<UpcallInput> = upcallMachine;
const revalidator: ChildLogic<RevalidatorInput> = revalidatorMachine;

export const bridgeMachine = setup({
  types: {
    input: {} as BridgeInput,
    context: {} as BridgeInput & {
      name: string;
      opened: OpenedBridge | null;
      /** By port name (OVSDB names: a Map, so "constructor" is just a name). */
      ports: ReadonlyMap<string, PortSlot>;
      reportedSeq: number;
    },
    events: {} as BridgeEvent,
  },
  actors: {
    open: openBridgeLogic,
    close: closeBridgeLogic,
    destroy: destroyBridgeLogic,
    port,
    upcall,
    revalidator,
  },
  guards: {
    deleteOnOpen: ({ context }) => context.deleteOnOpen === true,
    noPorts: ({ context }) => context.ports.size === 0,
  },
  actions: {
    takeConfig: assign(({ event }) => (event.type === 'CONFIG' ? { config: event.config, seq: event.seq } : {})),
    forgetPort: assign({ ports: ({ context, event }) => {
      if (event.type !== 'PORT_GONE') return context.ports;
      const rest = new Map(context.ports);
      rest.delete(event.port);
      return rest;
    } }),
    /** Diffs the configured ports against the port actors. */
    reconcilePorts: enqueueActions(({ context, enqueue }) => {
      const { opened, config } = context;
      if (!opened) return;
      const ports = new Map(context.ports);
      const want = new Map(config.ports.map((p) => [p.name, p]));
      for (const [name, slot] of ports) {
        const p = want.get(name);
        if (slot.removing) continue;
        if (!p || portIdentity(p) !== slot.identity) {
          ports.set(name, { ...slot, removing: true });
          enqueue.sendTo(`port:${name}`, { type: 'REMOVE' });
        }
      }
      const used = new Set([...ports.values()].map((s) => s.ofport));
      const dpPorts = new Map(opened.datapath.listPorts().map((p) => [p.name, p.portNo]));
      for (const p of config.ports) {
        const slot = ports.get(p.name);
        if (slot?.removing) continue; // re-spawned once the old actor is gone
        if (!slot) {
          const ofport = assignOfport(config.name, p, used, dpPorts);
          used.add(ofport);
          ports.set(p.name, { ofport, fp: portFingerprint(p), identity: portIdentity(p), gen: 1, appliedGen: 0, removing: false });
          enqueue.spawnChild('port', {
            id: `port:${p.name}`,
            input: { bridge: config.name, config: p, ofport, gen: 1, runtime: opened.runtime, datapath: opened.datapath, services: context.services },
          });
        } else if (slot.fp !== portFingerprint(p)) {
          const gen = slot.gen + 1;
          ports.set(p.name, { ...slot, fp: portFingerprint(p), gen });
          enqueue.sendTo(`port:${p.name}`, { type: 'UPDATE', config: p, gen });
        }
      }
      enqueue.assign({ ports });
    }),
    maybeApplied: enqueueActions(({ context, enqueue }) => {
      if (context.reportedSeq >= context.seq) return;
      const slots = [...context.ports.values()];
      if (slots.some((s) => s.removing || s.appliedGen < s.gen)) return;
      enqueue.assign({ reportedSeq: context.seq });
      enqueue.sendParent({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: context.seq });
    }),
    /** Controllers, fail mode, protocols, datapath id: to the connection manager (no-op if unchanged). */
    configureOpenFlow: ({ context }) => {
      const { opened, config, services } = context;
      if (!opened?.connmgr || services.runDir === undefined) return;
      opened.connmgr.configure(connMgrConfig(config.openflow, services.runDir)).catch((err: unknown) => {
        services.log.warn({ component: 'connmgr', bridge: context.name, err }, 'OpenFlow configuration failed');
      });
    },
    /** Open_vSwitch other_config:max-idle / flow-limit apply to the live runtime at once. */
    tune: ({ context }) => {
      const u = context.opened?.runtime.udpif;
      if (!u) return;
      u.maxIdleMs = context.config.tuning.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
      u.flowLimit = context.config.tuning.flowLimit ?? DEFAULT_FLOW_LIMIT;
    },
    register: ({ context }) => { context.services.runtimes.set(context.name, context.opened!.runtime); },
    unregister: ({ context }) => {
      if (context.services.runtimes.get(context.name) === context.opened?.runtime) context.services.runtimes.delete(context.name);
    },
  },
}).createMachine({
  id: 'bridge',
  context: ({ input }) => ({ ...input, name: input.config.name, opened: null, ports: new Map(), reportedSeq: 0 }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        src: 'open',
        input: ({ context }) => ({ config: context.config, services: context.services }),
        onDone: [
          { guard: 'deleteOnOpen', target: 'destroying', actions: assign({ opened: ({ event }) => event.output }) },
          {
            target: 'running',
            actions: [
              assign({ opened: ({ event }) => event.output }),
              ({ context, event }) => context.services.log.info({ component: 'bridge', bridge: context.name, created: event.output.created }, event.output.created ? 'datapath created' : 'datapath adopted'),
            ],
          },
        ],
        // No onError: the failure propagates to the vswitch actor, which restarts the bridge.
      },
      on: { CONFIG: { actions: 'takeConfig' }, STOP: 'stopped', DELETE: 'destroying' },
    },
    running: {
      entry: [
        'register',
        'configureOpenFlow',
        'reconcilePorts',
        'maybeApplied',
      ],
      invoke: [
        { id: 'upcall', src: 'upcall', input: ({ context }) => ({ runtime: context.opened!.runtime, services: context.services }) },
        { id: 'revalidator', src: 'revalidator', input: ({ context }) => ({ udpif: context.opened!.runtime.udpif, services: context.services }) },
      ],
      on: {
        CONFIG: { actions: ['takeConfig', 'tune', 'configureOpenFlow', 'reconcilePorts', 'maybeApplied'] },
        PORT_APPLIED: {
          actions: [
            assign({ ports: ({ context, event }) => {
              const s = context.ports.get(event.port);
              return s ? new Map(context.ports).set(event.port, { ...s, appliedGen: Math.max(s.appliedGen, event.gen) }) : context.ports;
            } }),
            'maybeApplied',
          ],
        },
        PORT_GONE: {
          actions: [
            'forgetPort',
            'reconcilePorts',
            'maybeApplied',
          ],
        },
        DELETE: 'draining',
        STOP: 'closing',
      },
    },
    draining: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const [name, s] of context.ports) if (!s.removing) enqueue.sendTo(`port:${name}`, { type: 'REMOVE' });
        enqueue.assign({ ports: new Map([...context.ports].map(([n, s]) => [n, { ...s, removing: true }])) });
      }),
      always: { guard: 'noPorts', target: 'destroying' },
      on: {
        PORT_GONE: { actions: 'forgetPort' },
        STOP: 'closing',
      },
    },
    destroying: {
      entry: ['unregister'],
      invoke: {
        src: 'destroy',
        input: ({ context }) => ({ name: context.name, opened: context.opened }),
        onDone: 'deleted',
        onError: { target: 'deleted', actions: ({ context, event }) => context.services.log.error({ component: 'bridge', bridge: context.name, err: event.error }, 'destroying the datapath failed') },
      },
    },
    deleted: {
      type: 'final',
      entry: [
        ({ context }) => context.services.log.info({ component: 'bridge', bridge: context.name }, 'bridge deleted'),
        sendParent(({ context }) => ({ type: 'BRIDGE_GONE', bridge: context.name })),
      ],
    },
    closing: {
      entry: ['unregister', enqueueActions(({ context, enqueue }) => {
        for (const name of context.ports.keys()) enqueue.sendTo(`port:${name}`, { type: 'STOP' });
      })],
      invoke: { src: 'close', input: ({ context }) => ({ opened: context.opened }), onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type BridgeActor = ActorRefFrom<typeof bridgeMachine>;
