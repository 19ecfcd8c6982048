/**
 * The vswitch reconciler alone, on an in-memory OVSDB, with bridge actors and the datapath
 * listing swapped through provide() and time driven by xstate's SimulatedClock: cur_cfg
 * follows next_cfg once every bridge reports the change applied; a failing bridge is restarted
 * with backoff; STOP completes even while a restart is pending; pinned datapaths without a
 * Bridge row are handed to a bridge actor to destroy.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise, sendParent, setup, SimulatedClock, waitFor } from 'xstate';
import type { BridgeEvent, BridgeInput } from '../../src/actors/bridge.machine.ts';
import { vswitchMachine } from '../../src/actors/vswitch.machine.ts';
import { Coverage, readConfig, type Services } from '../../src/bridge/index.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import { OvsdbCore, VSWITCH_SCHEMA_PATH, type DbHandle } from '../../src/ovsdb/index.ts';
import { waitFor as until } from '../helpers/wait.ts';

const t = suite('daemon-vswitch-machine');
/** xstate's waitFor: event-driven, the deadline only guards against a hang. */
const WAIT = { timeout: 20_000 };

async function services(): Promise<{ s: Services; db: DbHandle }> {
  const db = new OvsdbCore().addMemory(JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
  await db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
  const s: Services = {
    log: silentLogger(), publish: () => {}, runtimes: new Map(), db: { current: db },
    backoff: { initialMs: 20, maxMs: 100 }, linkPollMs: 60_000, health: new Map(), coverage: new Coverage(),
  };
  return { s, db };
}

async function addBridge(db: DbHandle, name: string): Promise<void> {
  await db.transact([
    { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': 'i' },
    { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Bridge', row: { name, ports: ['named-uuid', 'p'] }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]], ['next_cfg', '+=', 1]] },
  ]);
}

const curCfg = (db: DbHandle): number => readConfig(db)!.curCfg;

/** A bridge that applies every CONFIG at once, unless `hold` says not yet; records its input. */
function instantBridge(hold: { on: boolean }, inputs: BridgeInput[] = []) {
  return setup({ types: { input: {} as BridgeInput, context: {} as { name: string; seq: number }, events: {} as BridgeEvent } }).createMachine({
    context: ({ input }) => { inputs.push(input); return { name: input.config.name, seq: input.seq }; },
    entry: sendParent(({ context }) => ({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: context.seq })),
    on: {
      CONFIG: {
        actions: sendParent(({ context, event }) => ({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: hold.on ? 0 : event.seq })),
      },
      STOP: '.done',
    },
    initial: 'up',
    states: { up: {}, done: { type: 'final' } },
  });
}

/** No datapaths pinned: the listing is swapped, the machine never reads bpffs. */
const nonePinned = fromPromise(async (): Promise<string[]> => []);

t('cur_cfg = next_cfg once every bridge has applied the change', async () => {
  const { s, db } = await services();
  const hold = { on: false };
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: instantBridge(hold), listDatapaths: nonePinned } }),
    { input: { services: s }, clock: new SimulatedClock() }).start();
  const changed = db.subscribe(() => setImmediate(() => vs.send({ type: 'CONFIG_CHANGED' })));
  try {
    await addBridge(db, 'br1');
    await until('cur_cfg 1', () => curCfg(db) === 1);
    hold.on = true; // br1 now does not confirm
    await addBridge(db, 'br2');
    // The positive signal: the change was reconciled and br2 (new) applied it; only br1 is
    // missing. Had the vswitch committed anyway, it would be writing cur_cfg by now.
    const snap = await waitFor(vs, (x) => x.context.target === 2 && x.context.bridges.get('br2')?.applied === x.context.seq, WAIT);
    assert.ok(snap.context.bridges.get('br1')!.applied < snap.context.seq, 'br1 has not applied it');
    assert.ok(snap.matches({ running: 'idle' }), 'not writing cur_cfg');
    assert.is(snap.context.written, 1);
    assert.is(curCfg(db), 1, 'not before br1 applied');
    hold.on = false;
    vs.send({ type: 'CONFIG_CHANGED' });
    await until('cur_cfg 2', () => curCfg(db) === 2);
    vs.send({ type: 'STOP' });
    await waitFor(vs, (x) => x.status === 'done', WAIT);
  } finally {
    changed();
    vs.stop();
  }
});

t('a failing bridge is restarted after 20, 40, 80 ms and counted; STOP completes while a restart is pending', async () => {
  const { s, db } = await services();
  const clock = new SimulatedClock();
  let starts = 0;
  const failing = fromPromise(async () => { starts++; throw new Error('injected'); });
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: failing, listDatapaths: nonePinned } }),
    { input: { services: s }, clock }).start();
  const restarts = (): number => s.health.get('bridge:brx')?.restarts ?? 0;
  try {
    await waitFor(vs, (x) => x.matches('running'), WAIT);
    await addBridge(db, 'brx');
    vs.send({ type: 'CONFIG_CHANGED' });
    await until('the first failure', () => restarts() === 1);
    for (const [i, delay] of [20, 40, 80].entries()) {
      // At rest on simulated time: only the backoff timer can respawn the bridge.
      clock.increment(delay - 1);
      assert.is(starts, i + 1, `not respawned ${delay - 1} ms into a ${delay} ms backoff`);
      clock.increment(1);
      assert.is(starts, i + 2, `respawned after ${delay} ms`);
      await until(`failure ${i + 2}`, () => restarts() === i + 2);
    }
    assert.is(s.health.get('bridge:brx')?.status, 'degraded');
    vs.send({ type: 'STOP' });
    await waitFor(vs, (x) => x.status === 'done', WAIT);
    clock.increment(1000);
    assert.is(starts, 4, 'no respawn after STOP');
  } finally {
    vs.stop();
  }
});

t('a pinned datapath without a Bridge row is given to a bridge actor to destroy', async () => {
  const { s, db } = await services();
  await addBridge(db, 'br1');
  const inputs: BridgeInput[] = [];
  const pinned = fromPromise(async (): Promise<string[]> => ['br1', 'orphan']);
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: instantBridge({ on: false }, inputs), listDatapaths: pinned } }),
    { input: { services: s }, clock: new SimulatedClock() }).start();
  try {
    await waitFor(vs, (x) => x.context.bridges.has('orphan'), WAIT);
    assert.equal(inputs.map((i) => [i.config.name, i.deleteOnOpen ?? false]), [['br1', false], ['orphan', true]]);
    assert.ok(vs.getSnapshot().context.bridges.get('orphan')!.deleting, 'counted as being deleted');
  } finally {
    vs.stop();
  }
});

t('bridges named like Object.prototype members are bridges like any other', async () => {
  const { s, db } = await services();
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: instantBridge({ on: false }), listDatapaths: nonePinned } }),
    { input: { services: s }, clock: new SimulatedClock() }).start();
  const changed = db.subscribe(() => setImmediate(() => vs.send({ type: 'CONFIG_CHANGED' })));
  try {
    // ("__proto__" never gets here: a bridge name must start with a letter or digit.)
    for (const name of ['constructor', 'toString', 'valueOf']) await addBridge(db, name);
    await until('cur_cfg 3', () => curCfg(db) === 3);
    const b = vs.getSnapshot().context.bridges;
    assert.equal([...b.keys()].sort(), ['constructor', 'toString', 'valueOf']);
    assert.ok([...b.values()].every((x) => x.applied > 0 && !x.deleting));
  } finally {
    changed();
    vs.stop();
  }
});

t.run();
