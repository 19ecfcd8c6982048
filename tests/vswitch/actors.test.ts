/**
 * The fast-path actors on a BridgeRuntime over the fake datapath: the upcall actor owns the
 * ring; the revalidator runs a pass at start, at once on a request (coalescing a burst), and
 * every interval on the actor system's clock (a SimulatedClock here, so no real time counts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import { revalidatorMachine, SETTLE_MS } from '../../src/actors/revalidator.machine.ts';
import { upcallMachine } from '../../src/actors/upcall.machine.ts';
import { revalidateSliced, BridgeRuntime, type PassResult } from '../../src/vswitch/index.ts';
import { FakeDatapath, missUpcall, udpKey } from './fake-datapath.ts';

const t = suite('vswitch-actors');
/** xstate's waitFor: event-driven, the deadline only guards against a hang. */
const WAIT = { timeout: 20_000 };

function runtime() {
  const dp = new FakeDatapath();
  const rt = new BridgeRuntime({ datapath: dp, clock: { monotonicNs: () => dp.nowNs } });
  for (const i of [1, 2]) { dp.addPort(i, `p${i}`); rt.addPort({ name: `p${i}`, ofport: i }); }
  rt.flowMod({ op: 'add', flows: ['priority=0,actions=NORMAL'] });
  return { dp, rt };
}

/** Errors an actor reports to its subscribers. */
function errorsOf(a: { subscribe(o: { error: (e: unknown) => void }): unknown }): Error[] {
  const got: Error[] = [];
  a.subscribe({ error: (e) => { got.push(e instanceof Error ? e : new Error(String(e))); } });
  return got;
}

t('upcall actor: opens the ring on start, handles batches, closes it on stop', () => {
  const { dp, rt } = runtime();
  const a = createActor(upcallMachine, { input: { runtime: rt } }).start();
  assert.ok(dp.onBatch, 'ring open');
  assert.is(dp.maxBatch, 64);
  dp.onBatch!([missUpcall(udpKey(1, '02:00:00:00:00:01', '02:00:00:00:00:02'))]);
  assert.is(dp.flows.size, 1);
  assert.is(rt.udpif.handler.batches, 1);
  a.stop();
  assert.ok(dp.ringClosed);
});

t('upcall actor: a ring failure closes the ring and fails the actor (seen by its parent)', async () => {
  const { dp, rt } = runtime();
  const a = createActor(upcallMachine, { input: { runtime: rt } });
  const errors = errorsOf(a);
  a.start();
  dp.onError!(Object.assign(new Error('poll failed'), { code: 'EBADF' }));
  await waitFor(a, (s) => s.status === 'error', WAIT).catch(() => {});
  assert.ok(dp.ringClosed);
  assert.is(a.getSnapshot().status, 'error');
  assert.is(errors[0]?.name, 'UpcallRingError');
  assert.match(errors[0]!.message, /poll failed/);
});

t('revalidator actor: a pass at start, SETTLE_MS after REVALIDATE (a burst coalesced), and every interval; hook removed on stop', async () => {
  const { rt } = runtime();
  const clock = new SimulatedClock();
  const a = createActor(revalidatorMachine, { input: { udpif: rt.udpif, intervalMs: 200 }, clock }).start();
  const st = rt.udpif.revalidator;
  try {
    await waitFor(a, (s) => s.matches('waiting'), WAIT);
    assert.is(st.dumps, 1, 'a pass at start');
    // A megaflow for the flow-mods to make stale (with none, there is nothing to revalidate).
    rt.udpif.handleBatch([missUpcall(udpKey(1, '02:00:00:00:00:01', '02:00:00:00:00:02'))]);
    // Two flow-mods in one tick: the first starts the settling wait, the second is folded in;
    // one pass after SETTLE_MS serves both.
    const first = rt.flowMod({ op: 'add', flows: ['priority=5,actions=drop'] });
    const second = rt.flowMod({ op: 'add', flows: ['priority=6,actions=drop'] });
    assert.ok(a.getSnapshot().matches('settling'));
    clock.increment(SETTLE_MS - 1);
    assert.ok(a.getSnapshot().matches('settling'), 'no pass before the settling time');
    clock.increment(1);
    await Promise.all([first.revalidated, second.revalidated]);
    await waitFor(a, (s) => s.matches('waiting'), WAIT);
    assert.is(st.dumps, 2, 'one pass for both');
    // At rest in `waiting` on simulated time: only the interval timer starts a pass.
    const before = st.dumps;
    for (let n = before + 1; n <= before + 3; n++) {
      clock.increment(199);
      assert.ok(a.getSnapshot().matches('waiting'), 'no pass before 200 ms');
      clock.increment(1);
      assert.ok(a.getSnapshot().matches('dumping'), 'a pass after 200 ms');
      await waitFor(a, (s) => s.matches('waiting'), WAIT);
      assert.is(st.dumps, n);
    }
  } finally {
    a.stop();
  }
  assert.not.ok(rt.udpif.revalidatorAttached, 'detached on stop');
});

t('revalidator actor: the interval is twice the last pass when that is longer', async () => {
  const { rt } = runtime();
  const clock = new SimulatedClock();
  let passes = 0;
  // The pass is swapped: it runs the real one, then reports it took 300 ms.
  const slow = fromPromise(async ({ input }: { input: { udpif: typeof rt.udpif } }): Promise<PassResult> => {
    passes++;
    const r = await revalidateSliced(input.udpif);
    input.udpif.revalidator.lastDumpMs = 300;
    return r;
  });
  const a = createActor(revalidatorMachine.provide({ actors: { pass: slow } }), { input: { udpif: rt.udpif, intervalMs: 200 }, clock }).start();
  try {
    await waitFor(a, (s) => s.matches('waiting'), WAIT);
    clock.increment(599);
    assert.is(passes, 1, 'no pass before 600 ms');
    clock.increment(1);
    assert.is(passes, 2, 'a pass after 2 x 300 ms');
  } finally {
    a.stop();
  }
});

t('revalidator actor: a failing dump fails the actor', async () => {
  const { dp, rt } = runtime();
  dp.dumpFlowEntries = () => { throw new Error('map gone'); };
  const a = createActor(revalidatorMachine, { input: { udpif: rt.udpif }, clock: new SimulatedClock() });
  const errors = errorsOf(a);
  a.start();
  await waitFor(a, (s) => s.status === 'error', WAIT).catch(() => {});
  if (a.getSnapshot().status !== 'error') a.stop();
  assert.is(errors[0]?.name, 'RevalidatorError');
  assert.not.ok(rt.udpif.revalidatorAttached, 'detached on failure');
});

t.run();
