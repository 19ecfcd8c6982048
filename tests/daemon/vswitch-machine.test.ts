/**
 * The vswitch reconciler alone, on an in-memory OVSDB, with bridge actors swapped through
 * provide(): cur_cfg follows next_cfg once every bridge reports the change applied; a failing
 * bridge is restarted with backoff; STOP completes even while a restart is pending.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise, sendParent, setup, waitFor } from 'xstate';
import type { BridgeInput } from '../../src/actors/bridge.machine.ts';
import { vswitchMachine } from '../../src/actors/vswitch.machine.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import type { Services } from '../../src/bridge/index.ts';
import { OvsdbCore, VSWITCH_SCHEMA_PATH, type DbHandle } from '../../src/ovsdb/index.ts';
import { until } from './helpers.ts';

const t = suite('daemon-vswitch-machine');
process.env.BVS_PIN_DIR = '/sys/fs/bpf/bvs-test-none-vswitch-machine'; // no orphan datapaths

async function services(): Promise<{ s: Services; db: DbHandle }> {
  const db = new OvsdbCore().addMemory(JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
  await db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
  const s: Services = {
    log: silentLogger(), publish: () => {}, runtimes: new Map(), db: { current: db },
    backoff: { initialMs: 20, maxMs: 100 }, linkPollMs: 60_000, health: new Map(),
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

const cfg = (db: DbHandle) => db.rows('Open_vSwitch')[0] as { next_cfg: number; cur_cfg: number };

/** A bridge that applies every CONFIG at once, unless `hold` says not yet. */
function instantBridge(hold: { on: boolean }) {
  return setup({ types: { input: {} as BridgeInput, context: {} as { name: string; seq: number } } }).createMachine({
    context: ({ input }) => ({ name: input.config.name, seq: input.seq }),
    entry: sendParent(({ context }) => ({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: context.seq })),
    on: {
      CONFIG: {
        actions: sendParent(({ context, event }) => ({ type: 'BRIDGE_APPLIED', bridge: context.name, seq: hold.on ? 0 : (event as unknown as { seq: number }).seq })),
      },
      STOP: '.done',
    },
    initial: 'up',
    states: { up: {}, done: { type: 'final' } },
  });
}

t('cur_cfg = next_cfg once every bridge has applied the change', async () => {
  const { s, db } = await services();
  const hold = { on: false };
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: instantBridge(hold) as never } }), { input: { services: s } }).start();
  const changed = db.subscribe(() => setImmediate(() => vs.send({ type: 'CONFIG_CHANGED' })));
  try {
    await addBridge(db, 'br1');
    await until('cur_cfg 1', () => cfg(db).cur_cfg === 1, 2000, 10);
    hold.on = true; // br1 now does not confirm
    await addBridge(db, 'br2');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(cfg(db).cur_cfg, 1, 'not before br1 applied');
    hold.on = false;
    vs.send({ type: 'CONFIG_CHANGED' });
    await until('cur_cfg 2', () => cfg(db).cur_cfg === 2, 2000, 10);
    vs.send({ type: 'STOP' });
    await waitFor(vs, (x) => x.status === 'done', { timeout: 1000 });
  } finally {
    changed();
    vs.stop();
  }
});

t('a failing bridge is restarted with backoff and counted; STOP completes while a restart is pending', async () => {
  const { s, db } = await services();
  let starts = 0;
  const failing = fromPromise(async () => { starts++; throw new Error('injected'); });
  const vs = createActor(vswitchMachine.provide({ actors: { bridge: failing as never } }), { input: { services: s } }).start();
  try {
    await addBridge(db, 'brx');
    vs.send({ type: 'CONFIG_CHANGED' });
    await until('two restarts', () => (s.health.get('bridge:brx')?.restarts ?? 0) >= 2, 2000, 10);
    assert.ok(starts >= 2, `spawned again (${starts})`);
    assert.is(s.health.get('bridge:brx')?.status, 'degraded');
    vs.send({ type: 'STOP' });
    await waitFor(vs, (x) => x.status === 'done', { timeout: 1000 });
  } finally {
    vs.stop();
  }
});

t.run();
