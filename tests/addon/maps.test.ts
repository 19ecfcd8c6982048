/**
 * addon map operations on the fixture's maps: element ops, per-CPU values, iteration, batch
 * ops, and the errors (code/errno/op) for absent keys, bad fds and wrong buffer sizes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir, throws } from './env.ts';
import type { LoadResult } from '../../src/datapath/addon.ts';

const t = suite('addon-maps');
let pins: string;
let r: LoadResult | undefined;
let hash = -1, big = -1, pcpu = -1;

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const val = (a: bigint, b: bigint) => { const v = Buffer.alloc(16); v.writeBigUInt64LE(a, 0); v.writeBigUInt64LE(b, 8); return v; };

t.before(() => {
  pins = makePinDir('maps');
  r = A.load(fixtureObject('fixture'), { pinRoot: pins });
  ({ fx_hash: hash, fx_big: big, fx_pcpu: pcpu } = r.maps);
});

t.after(() => {
  closeLoad(r);
  removePinDir(pins);
});

t('update, lookup, delete; absent keys are false, not errors', () => {
  const out = Buffer.alloc(16);
  assert.is(A.mapLookup(hash, u32(7), out), false);
  A.mapUpdate(hash, u32(7), val(1n, 2n), 0);
  assert.is(A.mapLookup(hash, u32(7), out), true);
  assert.equal(out, val(1n, 2n));
  // BPF_NOEXIST on an existing key, BPF_EXIST on an absent one.
  let err = throws(() => A.mapUpdate(hash, u32(7), val(3n, 4n), 1));
  assert.equal([err.code, err.errno, err.op], ['EEXIST', 17, 'bpf_map_update_elem']);
  assert.is(err.message, 'bpf_map_update_elem: File exists');
  err = throws(() => A.mapUpdate(hash, u32(8), val(3n, 4n), 2));
  assert.equal([err.code, err.op], ['ENOENT', 'bpf_map_update_elem']);
  A.mapUpdate(hash, u32(7), val(3n, 4n), 2);
  assert.ok(A.mapLookup(hash, u32(7), out));
  assert.equal(out, val(3n, 4n));
  assert.is(A.mapDelete(hash, u32(7)), true);
  assert.is(A.mapDelete(hash, u32(7)), false);
  // A larger output buffer is fine; subarrays with an offset are honoured.
  const big32 = Buffer.alloc(40);
  A.mapUpdate(hash, u32(9), val(5n, 6n), 0);
  assert.ok(A.mapLookup(hash, u32(9), big32.subarray(8)));
  assert.equal(big32.subarray(8, 24), val(5n, 6n));
  A.mapDelete(hash, u32(9));
});

t('per-CPU values hold one 8-byte slot per possible CPU', () => {
  const n = A.numPossibleCpus();
  assert.ok(n >= 1);
  const v = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i++) v.writeBigUInt64LE(BigInt(100 + i), 8 * i);
  A.mapUpdate(pcpu, u32(1), v, 0);
  const out = Buffer.alloc(8 * n);
  assert.ok(A.mapLookup(pcpu, u32(1), out));
  assert.equal(out, v);
  const err = throws(() => A.mapLookup(pcpu, u32(1), Buffer.alloc(8 * n - 1)));
  assert.instance(err, RangeError);
  assert.is(err.code, 'EINVAL');
  // Array index past max_entries.
  const e2 = throws(() => A.mapUpdate(pcpu, u32(4), v, 0));
  assert.equal([e2.code, e2.op], ['E2BIG', 'bpf_map_update_elem']);
});

t('getNextKey walks every key once', () => {
  const want = [11, 12, 13, 14, 15];
  for (const k of want) A.mapUpdate(big, u32(k), u32(k * 10), 0);
  const seen: number[] = [];
  let cur: Buffer | null = null;
  const next = Buffer.alloc(4);
  while (A.mapGetNextKey(big, cur, next)) {
    seen.push(next.readUInt32LE());
    cur = Buffer.from(next);
  }
  assert.equal(seen.sort((a, b) => a - b), want);
  for (const k of want) A.mapDelete(big, u32(k));
  assert.is(A.mapGetNextKey(big, null, next), false);
});

t('batch update, lookup (paged to the end), delete', () => {
  const N = 300;
  const keys = Buffer.alloc(4 * N);
  const vals = Buffer.alloc(16 * N);
  for (let i = 0; i < N; i++) {
    keys.writeUInt32LE(1000 + i, 4 * i);
    val(BigInt(i), BigInt(i * 2)).copy(vals, 16 * i);
  }
  assert.is(A.mapUpdateBatch(hash, keys, vals, N, 0), N);

  const got = new Map<number, bigint>();
  const page = 64;
  const pk = Buffer.alloc(4 * page), pv = Buffer.alloc(16 * page);
  const inB = Buffer.alloc(4), outB = Buffer.alloc(4);
  let first = true, pages = 0;
  for (;;) {
    const res = A.mapLookupBatch(hash, first ? null : inB, outB, pk, pv, page);
    for (let i = 0; i < res.count; i++) got.set(pk.readUInt32LE(4 * i), pv.readBigUInt64LE(16 * i + 8));
    pages++;
    if (res.done) break;
    outB.copy(inB);
    first = false;
    assert.ok(pages < 100, 'lookup batch terminates');
  }
  assert.is(got.size, N);
  for (let i = 0; i < N; i++) assert.is(got.get(1000 + i), BigInt(i * 2));
  assert.ok(pages >= Math.ceil(N / page), `paged (${pages} pages)`);

  // A batch that overflows fx_big (16 entries) fails at the 17th: the error says how many went in.
  const bk = Buffer.alloc(4 * 20), bv = Buffer.alloc(4 * 20);
  for (let i = 0; i < 20; i++) bk.writeUInt32LE(5000 + i, 4 * i);
  const err = throws(() => A.mapUpdateBatch(big, bk, bv, 20, 0));
  assert.equal([err.code, err.op, err.count], ['E2BIG', 'bpf_map_update_batch', 16]);
  assert.is(A.mapDeleteBatch(big, bk, 16), 16);
  // Flags the kernel refuses fail before any element: count 0.
  const e2 = throws(() => A.mapUpdateBatch(hash, keys, vals, 2, 0xff));
  assert.equal([e2.code, e2.count], ['EINVAL', 0]);

  assert.is(A.mapDeleteBatch(hash, keys, N), N);
  const empty = A.mapLookupBatch(hash, null, outB, pk, pv, page);
  assert.equal(empty, { count: 0, done: true });
  assert.is(A.mapUpdateBatch(hash, keys, vals, 0, 0), 0);
});

t('batch lookup on a per-CPU array: one slot per possible CPU per entry', () => {
  const n = A.numPossibleCpus();
  const v = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i++) v.writeBigUInt64LE(BigInt(7000 + i), 8 * i);
  A.mapUpdate(pcpu, u32(2), v, 0);
  const keys = Buffer.alloc(4 * 4), vals = Buffer.alloc(4 * 8 * n), outB = Buffer.alloc(4);
  const res = A.mapLookupBatch(pcpu, null, outB, keys, vals, 4);
  assert.is(res.count, 4);
  const at = [0, 1, 2, 3].findIndex((i) => keys.readUInt32LE(4 * i) === 2);
  assert.ok(at >= 0);
  assert.equal(vals.subarray(at * 8 * n, (at + 1) * 8 * n), v);
  const err = throws(() => A.mapLookupBatch(pcpu, null, outB, keys, Buffer.alloc(4 * 8 * n - 1), 4));
  assert.instance(err, RangeError);
});

t('batch buffers are checked against count and the map sizes', () => {
  let err = throws(() => A.mapUpdateBatch(hash, Buffer.alloc(4 * 9), Buffer.alloc(16 * 10), 10, 0));
  assert.instance(err, RangeError);
  assert.match(err.message, /keys must be at least 40 bytes, got 36/);
  err = throws(() => A.mapLookupBatch(hash, null, Buffer.alloc(4), Buffer.alloc(40), Buffer.alloc(159), 10));
  assert.instance(err, RangeError);
  err = throws(() => A.mapLookupBatch(hash, null, Buffer.alloc(3), Buffer.alloc(40), Buffer.alloc(160), 10));
  assert.instance(err, RangeError);
  err = throws(() => A.mapDeleteBatch(hash, Buffer.alloc(8), 3));
  assert.instance(err, RangeError);
  err = throws(() => A.mapLookupBatch(hash, null, Buffer.alloc(4), Buffer.alloc(40), Buffer.alloc(160), -1));
  assert.instance(err, RangeError);
});

t('wrong sizes, bad fds and non-map fds throw; the process survives', () => {
  let err = throws(() => A.mapLookup(hash, Buffer.alloc(3), Buffer.alloc(16)));
  assert.instance(err, RangeError);
  assert.equal([err.code, err.errno, err.op], ['EINVAL', 22, 'mapLookup']);
  assert.match(err.message, /key must be 4 bytes, got 3/);
  err = throws(() => A.mapLookup(hash, Buffer.alloc(4), Buffer.alloc(15)));
  assert.instance(err, RangeError);
  err = throws(() => A.mapUpdate(hash, Buffer.alloc(4), Buffer.alloc(17), 0));
  assert.instance(err, RangeError);
  err = throws(() => A.mapGetNextKey(hash, null, Buffer.alloc(2)));
  assert.instance(err, RangeError);
  err = throws(() => A.mapUpdate(hash, Buffer.alloc(4), Buffer.alloc(16), 0x1_0000_0000));
  assert.instance(err, RangeError);
  err = throws(() => A.mapLookup(hash, new Uint16Array(2) as unknown as Uint8Array, Buffer.alloc(16)));
  assert.instance(err, TypeError);
  err = throws(() => A.mapLookup(987654, Buffer.alloc(4), Buffer.alloc(16)));
  assert.equal([err.code, err.errno, err.op], ['EBADF', 9, 'bpf_map_lookup_elem']);
  err = throws(() => A.mapDelete(r!.progFd, Buffer.alloc(4)));
  assert.equal([err.code, err.op], ['EINVAL', 'bpf_map_delete_elem']);
  // Unknown flags reach the kernel and come back as EINVAL.
  err = throws(() => A.mapUpdate(hash, Buffer.alloc(4), Buffer.alloc(16), 0xff));
  assert.equal([err.code, err.op], ['EINVAL', 'bpf_map_update_elem']);
  // Ring buffers have no keys: element ops are refused by the kernel, not by a crash.
  const ring = r!.maps.fx_ring;
  err = throws(() => A.mapLookup(ring, Buffer.alloc(0), Buffer.alloc(0)));
  assert.is(err.op, 'bpf_map_lookup_elem');
});

t.run();
