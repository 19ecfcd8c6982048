import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import { revalidatorMachine } from '../../src/actors/revalidator.machine.ts';
import { upcallMachine } from '../../src/actors/upcall.machine.ts';
import { BridgeRuntime } from '../../src/vswitch/index.ts';
import { FakeDatapath, missUpcall, udpKey } from './fake-datapath.ts';

const t = suite('vswitch-actors');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wait until cond() holds, at most `ms` (a loaded CI machine may take a while to run a pass). */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(2);
}

function runtime() {
  const dp = new FakeDatapath();
  const rt = new BridgeRuntime({ datapath: dp, clock: { monotonicNs: () => dp.nowNs } });
  for (const i of [1, 2]) { dp.addPort(i, `p${i}`); rt.addPort({ name: `p${i}`, ofport: i }); }
  rt.flowMod({ op: 'add', flows: ['priority=0,actions=NORMAL'] });
  return { dp, rt };
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
  let err: Error | undefined;
  a.subscribe({ error: (e) => { err = e as Error; } });
  a.start();
  dp.onError!(Object.assign(new Error('poll failed'), { code: 'EBADF' }));
  await until(() => err !== undefined);
  assert.ok(dp.ringClosed);
  assert.is(a.getSnapshot().status, 'error');
  assert.is(err?.name, 'UpcallRingError');
  assert.match(err!.message, /poll failed/);
});

t('revalidator actor: a pass at start, at once on REVALIDATE, and every interval; hook removed on stop', async () => {
  const { dp, rt } = runtime();
  const a = createActor(revalidatorMachine, { input: { udpif: rt.udpif, intervalMs: 200 } }).start();
  try {
    await until(() => rt.udpif.revalidator.dumps >= 1);
    assert.is(rt.udpif.revalidator.dumps, 1);
    rt.flowMod({ op: 'add', flows: ['priority=5,actions=drop'] });
    rt.flowMod({ op: 'add', flows: ['priority=6,actions=drop'] });
    await until(() => rt.udpif.revalidator.dumps >= 2);
    assert.ok(rt.udpif.revalidator.dumps >= 2 && rt.udpif.revalidator.dumps <= 3, `coalesced: ${rt.udpif.revalidator.dumps}`);
    const n = rt.udpif.revalidator.dumps;
    await until(() => rt.udpif.revalidator.dumps > n, 2000);
    assert.ok(rt.udpif.revalidator.dumps > n, 'interval pass');
  } finally {
    a.stop();
  }
  assert.not.ok(rt.udpif.revalidatorAttached, 'detached on stop');
  void dp;
});

t('revalidator actor: a failing dump fails the actor', async () => {
  const { dp, rt } = runtime();
  dp.dumpFlowEntries = () => { throw new Error('map gone'); };
  const a = createActor(revalidatorMachine, { input: { udpif: rt.udpif } });
  let err: Error | undefined;
  a.subscribe({ error: (e) => { err = e as Error; } });
  a.start();
  await until(() => err !== undefined);
  if (!err) a.stop();
  assert.is(err?.name, 'RevalidatorError');
  assert.not.ok(rt.udpif.revalidatorAttached, 'detached on failure');
});

t.run();
