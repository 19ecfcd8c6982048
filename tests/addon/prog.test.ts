/**
 * addon progTestRun: exact frames fed to a loaded program without a device; the program's
 * side effects (per-CPU counter, ring records) happen once per run.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir, throws } from './env.ts';
import type { LoadResult, UpcallRing } from '../../src/datapath/addon.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('addon-prog');
let pins: string;
let r: LoadResult | undefined;
let ring: UpcallRing | undefined;

t.before(() => {
  pins = makePinDir('prog');
  r = A.load(fixtureObject('fixture'), { pinRoot: pins, program: 'fx_tc' });
});

t.after(() => {
  ring?.close();
  closeLoad(r);
  removePinDir(pins);
});

const counter = (): bigint => {
  const n = A.numPossibleCpus();
  const v = Buffer.alloc(8 * n);
  A.mapLookup(r!.maps.fx_pcpu, Buffer.alloc(4), v);
  let s = 0n;
  for (let i = 0; i < n; i++) s += v.readBigUInt64LE(8 * i);
  return s;
};

t('runs the program on a frame, repeat times, with ring records on the loop', async () => {
  const frame = Buffer.alloc(64);
  frame.writeUInt16BE(0x88b5, 12);
  frame.write('test-run', 14);
  const lo = A.ifNameToIndex('lo');
  const c0 = counter();
  const recs: Buffer[] = [];
  ring = A.ringOpen(r!.maps.fx_ring, 64, (batch) => {
    for (const b of batch) if (b.readUInt16BE(16 + 12) === 0x88b5) recs.push(b);
  });
  const out = Buffer.alloc(128);
  const res = A.progTestRun(r!.progFd, frame, { repeat: 100, dataOut: out });
  assert.is(res.retval, 0, 'TC_ACT_OK');
  assert.is(res.dataOutLen, 64);
  assert.equal(out.subarray(0, 64), frame, 'frame unchanged');
  assert.type(res.durationNs, 'number');
  A.progTestRun(r!.progFd, frame, { ifindex: lo });
  await waitFor('101 ring records', () => recs.length >= 101);
  ring!.close();
  assert.is(counter() - c0, 101n);
  assert.is(recs.length, 101);
  assert.ok(recs.every((b) => b.readUInt32LE(4) === 64), 'skb->len');
  assert.is(recs[100].readUInt32LE(0), lo, 'ifindex option sets skb->dev');
});

t('ring callbacks run in a callback scope; a throw becomes an uncaughtException', async () => {
  const order: string[] = [];
  const caught: string[] = [];
  const onUncaught = (e: Error) => { caught.push(e.message); };
  process.on('uncaughtException', onUncaught);
  let ring2: UpcallRing | undefined;
  try {
    let calls = 0;
    ring2 = A.ringOpen(r!.maps.fx_ring, 1, () => {
      calls++;
      order.push('cb');
      queueMicrotask(() => order.push('micro'));
      if (calls === 1) throw new Error('boom from onRecords');
    });
    // Three records arrive in one wakeup: without a callback scope per batch, the three
    // microtasks would only run after the third callback.
    A.progTestRun(r!.progFd, Buffer.alloc(64), { repeat: 3 });
    await waitFor('three callbacks and their microtasks', () => order.length >= 6);
    assert.is(calls, 3);
  } finally {
    ring2?.close();
    process.off('uncaughtException', onUncaught);
  }
  assert.equal(order, ['cb', 'micro', 'cb', 'micro', 'cb', 'micro']);
  assert.equal(caught, ['boom from onRecords']);
});

t('progTestRun errors', () => {
  let err = throws(() => A.progTestRun(r!.progFd, Buffer.alloc(64), { dataOut: Buffer.alloc(10) }));
  assert.equal([err.code, err.op], ['ENOSPC', 'bpf_prog_test_run_opts']);
  err = throws(() => A.progTestRun(r!.progFd, Buffer.alloc(8)));
  assert.equal([err.code, err.op], ['EINVAL', 'bpf_prog_test_run_opts']);
  err = throws(() => A.progTestRun(r!.maps.fx_hash, Buffer.alloc(64)));
  assert.is(err.op, 'bpf_prog_test_run_opts');
  err = throws(() => A.progTestRun(r!.progFd, Buffer.alloc(0)));
  assert.instance(err, RangeError);
  err = throws(() => A.progTestRun(r!.progFd, Buffer.alloc(64), { repeat: 0 }));
  assert.instance(err, RangeError);
  err = throws(() => A.load(fixtureObject('fixture'), { pinRoot: pins, program: 'nope' }));
  assert.equal([err.code, err.op], ['ENOENT', 'bpf_object__find_program_by_name']);
});

t.run();
