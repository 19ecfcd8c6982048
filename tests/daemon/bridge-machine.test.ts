/**
 * The bridge machine alone: its datapath I/O and its port, upcall and revalidator children
 * swapped through provide(), on a BridgeRuntime over the fake datapath. Ports get their ofports
 * (LOCAL, the request, the pinned number), the bridge reports a configuration applied only once
 * every port has, Open_vSwitch tuning reaches the live udpif, and DELETE drains the ports before
 * the datapath is destroyed. (The daemon suite runs the real machine against the kernel.)
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise, sendParent, setup, SimulatedClock, waitFor } from 'xstate';
import { bridgeMachine, type BridgeInput, type BridgeParentEvent } from '../../src/actors/bridge.machine.ts';
import type { PortEvent, PortInput } from '../../src/actors/port.machine.ts';
import { Coverage, defaultOpenFlow } from '../../src/bridge/index.ts';
import type { BridgeConfig, BridgeDatapath, OpenedBridge, PortConfig, Services } from '../../src/bridge/index.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import { BridgeRuntime } from '../../src/vswitch/index.ts';
import { FakeDatapath } from '../vswitch/fake-datapath.ts';

const t = suite('daemon-bridge-machine');
/** xstate's waitFor: event-driven, the deadline only guards against a hang. */
const WAIT = { timeout: 20_000 };

const port = (name: string, o: Partial<PortConfig['iface']> & { tag?: number } = {}): PortConfig => ({
  uuid: `p-${name}`, name, tag: o.tag, trunks: [],
  iface: { uuid: `i-${name}`, name, type: o.type ?? 'system', ofportRequest: o.ofportRequest, ofport: o.ofport, error: undefined },
});

const config = (ports: PortConfig[], tuning: BridgeConfig['tuning'] = {}): BridgeConfig => ({ uuid: 'b', name: 'br9', ports, otherConfig: {}, tuning, openflow: defaultOpenFlow() });

/** A port actor that applies what it is given at once and goes on REMOVE; records its input. */
function portStandIn(spawned: PortInput[]) {
  return setup({ types: { input: {} as PortInput, context: {} as { name: string; gen: number }, events: {} as PortEvent } }).createMachine({
    context: ({ input }) => { spawned.push(input); return { name: input.config.name, gen: input.gen }; },
    entry: sendParent(({ context }) => ({ type: 'PORT_APPLIED', port: context.name, gen: context.gen })),
    initial: 'up',
    states: {
      up: {
        on: {
          UPDATE: { actions: sendParent(({ context, event }) => ({ type: 'PORT_APPLIED', port: context.name, gen: event.gen })) },
          REMOVE: { target: 'gone', actions: sendParent(({ context }) => ({ type: 'PORT_GONE', port: context.name })) },
          STOP: 'gone',
        },
      },
      gone: { type: 'final' },
    },
  });
}

function harness() {
  // One port pinned by an earlier run: eth2 keeps its datapath number 6.
  const datapath: BridgeDatapath = {
    dir: '/nonexistent', listPorts: () => [{ portNo: 6, name: 'eth2', ifindex: 12, flags: 0 }], findPort: () => undefined,
    addPort: () => { throw new Error('unexpected addPort'); }, delPort: () => { throw new Error('unexpected delPort'); }, close: () => {},
  };
  const opened: OpenedBridge = { datapath, runtime: new BridgeRuntime({ datapath: new FakeDatapath('br9') }), created: true };
  const spawned: PortInput[] = [];
  const io = { destroyed: 0, closed: 0 };
  const machine = bridgeMachine.provide({ actors: {
    open: fromPromise(async () => opened),
    close: fromPromise(async () => { io.closed++; }),
    destroy: fromPromise(async () => { io.destroyed++; }),
    port: portStandIn(spawned),
    upcall: fromCallback(() => {}),
    revalidator: fromCallback(() => {}),
  } });
  const services: Services = {
    log: silentLogger(), publish: () => {}, runtimes: new Map(), db: { current: null },
    backoff: { initialMs: 10, maxMs: 50 }, linkPollMs: 60_000, health: new Map(), coverage: new Coverage(),
  };
  const input: BridgeInput = {
    config: config([port('br9', { type: 'internal' }), port('eth1', { ofportRequest: 3 }), port('eth2')]), seq: 1, services,
  };
  const applied: number[] = [];
  let gone = false;
  const parent = setup({ types: { events: {} as BridgeParentEvent }, actors: { bridge: machine } }).createMachine({
    invoke: { id: 'bridge', src: 'bridge', input },
    on: {
      BRIDGE_APPLIED: { actions: ({ event }) => { applied.push(event.seq); } },
      BRIDGE_GONE: { actions: () => { gone = true; } },
    },
  });
  const actor = createActor(parent, { clock: new SimulatedClock() }).start();
  const bridge = actor.getSnapshot().children.bridge!;
  return { actor, bridge, spawned, services, opened, io, applied, gone: () => gone };
}

t('ports get LOCAL, their request, their pinned number; applied once every port has; tuning reaches the udpif', async () => {
  const h = harness();
  try {
    await waitFor(h.bridge, (s) => s.matches('running'), WAIT);
    assert.equal(h.spawned.map((p) => [p.config.name, p.ofport, p.gen]), [['br9', 65534, 1], ['eth1', 3, 1], ['eth2', 6, 1]]);
    assert.is(h.services.runtimes.get('br9'), h.opened.runtime, 'registered');
    await waitFor(h.actor, () => h.applied.includes(1), WAIT);
    // eth1 changes its tag (UPDATE, generation 2), eth2 goes (REMOVE), eth3 comes (lowest free).
    h.bridge.send({ type: 'CONFIG', seq: 2, config: config([port('br9', { type: 'internal' }), port('eth1', { ofportRequest: 3, tag: 7 }), port('eth3')], { maxIdleMs: 1234 }) });
    await waitFor(h.actor, () => h.applied.includes(2), WAIT);
    assert.equal(h.applied, [1, 2]);
    assert.equal(h.spawned.map((p) => p.config.name), ['br9', 'eth1', 'eth2', 'eth3']);
    assert.is(h.spawned[3]!.ofport, 1);
    assert.is(h.opened.runtime.udpif.maxIdleMs, 1234);
  } finally {
    h.actor.stop();
  }
});

t('DELETE drains the ports, destroys the datapath, unregisters, and tells the parent BRIDGE_GONE', async () => {
  const h = harness();
  try {
    await waitFor(h.actor, () => h.applied.includes(1), WAIT);
    h.bridge.send({ type: 'DELETE' });
    await waitFor(h.actor, () => h.gone(), WAIT);
    assert.is(h.io.destroyed, 1);
    assert.is(h.io.closed, 0);
    assert.not.ok(h.services.runtimes.has('br9'), 'unregistered');
    assert.is(h.bridge.getSnapshot().status, 'done');
  } finally {
    h.actor.stop();
  }
});

t.run();
