/**
 * The port machine alone, its I/O swapped through provide() and its time driven by xstate's
 * SimulatedClock: configuration changes that arrive while an attach is in flight are not lost
 * (the bridge waits for them to compute cur_cfg); a missing device is retried with exponential
 * backoff; the link is polled every linkPollMs, and a lost device is released and re-attached.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise, setup, SimulatedClock, waitFor, type SnapshotFrom } from 'xstate';
import { portMachine, type PortInput, type PortServices } from '../../src/actors/port.machine.ts';
import { Coverage } from '../../src/bridge/index.ts';
import type { Attached, PortConfig, PortDatapath, PortRuntime } from '../../src/bridge/index.ts';
import type { EventName } from '../../src/bus/index.ts';
import { DatapathError } from '../../src/datapath/index.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import { Bridge } from '../../src/ofproto/index.ts';

const t = suite('daemon-port-machine');
/** xstate's waitFor: event-driven, the deadline only guards against a hang. */
const WAIT = { timeout: 20_000 };
const BACKOFF = { initialMs: 10, maxMs: 50 };
const LINK_POLL_MS = 1000;

const cfg = (tag?: number): PortConfig => ({
  uuid: 'p', name: 'eth9', tag, trunks: [],
  iface: { uuid: 'i', name: 'eth9', type: 'system', ofportRequest: undefined, ofport: undefined, error: undefined },
});

const attached: Attached = { dev: 'eth9', ifindex: 9, mac: '02:00:00:00:00:09', up: true, adopted: false };

/** What a link watcher stand-in is given: it reports through `send` and counts POLLs. */
interface Link {
  polls: number;
  send?: (e: { type: 'LINK'; up: boolean } | { type: 'GONE'; reason: string }) => void;
}

interface Options {
  attach: () => Promise<Attached>;
  link?: Link;
}

/** A parent that records what the port tells it, with the port machine's I/O replaced. */
function harness(o: Options) {
  const clock = new SimulatedClock();
  const ofproto = new Bridge('br9');
  const runtime: PortRuntime = {
    findPort: (n) => (typeof n === 'number' ? ofproto.ports.get(n) : [...ofproto.ports.values()].find((p) => p.name === n)),
    addPort: (c) => ofproto.addPort({ ...c, dpPort: c.dpPort ?? c.ofport }),
    removePort: (n) => { const p = runtime.findPort(n); return p ? ofproto.removePort(p.ofport) : false; },
    setPortLink: (n, up) => { ofproto.setLinkUp(n, up); },
  };
  // The swapped actors never reach the datapath; it only has to be there.
  const datapath: PortDatapath = {
    dir: '/nonexistent', listPorts: () => [], findPort: () => undefined, addPort: () => 4,
    delPort: (n) => { throw new Error(`unexpected delPort ${n}`); },
  };
  const published: { name: EventName; payload: unknown }[] = [];
  const services: PortServices = {
    log: silentLogger(), publish: (name, payload) => { published.push({ name, payload }); }, db: { current: null },
    backoff: BACKOFF, linkPollMs: LINK_POLL_MS, health: new Map(), coverage: new Coverage(),
  };
  const writes: string[] = [];
  const io = { attaches: 0, releases: 0, detaches: 0, writes };
  const port = portMachine.provide({ actors: {
    attach: fromPromise(async () => {
      io.attaches++;
      const a = await o.attach();
      runtime.addPort({ name: 'eth9', ofport: 4, tag: 10 });
      return a;
    }),
    detach: fromPromise(async () => { io.detaches++; runtime.removePort('eth9'); }),
    release: fromPromise(async () => { io.releases++; runtime.removePort('eth9'); }),
    writeStatus: fromPromise(async ({ input }) => { io.writes.push(input.what); return true; }),
    watchLink: fromCallback(({ sendBack, receive }) => {
      if (!o.link) return;
      const link = o.link;
      link.send = sendBack;
      receive(() => { link.polls++; });
    }),
  } });
  const input: PortInput = { bridge: 'br9', config: cfg(10), ofport: 4, gen: 1, runtime, datapath, services };
  const got: { type: string; gen?: number }[] = [];
  const parent = setup({ actors: { port } }).createMachine({
    invoke: { id: 'port', src: 'port', input },
    on: { '*': { actions: ({ event }) => { got.push(event); } } },
  });
  const actor = createActor(parent, { clock }).start();
  const child = actor.getSnapshot().children.port!;
  const state = (): SnapshotFrom<typeof portMachine> => child.getSnapshot();
  return { actor, child, state, clock, got, ofproto, published, services, io };
}

const notFound = async (): Promise<Attached> => { throw Object.assign(new Error('gone'), { code: 'NO_SUCH_INTERFACE' }); };

