/**
 * addon object lifecycle: load with pin-by-name, reuse of pins, max_entries overrides,
 * incompatible pins, verifier logs, objGet/objPin/mapInfo/close.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir, throws } from './env.ts';
import type { LoadResult } from '../../src/datapath/addon.ts';

const t = suite('addon-object');
let pins: string;
let pins2: string;
const loaded: LoadResult[] = [];
const fds: number[] = [];

function load(pinRoot: string, maxEntries?: Record<string, number>): LoadResult {
  const r = A.load(fixtureObject('fixture'), { pinRoot, maxEntries });
  loaded.push(r);
  return r;
}

t.before(() => {
  pins = makePinDir('obj');
  pins2 = makePinDir('obj2');
});

t.after(() => {
  for (const r of loaded) closeLoad(r);
  for (const fd of fds) { try { A.close(fd); } catch { /* closed */ } }
  removePinDir(pins);
  removePinDir(pins2);
});

t('load creates and pins every map, returns prog and map fds', () => {
  const r = load(pins, { fx_big: 64 });
  assert.type(r.progFd, 'number');
  assert.equal(Object.keys(r.maps).sort(), ['fx_big', 'fx_hash', 'fx_pcpu', 'fx_ring']);
  for (const name of Object.keys(r.maps)) assert.ok(existsSync(`${pins}/${name}`), `pin ${name}`);
  const hash = A.mapInfo(r.maps.fx_hash);
  assert.equal({ name: hash.name, type: hash.type, keySize: hash.keySize, valueSize: hash.valueSize, maxEntries: hash.maxEntries },
    { name: 'fx_hash', type: 1, keySize: 4, valueSize: 16, maxEntries: 1024 });
  assert.is(A.mapInfo(r.maps.fx_big).maxEntries, 64, 'override applied to a created map');
  assert.is(A.mapInfo(r.maps.fx_ring).type, 27, 'ringbuf');
});

t('a second load reuses the pinned maps (same ids) and keeps their capacity', () => {
  const first = loaded[0];
  const r = load(pins);  // no override now: the pin's 64 must win over the object's 16
  for (const name of Object.keys(r.maps)) {
    assert.is(A.mapInfo(r.maps[name]).id, A.mapInfo(first.maps[name]).id, `map ${name} reused`);
  }
  assert.is(A.mapInfo(r.maps.fx_big).maxEntries, 64);
  // Same map: a write through one fd is visible through the other.
  const key = Buffer.from([1, 0, 0, 0]);
  A.mapUpdate(first.maps.fx_hash, key, Buffer.alloc(16, 0xab), 0);
  const v = Buffer.alloc(16);
  assert.ok(A.mapLookup(r.maps.fx_hash, key, v));
  assert.is(v[15], 0xab);
  const r3 = load(pins, { fx_big: 4096 });  // an override is ignored for a reused pin
  assert.is(A.mapInfo(r3.maps.fx_big).id, A.mapInfo(first.maps.fx_big).id);
  assert.is(A.mapInfo(r3.maps.fx_big).maxEntries, 64);
});

t('an incompatible pin fails the load with op bpf_object__load and the libbpf reason', () => {
  // Pin a per-CPU array where the object expects the hash map fx_hash.
  const r = loaded[0];
  A.objPin(r.maps.fx_pcpu, `${pins2}/fx_hash`);
  const err = throws(() => load(pins2));
  assert.is(err.op, 'bpf_object__load');
  assert.is(err.code, 'EINVAL');
  assert.is(err.errno, 22);
  assert.match(err.message, /^bpf_object__load: Invalid argument/);
  assert.match(err.message, /fx_hash/);
  assert.match(String(err.log), /couldn't reuse pinned map .*parameter mismatch/);
});

t('a verifier rejection carries the verifier log', () => {
  const err = throws(() => A.load(fixtureObject('bad'), { pinRoot: pins }));
  assert.is(err.op, 'bpf_object__load');
  assert.is(err.code, 'EACCES');
  assert.match(err.message, /invalid access to packet/);
  assert.match(String(err.log), /BEGIN PROG LOAD LOG/);
});

t('load: bad arguments and missing files', () => {
  let err = throws(() => A.load('/nonexistent/x.bpf.o', { pinRoot: pins }));
  assert.is(err.op, 'bpf_object__open_file');
  assert.is(err.code, 'ENOENT');
  err = throws(() => A.load(fixtureObject('fixture'), { pinRoot: pins, maxEntries: { nope: 1 } }));
  assert.instance(err, RangeError);
  assert.match(err.message, /no map named 'nope'/);
  err = throws(() => A.load(fixtureObject('fixture'), { pinRoot: pins, maxEntries: { fx_big: 0 } }));
  assert.instance(err, RangeError);
  err = throws(() => A.load(fixtureObject('fixture'), {} as never));
  assert.instance(err, TypeError);
  assert.match(err.message, /opts\.pinRoot/);
  err = throws(() => A.load(fixtureObject('fixture'), { pinRoot: '/nonexistent-bvs/a/b' }));
  assert.is(err.op, 'bpf_object__load');
  assert.is(err.code, 'ENOENT');
});

t('objGet opens a pin, objPin pins, close closes', () => {
  const fd = A.objGet(`${pins}/fx_hash`);
  fds.push(fd);
  assert.is(A.mapInfo(fd).id, A.mapInfo(loaded[0].maps.fx_hash).id);
  A.objPin(fd, `${pins}/extra_pin`);
  assert.ok(existsSync(`${pins}/extra_pin`));
  let err = throws(() => A.objPin(fd, `${pins}/extra_pin`));
  assert.is(err.code, 'EEXIST');
  assert.is(err.op, 'bpf_obj_pin');
  A.close(fd);
  err = throws(() => A.mapInfo(fd));
  assert.is(err.code, 'EBADF');
  err = throws(() => A.close(fd));
  assert.is(err.code, 'EBADF');
  assert.is(err.op, 'close');
  err = throws(() => A.objGet(`${pins}/nope`));
  assert.is(err.code, 'ENOENT');
  assert.is(err.op, 'bpf_obj_get');
  assert.match(err.message, /^bpf_obj_get: No such file or directory/);
});

t('mapInfo on a program fd is an error, not garbage sizes', () => {
  const err = throws(() => A.mapInfo(loaded[0].progFd));
  assert.is(err.code, 'EINVAL');
});

t.run();
