/**
 * The supervisor machine alone, its ovsdb and vswitch children swapped through provide() and
 * time driven by xstate's SimulatedClock: a failing child is restarted after its backoff and
 * counted in services.health; the vswitch is spawned once the database serves and gets the
 * changes; STOP stops the vswitch first, then the ovsdb. (tests/daemon/supervise.test.ts runs
 * the same tree for real, in a daemon.)
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise, sendParent, setup, SimulatedClock, waitFor } from 'xstate';
import type { OvsdbInput } from '../../src/actors/ovsdb.machine.ts';
import { supervisorMachine } from '../../src/actors/supervisor.machine.ts';
import type { VswitchInput } from '../../src/actors/vswitch.machine.ts';
import { Coverage } from '../../src/bridge/index.ts';
import type { Services } from '../../src/bridge/index.ts';
import { silentLogger } from '../../src/daemon/logging.ts';
import { OvsdbCore, VSWITCH_SCHEMA_PATH, type DbHandle } from '../../src/ovsdb/index.ts';

const t = suite('daemon-supervisor-machine');
/** xstate's waitFor: event-driven, the deadline only guards against a hang. */
const WAIT = { timeout: 20_000 };
const BACKOFF = { initialMs: 100, maxMs: 1000 };

function services(): Services {
  return {
    log: silentLogger(), publish: () => {}, runtimes: new Map(), db: { current: null },
    backoff: BACKOFF, linkPollMs: 60_000, health: new Map(), coverage: new Coverage(),
  };
}

/** What the stand-ins saw, in order. */
type Seen = string[];

/** An ovsdb actor whose first `failures` opens fail; then it serves `db` until STOP. */
function ovsdbStandIn(db: DbHandle, failures: number, seen: Seen) {
  let opens = 0;
  return setup({
    types: { input: {} as OvsdbInput, events: {} as { type: 'STOP' } },
    actors: {
      open: fromPromise(async () => {
        opens++;
        seen.push(`ovsdb open ${opens}`);
        if (opens <= failures) throw new Error(`injected: open ${opens} failed`);
        return db;
      }),
    },
  }).createMachine({
    initial: 'opening',
    states: {
      opening: { invoke: { src: 'open', onDone: { target: 'serving', actions: sendParent(({ event }) => ({ type: 'OVSDB_READY', db: event.output })) } } },
      serving: { on: { STOP: { target: 'stopped', actions: () => { seen.push('ovsdb STOP'); } } } },
      stopped: { type: 'final' },
    },
  });
}

/** A vswitch actor that records what it is sent, until STOP. */
function vswitchStandIn(seen: Seen) {
  return setup({ types: { input: {} as VswitchInput, events: {} as { type: 'CONFIG_CHANGED' } | { type: 'STOP' } } }).createMachine({
    entry: () => { seen.push('vswitch started'); },
    initial: 'running',
    states: {
      running: {
        on: {
          CONFIG_CHANGED: { actions: () => { seen.push('vswitch CONFIG_CHANGED'); } },
          STOP: { target: 'stopped', actions: () => { seen.push('vswitch STOP'); } },
        },
      },
      stopped: { type: 'final' },
    },
  });
}

t('a failing ovsdb is restarted after 100, 200 ms, then the vswitch starts; STOP stops vswitch, then ovsdb', async () => {
  const db = new OvsdbCore().addMemory(JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
  const s = services();
  const seen: Seen = [];
  const clock = new SimulatedClock();
  const machine = supervisorMachine.provide({ actors: { ovsdb: ovsdbStandIn(db, 2, seen), vswitch: vswitchStandIn(seen) } });
  const sup = createActor(machine, { input: { services: s, dbPath: '/nonexistent/conf.db', sockPath: '/nonexistent/db.sock' }, clock }).start();
  try {
    for (const [i, delay] of [100, 200].entries()) {
      await waitFor(sup, () => s.health.get('ovsdb')?.restarts === i + 1, WAIT);
      assert.equal(s.health.get('ovsdb'), { restarts: i + 1, status: 'failing', detail: `injected: open ${i + 1} failed` });
      // At rest on simulated time: only the backoff timer can respawn the ovsdb actor.
      clock.increment(delay - 1);
      assert.is(seen.filter((x) => x.startsWith('ovsdb open')).length, i + 1, `not respawned ${delay - 1} ms into a ${delay} ms backoff`);
      clock.increment(1);
      assert.is(seen.filter((x) => x.startsWith('ovsdb open')).length, i + 2, `respawned after ${delay} ms`);
    }
    await waitFor(sup, () => seen.includes('vswitch started'), WAIT);
    assert.is(s.db.current, db, 'services.db is the serving database');
    assert.equal(s.health.get('ovsdb'), { restarts: 2, status: 'ok' });
    assert.equal(s.health.get('vswitch'), { restarts: 0, status: 'ok' });
    sup.send({ type: 'CONFIG_CHANGED', nextCfg: 1 });
    assert.is(seen.at(-1), 'vswitch CONFIG_CHANGED');
    sup.send({ type: 'STOP' });
    await waitFor(sup, (x) => x.status === 'done', WAIT);
    assert.equal(seen.slice(-2), ['vswitch STOP', 'ovsdb STOP']);
  } finally {
    sup.stop();
  }
});

t.run();