t('an UPDATE during the attach is applied once attached, and acknowledged with its generation', async () => {
  let release!: () => void;
  const h = harness({ attach: () => new Promise((r) => { release = () => r(attached); }) });
  try {
    h.child.send({ type: 'UPDATE', config: cfg(20), gen: 2 });
    release();
    await waitFor(h.child, (s) => s.matches('attached'), WAIT);
    assert.equal(h.got.filter((e) => e.type === 'PORT_APPLIED').map((e) => e.gen), [2]);
    assert.is([...h.ofproto.ports.values()][0]!.tag, 20);
  } finally {
    h.actor.stop();
  }
});

t('a REMOVE during the attach detaches once attached (the bridge gets PORT_GONE)', async () => {
  let release!: () => void;
  const h = harness({ attach: () => new Promise((r) => { release = () => r(attached); }) });
  try {
    h.child.send({ type: 'REMOVE' });
    release();
    await waitFor(h.child, (s) => s.status === 'done', WAIT);
    assert.ok(h.got.some((e) => e.type === 'PORT_GONE'));
    assert.is(h.io.detaches, 1);
    assert.is(h.ofproto.ports.size, 0);
  } finally {
    h.actor.stop();
  }
});

t('a missing device: error written, degraded, retried after 10, 20, 40, 50, 50 ms; REMOVE while waiting ends it', async () => {
  const h = harness({ attach: notFound });
  try {
    await waitFor(h.child, (s) => s.matches('missing'), WAIT);
    assert.is(h.io.attaches, 1);
    assert.equal(h.io.writes, ['Interface eth9']);
    assert.equal(h.got.filter((e) => e.type === 'PORT_APPLIED').map((e) => e.gen), [1]);
    assert.equal(h.services.health.get('port:br9/eth9'),
      { status: 'degraded', restarts: 1, detail: 'could not open network device eth9 (No such device)' });
    for (const [i, delay] of [10, 20, 40, 50, 50].entries()) {
      // At rest in `missing` on simulated time: only the retry timer can move it.
      h.clock.increment(delay - 1);
      assert.is(h.io.attaches, i + 1, `no retry ${delay - 1} ms into a ${delay} ms backoff`);
      assert.ok(h.state().matches('missing'));
      h.clock.increment(1);
      assert.is(h.io.attaches, i + 2, `retried after ${delay} ms`);
      await waitFor(h.child, (s) => s.matches('missing'), WAIT);
    }
    assert.is(h.services.health.get('port:br9/eth9')?.restarts, 6);
    h.child.send({ type: 'REMOVE' });
    await waitFor(h.child, (s) => s.status === 'done', WAIT);
    assert.ok(h.got.some((e) => e.type === 'PORT_GONE'));
    assert.not.ok(h.services.health.has('port:br9/eth9'), 'health cleared');
  } finally {
    h.actor.stop();
  }
});

t('a full port table: the Interface error says so, each attempt is counted (coverage), and it is retried', async () => {
  const full = async (): Promise<Attached> => { throw new DatapathError('PORT_TABLE_FULL', 'br9 has 1024 ports already (its port table is full)'); };
  const h = harness({ attach: full });
  try {
    await waitFor(h.child, (s) => s.matches('missing'), WAIT);
    assert.equal(h.services.health.get('port:br9/eth9'), { status: 'degraded', restarts: 1,
      detail: 'could not add network device eth9 to ofproto (port table full: br9 has 1024 ports already (its port table is full))' });
    assert.is(h.services.coverage.total('dpif_port_add_table_full'), 1);
    h.clock.increment(BACKOFF.initialMs);
    await waitFor(h.child, () => h.io.attaches === 2 && h.state().matches('missing'), WAIT);
    assert.is(h.services.coverage.total('dpif_port_add_table_full'), 2, 'a port freed later lets the retry in; each attempt is an event');
  } finally {
    h.actor.stop();
  }
});

t('the link is polled every linkPollMs; LINK publishes and writes link_state; GONE releases and re-attaches', async () => {
  const link: Link = { polls: 0 };
  const h = harness({ attach: async () => attached, link });
  try {
    await waitFor(h.child, (s) => s.matches('attached'), WAIT);
    link.send!({ type: 'LINK', up: true });
    await waitFor(h.child, (s) => s.context.up === true, WAIT);
    assert.equal(h.published.filter((p) => p.name === 'port.status').map((p) => p.payload),
      [{ bridge: 'br9', port: 'eth9', ofport: 4, state: 'up', reason: 'link' }]);
    await waitFor(h.child, () => h.io.writes.includes('link_state'), WAIT);
    for (let n = 1; n <= 3; n++) {
      h.clock.increment(LINK_POLL_MS - 1);
      assert.is(link.polls, n - 1, `no poll before ${LINK_POLL_MS} ms`);
      h.clock.increment(1);
      assert.is(link.polls, n, `poll ${n}`);
    }
    link.send!({ type: 'GONE', reason: 'the device disappeared' });
    await waitFor(h.child, (s) => s.matches('attached') && h.io.attaches === 2, WAIT);
    assert.is(h.io.releases, 1);
    assert.is(h.ofproto.ports.size, 1, 're-added to ofproto');
  } finally {
    h.actor.stop();
  }
});

t.run();
