/**
 * The port actor: one per Port/Interface row of a bridge (OVS bridge.c's iface lifecycle).
 *
 *   attaching --ok--> reporting --> attached --REMOVE--> removing --> (final)
 *       |  ^                          |  LINK: publish port.status, write link_state
 *   fail|  |backoff                   |  GONE (device vanished or was re-created):
 *       v  |                          v     lost (release it) --> attaching
 *   failing --> missing
 *   invalid (the row cannot be applied as configured): error written, waits for REMOVE
 *
 * Attach resolves the device and attaches (or adopts) it with portNo = ofport (src/bridge/
 * port-io.ts); then Interface.ofport/error/ifindex/mac_in_use are written back to OVSDB.
 * A missing device writes error "could not open network device X (No such device)" and
 * ofport -1, like ovs-vswitchd, and is retried with exponential backoff (the `retry` delay).
 * While attached, the `linkPoll` delay asks the link watcher to read the device again.
 * After each configuration change handled (first attempt, UPDATE) the actor sends its parent
 * PORT_APPLIED with the generation it applied; the bridge uses it to know when cur_cfg may move.
 *
 * All I/O is in the attach/detach/release/writeStatus/watchLink actors (src/bridge/port-io.ts),
 * and both delays run on the actor system's clock, so a test swaps the I/O with provide() and
 * drives time with a SimulatedClock.
 */
import { assign, enqueueActions, sendParent, sendTo, setup } from 'xstate';
import {
  attachErrorText, attachPortLogic, backoffDelay, detachPortLogic, ifaceStatusOp, linkStateOp, ofprotoPort,
  releasePortLogic, watchLinkLogic, writeStatusLogic,
  type Attached, type LinkEvent, type PortConfig, type PortDatapath, type PortRuntime, type Services,
} from '../bridge/index.ts';

/** What the port actor uses of the daemon's services. */
export type PortServices = Pick<Services, 'log' | 'publish' | 'health' | 'backoff' | 'linkPollMs' | 'db' | 'coverage'>;

export interface PortInput {
  bridge: string;
  config: PortConfig;
  ofport: number;
  gen: number;
  runtime: PortRuntime;
  datapath: PortDatapath;
  services: PortServices;
}

export type PortParentEvent =
  | { type: 'PORT_APPLIED'; port: string; gen: number }
  | { type: 'PORT_GONE'; port: string };

export type PortEvent =
  | { type: 'UPDATE'; config: PortConfig; gen: number }
  | { type: 'REMOVE' }
  | { type: 'STOP' }
  | LinkEvent;

interface PortContext extends PortInput {
  attached: Attached | null;
  up: boolean | null;
  retries: number;
  error: string | null;
  removeRequested: boolean;
}

