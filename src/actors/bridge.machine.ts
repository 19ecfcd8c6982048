/**
 * The bridge actor: one per Bridge row (OVS bridge.c's struct bridge + ofproto creation).
 *
 *   opening --> running --DELETE--> draining (ports detach) --> destroying --> (final, deleted)
 *                  |  CONFIG: diff ports (spawn / UPDATE / REMOVE)
 *                  '--STOP--> closing --> (final): the datapath stays pinned and forwarding
 *
 * Opening creates the datapath, or ADOPTS it when it is pinned already (a restart after
 * SIGKILL): its flows keep forwarding meanwhile, and the revalidator re-checks them against
 * the new tables. Datapath ports that are no longer configured are removed here; configured
 * ones are adopted by their port actors (never attached twice). The ofproto bridge always
 * starts with OVS's default flow `priority=0,actions=NORMAL` (like ovs-vswitchd in standalone
 * fail mode with no controller, on every start: OpenFlow tables are not persistent).
 *
 * ofport assignment (the bridge allocates, so there are no races between port actors): the
 * bridge's own internal interface gets OFPP_LOCAL (65534); else Interface.ofport_request if
 * free; else the ofport the interface had (in OVSDB, or the pinned datapath's port number for
 * that device, so a restart keeps numbers and megaflows valid); else the lowest free from 1.
 * The datapath port number equals the ofport.
 *
 * "Applied": after CONFIG number `seq`, the bridge sends BRIDGE_APPLIED {seq} once every port
 * actor has reported the generation it was given and no removal is pending.
 */
import { assign, enqueueActions, fromPromise, sendParent, setup, type ActorRefFrom } from 'xstate';
import { Datapath, removePins } from '../datapath/index.ts';
import { parseFlow } from '../ofproto/index.ts';
import { OFPP_LOCAL, portFingerprint, type BridgeConfig, type PortConfig, type Services } from '../bridge/index.ts';
import { isHiddenName, removeDevice } from '../netdev/index.ts';
import { BridgeRuntime, DEFAULT_FLOW_LIMIT, DEFAULT_MAX_IDLE_MS } from '../vswitch/index.ts';
import { dpDevice, portMachine, type PortParentEvent } from './port.machine.ts';
import { revalidatorMachine } from './revalidator.machine.ts';
import { upcallMachine } from './upcall.machine.ts';

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

interface Opened {
  datapath: Datapath;
  runtime: BridgeRuntime;
  created: boolean;
}

type BridgeEvent =
  | { type: 'CONFIG'; config: BridgeConfig; seq: number }
  | { type: 'DELETE' }
  | { type: 'STOP' }
  | PortParentEvent;

export type BridgeParentEvent =
  | { type: 'BRIDGE_APPLIED'; bridge: string; seq: number }
  | { type: 'BRIDGE_GONE'; bridge: string };

/** Identity of a port's attachment: a change means detach and attach anew. */
function identity(p: PortConfig): string {
  return JSON.stringify([p.iface.name, p.iface.type, p.iface.ofportRequest, p.invalid]);
}

/** Creates or adopts the datapath and builds the runtime; removes unconfigured dp ports. */
export function openBridge(input: { config: BridgeConfig; services: Services }): Opened {
  const { config, services } = input;
  const created = !Datapath.exists(config.name);
  // A half-made datapath dir (a crash inside destroy) would make create fail: clear it.
  if (created) removePins(Datapath.dirOf(config.name));
  const datapath = created ? Datapath.create(config.name) : Datapath.open(config.name);
  try {
    if (!created) datapath.repairMasks();
    const wanted = new Set(config.ports.map(dpDevice));
    for (const p of datapath.listPorts()) {
      if (wanted.has(p.name)) continue;
      datapath.delPort(p.portNo);
      // The hidden end of an internal port whose Interface row went while we were down: the
      // pair is ours (only bvs makes bvi<hash> devices and attaches them), delete it.
      if (isHiddenName(p.name)) removeDevice(p.name);
      services.log.info({ component: 'bridge', bridge: config.name, port: p.name, portNo: p.portNo }, 'removed unconfigured datapath port');
    }
    const runtime = new BridgeRuntime({
      datapath,
      publish: (name, payload) => services.publish(name, payload),
      maxIdleMs: config.tuning.maxIdleMs,
      flowLimit: config.tuning.flowLimit,
    });
    runtime.ofproto.pipeline.add(parseFlow('priority=0,actions=NORMAL'));
    return { datapath, runtime, created };
  } catch (err) {
    datapath.close();
    throw err;
  }
}

/** Picks the ofport of a new port (see the design note). */
export function assignOfport(bridge: string, p: PortConfig, used: Set<number>, dpPorts: Map<string, number>): number {
  if (p.iface.type === 'internal' && p.iface.name === bridge) return OFPP_LOCAL;
  const free = (n: number | undefined): n is number => n !== undefined && n >= 1 && n < 0xff00 && !used.has(n);
  if (free(p.iface.ofportRequest)) return p.iface.ofportRequest;
  if (free(p.iface.ofport)) return p.iface.ofport;
  const dp = dpPorts.get(dpDevice(p));
  if (free(dp)) return dp;
  let n = 1;
  while (used.has(n)) n++;
  return n;
}

