/**
 * The port machine alone, its I/O swapped through provide(): configuration changes that arrive
 * while an attach is in flight are not lost (the bridge waits for them to compute cur_cfg).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise, setup, waitFor, type AnyActorRef } from 'xstate';
import { portMachine, type Attached, type PortInput } from '../../src/actors/port.machine.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import type { Services } from '../../src/bridge/index.ts';
import type { PortConfig } from '../../src/bridge/index.ts';
import { Bridge } from '../../src/ofproto/bridge.ts';

const t = suite('daemon-port-machine');

function services(): Services {
  return {
    log: silentLogger(), publish: () => {}, runtimes: new Map(), db: { current: null },
    backoff: { initialMs: 10, maxMs: 50 }, linkPollMs: 60_000, health: new Map(),
  };
}

const cfg = (tag?: number): PortConfig => ({
  uuid: 'p', name: 'eth9', tag, trunks: [],
  iface: { uuid: 'i', name: 'eth9', type: 'system', ofportRequest: undefined, ofport: undefined, error: undefined },
});

/** A parent that records what the port tells it, with the port machine's I/O replaced. */
function harness(attach: () => Promise<Attached>) {
  const ofproto = new Bridge('br9');
  const runtime = {
    findPort: (n: string) => [...ofproto.ports.values()].find((p) => p.name === n),
    addPort: (c: Parameters<Bridge['addPort']>[0]) => ofproto.addPort(c),
    removePort: (n: string) => { const p = runtime.findPort(n); return p ? ofproto.removePort(p.ofport) : false; },
  };
  const got: { type: string; gen?: number }[] = [];
  const port = portMachine.provide({ actors: {
    attach: fromPromise(async () => { const a = await attach(); runtime.addPort({ name: 'eth9', ofport: 4, tag: 10 }); return a; }),
    detach: fromPromise(async () => { runtime.removePort('eth9'); }),
    writeStatus: fromPromise(async () => true),
    watchLink: fromCallback(() => () => {}),
  } });
  const parent = setup({ actors: { port } }).createMachine({
    invoke: { id: 'port', src: 'port', input: { bridge: 'br9', config: cfg(10), ofport: 4, gen: 1, runtime, datapath: {}, services: services() } as unknown as PortInput },
    on: { '*': { actions: ({ event }) => { got.push(event as { type: string }); } } },
  });
  const actor = createActor(parent).start();
  const child = actor.getSnapshot().children.port as AnyActorRef;
  return { actor, child, got, ofproto };
}

const attached: Attached = { dev: 'eth9', ifindex: 9, mac: '02:00:00:00:00:09', up: true, adopted: false };

t('an UPDATE during the attach is applied once attached, and acknowledged with its generation', async () => {
  let release!: () => void;
  const h = harness(() => new Promise((r) => { release = () => r(attached); }));
  h.child.send({ type: 'UPDATE', config: cfg(20), gen: 2 });
  release();
  await waitFor(h.child, (s) => s.value === 'attached');
  assert.equal(h.got.filter((e) => e.type === 'PORT_APPLIED').map((e) => e.gen), [2]);
  assert.is([...h.ofproto.ports.values()][0]!.tag, 20);
  h.actor.stop();
});

t('a REMOVE during the attach detaches once attached (the bridge gets PORT_GONE)', async () => {
  let release!: () => void;
  const h = harness(() => new Promise((r) => { release = () => r(attached); }));
  h.child.send({ type: 'REMOVE' });
  release();
  await waitFor(h.child, (s) => s.status === 'done');
  assert.ok(h.got.some((e) => e.type === 'PORT_GONE'));
  assert.is(h.ofproto.ports.size, 0);
  h.actor.stop();
});

t('a failed attach is retried with backoff; REMOVE while waiting ends it', async () => {
  let n = 0;
  const h = harness(async () => {
    n++;
    throw Object.assign(new Error('gone'), { code: 'NO_SUCH_INTERFACE' });
  });
  await new Promise((r) => setTimeout(r, 120));
  assert.ok(n >= 3, `retried (${n} attempts)`);
  h.child.send({ type: 'REMOVE' });
  await waitFor(h.child, (s) => s.status === 'done');
  h.actor.stop();
});

t.run();