export const portMachine = setup({
  types: {
    input: {} as PortInput,
    context: {} as PortContext,
    events: {} as PortEvent,
  },
  actors: {
    attach: attachPortLogic,
    detach: detachPortLogic,
    release: releasePortLogic,
    writeStatus: writeStatusLogic,
    watchLink: watchLinkLogic,
  },
  delays: {
    retry: ({ context }) => backoffDelay(context.services.backoff, context.retries - 1),
    linkPoll: ({ context }) => context.services.linkPollMs,
  },
  guards: {
    invalid: ({ context }) => context.config.invalid !== undefined,
    removeRequested: ({ context }) => context.removeRequested,
  },
  actions: {
    applied: sendParent(({ context }) => ({ type: 'PORT_APPLIED', port: context.config.name, gen: context.gen })),
    /** An UPDATE while the port is not attached: remembered, applied on the next attach. */
    takeUpdate: assign(({ event }) => (event.type === 'UPDATE' ? { config: event.config, gen: event.gen } : {})),
    requestRemove: assign({ removeRequested: true }),
    publishStatus: ({ context }, p: { state: 'up' | 'down'; reason: 'link' | 'added' | 'removed' | 'missing' }) => {
      context.services.publish('port.status', {
        bridge: context.bridge, port: context.config.name, state: p.state, reason: p.reason,
        ...(p.state === 'up' || p.reason !== 'missing' ? { ofport: context.ofport } : {}),
      });
    },
    /** daemon.health lists ports that are not attached, with the reason and the retry count. */
    healthDegraded: ({ context }) => {
      context.services.health.set(`port:${context.bridge}/${context.config.name}`, { status: 'degraded', restarts: context.retries, detail: context.error ?? undefined });
    },
    healthClear: ({ context }) => { context.services.health.delete(`port:${context.bridge}/${context.config.name}`); },
    syncVlan: ({ context }) => {
      const want = ofprotoPort(context.config, context.ofport);
      const have = context.runtime.findPort(context.config.iface.name);
      const same = have && have.tag === want.tag
        && JSON.stringify([...(have.trunks ?? [])].sort()) === JSON.stringify([...(want.trunks?.length ? want.trunks : [])].sort());
      if (same) return;
      context.runtime.removePort(context.config.iface.name);
      context.runtime.addPort(want);
    },
    updateVlan: ({ context, event }) => {
      if (event.type !== 'UPDATE') return;
      context.runtime.removePort(context.config.iface.name);
      context.runtime.addPort(ofprotoPort(event.config, context.ofport));
    },
    /**
     * A link change: port.status, and Interface.link_state, written by a child nobody waits
     * for. It has one id, so a flapping link leaves one child at a time (the previous write
     * was sent already; stopping its actor only drops its result).
     */
    linkChanged: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LINK') return;
      enqueue.assign({ up: event.up });
      context.runtime.setPortLink(context.config.iface.name, event.up);
      context.services.publish('port.status', { bridge: context.bridge, port: context.config.name, ofport: context.ofport, state: event.up ? 'up' : 'down', reason: 'link' });
      enqueue.stopChild('linkState');
      enqueue.spawnChild('writeStatus', { id: 'linkState', input: { services: context.services, what: 'link_state', op: linkStateOp(context.config.iface.uuid, event.up) } });
    }),
  },
}).createMachine({
  id: 'port',
  context: ({ input }) => ({ ...input, attached: null, up: null, retries: 0, error: null, removeRequested: false }),
  initial: 'start',
  states: {
    start: { always: [{ guard: 'invalid', target: 'invalid' }, { target: 'attaching' }] },
    invalid: {
      entry: ({ context }) => context.services.log.warn({ component: 'port', bridge: context.bridge, port: context.config.name, error: context.config.invalid }, 'port not applied'),
      invoke: {
        src: 'writeStatus',
        input: ({ context }) => ({ services: context.services, what: `Interface ${context.config.iface.name}`,
          op: ifaceStatusOp(context.config.iface.uuid, { ofport: -1, error: context.config.invalid }) }),
        onDone: { actions: 'applied' },
        onError: { actions: 'applied' },
      },
      on: { REMOVE: 'gone', STOP: 'stopped', UPDATE: { actions: [assign({ gen: ({ event }) => event.gen }), 'applied'] } },
    },
    attaching: {
      invoke: {
        src: 'attach',
        input: ({ context }) => ({ config: context.config, ofport: context.ofport, datapath: context.datapath, runtime: context.runtime }),
        onDone: {
          target: 'reporting',
          actions: [
            assign({ attached: ({ event }) => event.output, retries: 0, error: null }),
            ({ context, event }) => context.services.log.info({ component: 'port', bridge: context.bridge, port: context.config.name, ofport: context.ofport, dev: event.output.dev, adopted: event.output.adopted }, event.output.adopted ? 'port adopted' : 'port attached'),
          ],
        },
        onError: {
          target: 'failing',
          actions: [
            assign({ retries: ({ context }) => context.retries + 1, error: ({ context, event }) => attachErrorText(event.error, context.config) }),
            // A full port table is a resource limit: counted (coverage/show) as well as logged.
            ({ context, event }) => {
              if ((event.error as { code?: unknown } | undefined)?.code === 'PORT_TABLE_FULL') context.services.coverage.inc('dpif_port_add_table_full');
            },
            ({ context }) => context.services.log.warn({ component: 'port', bridge: context.bridge, port: context.config.name, error: context.error, retry: context.retries }, 'port not attached; retrying'),
          ],
        },
      },
      on: { STOP: 'stopped', REMOVE: { actions: 'requestRemove' }, UPDATE: { actions: 'takeUpdate' } },
    },
    failing: {
      // Interface.ofport/error are written before PORT_APPLIED: ovs-vsctl reads them as soon as
      // cur_cfg moves, and reports an empty or -1 ofport as "Error detected while setting up".
      invoke: {
        src: 'writeStatus',
        input: ({ context }) => ({ services: context.services, what: `Interface ${context.config.iface.name}`,
          op: ifaceStatusOp(context.config.iface.uuid, { ofport: -1, error: context.error ?? 'unknown error' }) }),
        onDone: 'missing',
        onError: 'missing',
      },
      on: { STOP: 'stopped', REMOVE: { actions: 'requestRemove' }, UPDATE: { actions: 'takeUpdate' } },
    },
    missing: {
      entry: ['applied', { type: 'publishStatus', params: { state: 'down', reason: 'missing' } }, 'healthDegraded'],
      always: { guard: 'removeRequested', target: 'removing' },
      after: { retry: 'attaching' },
      on: {
        UPDATE: { actions: ['takeUpdate', 'applied'] },
        REMOVE: 'removing',
        STOP: 'stopped',
      },
    },
    reporting: {
      invoke: {
        src: 'writeStatus',
        input: ({ context }) => ({ services: context.services, what: `Interface ${context.config.iface.name}`,
          op: ifaceStatusOp(context.config.iface.uuid, { ofport: context.ofport, ifindex: context.attached!.ifindex, mac: context.attached!.mac }) }),
        onDone: 'attached',
        onError: 'attached',
      },
      on: { STOP: 'stopped', REMOVE: { actions: 'requestRemove' }, UPDATE: { actions: 'takeUpdate' } },
    },
    attached: {
      // An UPDATE that arrived while attaching is applied now; a REMOVE is acted on now.
      entry: ['syncVlan', 'applied', 'healthClear'],
      always: { guard: 'removeRequested', target: 'removing' },
      invoke: {
        id: 'link',
        src: 'watchLink',
        input: ({ context }) => ({ host: context.config.iface.name, dev: context.attached!.dev }),
      },
      initial: 'watching',
      states: {
        watching: { after: { linkPoll: { target: 'watching', reenter: true, actions: sendTo('link', { type: 'POLL' }) } } },
      },
      on: {
        LINK: { actions: 'linkChanged' },
        GONE: {
          target: 'lost',
          actions: ({ context, event }) => context.services.log.warn({ component: 'port', bridge: context.bridge, port: context.config.name, reason: event.reason }, 'port lost its device; re-attaching'),
        },
        UPDATE: { actions: ['updateVlan', 'takeUpdate', 'applied'] },
        REMOVE: 'removing',
        STOP: 'stopped',
      },
    },
    lost: {
      invoke: {
        src: 'release',
        input: ({ context }) => ({ config: context.config, dev: context.attached!.dev, datapath: context.datapath, runtime: context.runtime }),
        onDone: 'attaching',
        onError: 'attaching',
      },
      on: { STOP: 'stopped', REMOVE: { actions: 'requestRemove' }, UPDATE: { actions: 'takeUpdate' } },
    },
    removing: {
      invoke: {
        src: 'detach',
        input: ({ context }) => ({ config: context.config, datapath: context.datapath, runtime: context.runtime }),
        onDone: 'gone',
        onError: { target: 'gone', actions: ({ context, event }) => context.services.log.error({ component: 'port', port: context.config.name, err: event.error }, 'detach failed') },
      },
    },
    gone: {
      type: 'final',
      entry: ['healthClear',
        ({ context }) => context.services.log.info({ component: 'port', bridge: context.bridge, port: context.config.name }, 'port removed'),
        { type: 'publishStatus', params: { state: 'down', reason: 'removed' } },
        sendParent(({ context }) => ({ type: 'PORT_GONE', port: context.config.name })),
      ],
    },
    stopped: { type: 'final' },
  },
});
