/**
 * The port actor: one per Port/Interface row of a bridge (OVS bridge.c's iface lifecycle).
 *
 *   attaching --ok--> attached --REMOVE--> removing --> (final)
 *       |  ^             |  LINK: publish port.status, write link_state
 *   fail|  |backoff      |  GONE (device vanished or was re-created): detach, re-attach
 *       v  |             v
 *     missing  <---------'
 *   invalid (the row cannot be applied as configured): error written, waits for REMOVE
 *
 * Attach: resolve the device (system: an existing netdev; internal: the veth pair of
 * internal-port.ts, created if missing), then attach the datapath with portNo = ofport. On a
 * daemon restart the port is usually attached already (pinned tcx link): it is ADOPTED when the
 * datapath has it under the same name, port number and ifindex with its link pin present, and
 * re-attached otherwise; so a port is never attached twice. Then the ofproto port is added
 * (tag/trunks) and Interface.ofport/error/ifindex/mac_in_use are written back to OVSDB.
 * A missing device writes error "could not open network device X (No such device)" and
 * ofport -1, like ovs-vswitchd, and is retried with exponential backoff.
 * After each configuration change handled (first attempt, UPDATE) the actor sends its parent
 * PORT_APPLIED with the generation it applied; the bridge uses it to know when cur_cfg may move.
 *
 * I/O lives in the attach/detach/writeStatus/watchLink actors (swappable in tests).
 */
import fs from 'node:fs';
import path from 'node:path';
import { assign, fromCallback, fromPromise, sendParent, setup } from 'xstate';
import type { Datapath } from '../datapath/index.ts';
import { backoffDelay, ifaceStatusOp, transactStatus, type PortConfig, type Services } from '../bridge/index.ts';
import { ensureInternalPort, hiddenName, linkState, netdevInfo, removeInternalPort, setLinkUp } from '../netdev/index.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';

export interface PortInput {
  bridge: string;
  config: PortConfig;
  ofport: number;
  gen: number;
  runtime: BridgeRuntime;
  datapath: Datapath;
  services: Services;
}

export interface Attached {
  dev: string;
  ifindex: number;
  mac: string;
  up: boolean;
  adopted: boolean;
}

export type PortParentEvent =
  | { type: 'PORT_APPLIED'; port: string; gen: number }
  | { type: 'PORT_GONE'; port: string };

type PortEvent =
  | { type: 'UPDATE'; config: PortConfig; gen: number }
  | { type: 'REMOVE' }
  | { type: 'STOP' }
  | { type: 'LINK'; up: boolean }
  | { type: 'GONE'; reason: string };

/** The datapath device of an interface: itself, or the hidden end of an internal pair. */
export function dpDevice(c: PortConfig): string {
  return c.iface.type === 'internal' ? hiddenName(c.iface.name) : c.iface.name;
}

function ofprotoPort(c: PortConfig, ofport: number) {
  return { name: c.iface.name, ofport, dpPort: ofport, tag: c.tag, trunks: c.tag === undefined ? c.trunks : undefined };
}

/** Resolves and attaches (or adopts) the port. Throws when the device is missing. */
export function attachPort(i: { config: PortConfig; ofport: number; datapath: Datapath; runtime: BridgeRuntime }): Attached {
  const c = i.config;
  const dev = c.iface.type === 'internal' ? ensureInternalPort(c.iface.name) : c.iface.name;
  const info = netdevInfo(dev);
  if (c.iface.type === 'system' && !info.up) setLinkUp(dev);
  const ports = i.datapath.listPorts();
  const mine = ports.find((p) => p.name === dev);
  const pinned = fs.existsSync(path.join(i.datapath.dir, `link_${i.ofport}`));
  let adopted = false;
  if (mine && mine.portNo === i.ofport && mine.ifindex === info.ifindex && pinned) {
    adopted = true;
  } else {
    if (mine) i.datapath.delPort(mine.portNo);
    const squatter = ports.find((p) => p.portNo === i.ofport && p.name !== dev);
    if (squatter) i.datapath.delPort(squatter.portNo);
    i.datapath.addPort(dev, { portNo: i.ofport });
  }
  if (i.runtime.findPort(c.iface.name)) i.runtime.removePort(c.iface.name);
  i.runtime.addPort(ofprotoPort(c, i.ofport));
  const host = c.iface.type === 'internal' ? netdevInfo(c.iface.name) : info;
  return { dev, ifindex: host.ifindex, mac: host.mac, up: host.up && host.carrier, adopted };
}

/** Removes the port from ofproto and the datapath, and deletes an internal device. */
export function detachPort(i: { config: PortConfig; datapath: Datapath; runtime: BridgeRuntime }): void {
  i.runtime.removePort(i.config.iface.name);
  const dev = dpDevice(i.config);
  if (i.datapath.findPort(dev)) i.datapath.delPort(dev);
  if (i.config.iface.type === 'internal') removeInternalPort(i.config.iface.name);
}

function errorText(err: unknown, c: PortConfig): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'NO_SUCH_INTERFACE') return `could not open network device ${c.iface.name} (No such device)`;
  return e?.message ?? String(err);
}