export const bridgeMachine = setup({
  types: {
    input: {} as BridgeInput,
    context: {} as BridgeInput & {
      name: string;
      opened: Opened | null;
      ports: Record<string, PortSlot>;
      reportedSeq: number;
    },
    events: {} as BridgeEvent,
  },
  actors: {
    open: fromPromise<Opened, { config: BridgeConfig; services: Services }>(async ({ input }) => openBridge(input)),
    close: fromPromise<void, { opened: Opened | null }>(async ({ input }) => { input.opened?.datapath.close(); }),
    destroy: fromPromise<void, { name: string; opened: Opened | null }>(async ({ input }) => {
      input.opened?.datapath.close();
      if (Datapath.exists(input.name)) Datapath.destroy(input.name);
      else removePins(Datapath.dirOf(input.name));
    }),
    port: portMachine,
    upcall: upcallMachine,
    revalidator: revalidatorMachine,
  },
  guards: {
    deleteOnOpen: ({ context }) => context.deleteOnOpen === true,
    noPorts: ({ context }) => Object.keys(context.ports).length === 0,
  },
  actions: {
    /** Diffs the configured ports against the port actors. */
    reconcilePorts: enqueueActions(({ context, enqueue }) => {
      const { opened, config } = context;
      if (!opened) return;
      const ports = { ...context.ports };
      const want = new Map(config.ports.map((p) => [p.name, p]));
      for (const [name, slot] of Object.entries(ports)) {
        const p = want.get(name);
        if (slot.removing) continue;
        if (!p || identity(p) !== slot.identity) {
          ports[name] = { ...slot, removing: true };
          enqueue.sendTo(`port:${name}`, { type: 'REMOVE' });
        }
      }
      const used = new Set(Object.values(ports).map((s) => s.ofport));
      const dpPorts = new Map(opened.datapath.listPorts().map((p) => [p.name, p.portNo]));
      for (const p of config.ports) {
        const slot = ports[p.name];
        if (slot?.removing) continue; // re-spawned once the old actor is gone
        if (!slot) {
          const ofport = assignOfport(config.name, p, used, dpPorts);
          used.add(ofport);
          ports[p.name] = { ofport, fp: portFingerprint(p), identity: identity(p), gen: 1, appliedGen: 0, removing: false };
          enqueue.spawnChild('port', {
            id: `port:${p.name}`,
            input: { bridge: config.name, config: p, ofport, gen: 1, runtime: opened.runtime, datapath: opened.datapath, services: context.services },
          });
        } else if (slot.fp !== portFingerprint(p)) {
          const gen = slot.gen + 1;
          ports[p.name] = { ...slot, fp: portFingerprint(p), gen };
          enqueue.sendTo(`port:${p.name}`, { type: 'UPDATE', config: p, gen });
        }
      }
      enqueue.assign({ ports });
    }),
    maybeApplied: enqueueActions(({ context, enqueue }) => {
      if (context.reportedSeq >= context.seq) return;
      const slots = Object.values(context.ports);
      if (slots.some((s) => s.removing || s.appliedGen < s.gen)) return;
      enqueue.assign({ reportedSeq: context.seq });
      enqueue.sendParent({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: context.seq });
    }),
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
  context: ({ input }) => ({ ...input, name: input.config.name, opened: null, ports: {}, reportedSeq: 0 }),
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
      on: { CONFIG: { actions: assign({ config: ({ event }) => event.config, seq: ({ event }) => event.seq }) }, STOP: 'stopped', DELETE: 'destroying' },
    },
    running: {
      entry: [
        'register',
        'reconcilePorts',
        'maybeApplied',
      ],
      invoke: [
        { id: 'upcall', src: 'upcall', input: ({ context }) => ({ runtime: context.opened!.runtime, services: context.services }) },
        { id: 'revalidator', src: 'revalidator', input: ({ context }) => ({ udpif: context.opened!.runtime.udpif, services: context.services }) },
      ],
      on: {
        CONFIG: { actions: [assign({ config: ({ event }) => event.config, seq: ({ event }) => event.seq }), 'tune', 'reconcilePorts', 'maybeApplied'] },
        PORT_APPLIED: {
          actions: [
            assign({ ports: ({ context, event }) => {
              const s = context.ports[event.port];
              return s ? { ...context.ports, [event.port]: { ...s, appliedGen: Math.max(s.appliedGen, event.gen) } } : context.ports;
            } }),
            'maybeApplied',
          ],
        },
        PORT_GONE: {
          actions: [
            assign({ ports: ({ context, event }) => {
              const { [event.port]: _gone, ...rest } = context.ports;
              return rest;
            } }),
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
        for (const [name, s] of Object.entries(context.ports)) if (!s.removing) enqueue.sendTo(`port:${name}`, { type: 'REMOVE' });
        enqueue.assign({ ports: Object.fromEntries(Object.entries(context.ports).map(([n, s]) => [n, { ...s, removing: true }])) });
      }),
      always: { guard: 'noPorts', target: 'destroying' },
      on: {
        PORT_GONE: { actions: assign({ ports: ({ context, event }) => {
          const { [event.port]: _gone, ...rest } = context.ports;
          return rest;
        } }) },
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
        for (const name of Object.keys(context.ports)) enqueue.sendTo(`port:${name}`, { type: 'STOP' });
      })],
      invoke: { src: 'close', input: ({ context }) => ({ opened: context.opened }), onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type BridgeActor = ActorRefFrom<typeof bridgeMachine>;