export const portMachine = setup({
  types: {
    input: {} as PortInput,
    context: {} as PortInput & { attached: Attached | null; up: boolean | null; retries: number; error: string | null; removeRequested: boolean },
    events: {} as PortEvent,
  },
  actors: {
    attach: fromPromise<Attached, { config: PortConfig; ofport: number; datapath: Datapath; runtime: BridgeRuntime }>(
      async ({ input }) => attachPort(input)),
    detach: fromPromise<void, { config: PortConfig; datapath: Datapath; runtime: BridgeRuntime }>(
      async ({ input }) => detachPort(input)),
    writeStatus: fromPromise<boolean, { services: Services; op: unknown; what: string }>(
      ({ input }) => transactStatus(input.services, [input.op], input.what)),
    watchLink: fromCallback<PortEvent, { host: string; dev: string; ifindex: number; devIfindex: number; pollMs: number }>(
      ({ input, sendBack }) => {
        let last: boolean | null = null;
        const tick = (): void => {
          const d = linkState(input.dev);
          if (!d || d.ifindex !== input.devIfindex) {
            sendBack({ type: 'GONE', reason: d ? 'the device was re-created' : 'the device disappeared' });
            return;
          }
          const h = input.host === input.dev ? d : linkState(input.host);
          const up = h?.up ?? false;
          if (up !== last) {
            last = up;
            sendBack({ type: 'LINK', up });
          }
        };
        tick();
        const t = setInterval(tick, input.pollMs);
        return () => clearInterval(t);
      }),
  },
  delays: {
    retry: ({ context }) => backoffDelay(context.services.backoff, context.retries - 1),
  },
  guards: {
    invalid: ({ context }) => context.config.invalid !== undefined,
    removeRequested: ({ context }) => context.removeRequested,
  },
  actions: {
    applied: sendParent(({ context }) => ({ type: 'PORT_APPLIED', port: context.config.name, gen: context.gen })),
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
      const rt = context.runtime;
      rt.removePort(context.config.iface.name);
      rt.addPort(ofprotoPort(event.config, context.ofport));
    },
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
            assign({ retries: ({ context }) => context.retries + 1, error: ({ context, event }) => errorText(event.error, context.config) }),
            ({ context }) => context.services.log.warn({ component: 'port', bridge: context.bridge, port: context.config.name, error: context.error, retry: context.retries }, 'port not attached; retrying'),
          ],
        },
      },
      on: { STOP: 'stopped', REMOVE: { actions: assign({ removeRequested: true }) }, UPDATE: { actions: assign({ config: ({ event }) => event.config, gen: ({ event }) => event.gen }) } },
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
      on: { STOP: 'stopped', REMOVE: { actions: assign({ removeRequested: true }) }, UPDATE: { actions: assign({ config: ({ event }) => event.config, gen: ({ event }) => event.gen }) } },
    },
    missing: {
      entry: ['applied', { type: 'publishStatus', params: { state: 'down', reason: 'missing' } }, 'healthDegraded'],
      always: { guard: 'removeRequested', target: 'removing' },
      after: { retry: 'attaching' },
      on: {
        UPDATE: { actions: [assign({ config: ({ event }) => event.config, gen: ({ event }) => event.gen }), 'applied'] },
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
      on: { STOP: 'stopped', REMOVE: { actions: assign({ removeRequested: true }) }, UPDATE: { actions: assign({ config: ({ event }) => event.config, gen: ({ event }) => event.gen }) } },
    },
    attached: {
      // An UPDATE that arrived while attaching is applied now; a REMOVE is acted on now.
      entry: ['syncVlan', 'applied', 'healthClear'],
      always: { guard: 'removeRequested', target: 'removing' },
      invoke: [
        {
          src: 'watchLink',
          input: ({ context }) => ({
            host: context.config.iface.name, dev: context.attached!.dev, ifindex: context.attached!.ifindex,
            devIfindex: linkState(context.attached!.dev)?.ifindex ?? -1, pollMs: context.services.linkPollMs,
          }),
        },
      ],
      on: {
        LINK: {
          actions: [
            assign({ up: ({ event }) => event.up }),
            ({ context, event }) => {
              context.services.publish('port.status', { bridge: context.bridge, port: context.config.name, ofport: context.ofport, state: event.up ? 'up' : 'down', reason: 'link' });
              void transactStatus(context.services, [{ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', context.config.iface.uuid]]], row: { link_state: event.up ? 'up' : 'down', admin_state: 'up' } }], 'link_state');
            },
          ],
        },
        GONE: {
          target: 'attaching',
          actions: [
            ({ context, event }) => context.services.log.warn({ component: 'port', bridge: context.bridge, port: context.config.name, reason: event.reason }, 'port lost its device; re-attaching'),
            ({ context }) => {
              context.runtime.removePort(context.config.iface.name);
              const dev = context.attached!.dev;
              try { if (context.datapath.findPort(dev)) context.datapath.delPort(dev); } catch { /* re-attach cleans up */ }
            },
          ],
        },
        UPDATE: { actions: ['updateVlan', assign({ config: ({ event }) => event.config, gen: ({ event }) => event.gen }), 'applied'] },
        REMOVE: 'removing',
        STOP: 'stopped',
      },
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
