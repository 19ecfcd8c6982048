/**
 * addon argument checking: every function, called with random junk (wrong types, negative,
 * fractional, huge numbers, wrong typed arrays, short buffers, real fds of the wrong kind),
 * either returns or throws an Error carrying a string `code`, a positive `errno` and an `op`.
 * A crash (segfault, abort) would kill this process and fail the suite.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir } from './env.ts';
import type { LoadResult } from '../../src/datapath/addon.ts';

const t = suite('addon-args');
let pins: string;
let r: LoadResult | undefined;
const opened: { close(): void }[] = [];

t.before(() => {
  pins = makePinDir('args');
  r = A.load(fixtureObject('fixture'), { pinRoot: pins });
});

t.after(() => {
  for (const o of opened) o.close();
  A.packetCloseAll();
  closeLoad(r);
  removePinDir(pins);
});

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function rng(seed: number) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function junk(): unknown[] {
  const m = r!.maps;
  return [
    undefined, null, true, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 31, 2 ** 32, 987654,
    '3', '', 'lo', 'x'.repeat(300), 'a\u0000b', {}, [], 10n, () => {},
    Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(3), Buffer.alloc(4), Buffer.alloc(16), Buffer.alloc(4096),
    new Uint16Array(2), new Float64Array(2), new DataView(new ArrayBuffer(8)), new ArrayBuffer(8),
    Buffer.alloc(64).subarray(60),
    // Real fds of every kind, to be used where another kind is expected.
    r!.progFd, m.fx_hash, m.fx_pcpu, m.fx_ring, m.fx_big,
    { pinRoot: 5 }, { pinRoot: pins, maxEntries: 7 }, { pinRoot: pins, maxEntries: { fx_big: -3 } },
  ];
}

// close/linkDetach/objPin excluded: they would close or pin this suite's own fds at random.
const fns = ['load', 'objGet', 'progTestRun', 'mapInfo', 'mapLookup', 'mapUpdate', 'mapDelete', 'mapGetNextKey',
  'mapLookupBatch', 'mapUpdateBatch', 'mapDeleteBatch', 'tcxAttach', 'linkInfo', 'ringOpen',
  'packetSend', 'ifNameToIndex', 'ifIndexToName', 'numPossibleCpus', 'monotonicNs'] as const;

t('random junk never crashes and every error is well formed', () => {
  const rand = rng(0xb5);
  const values = junk();
  const pick = () => values[Math.floor(rand() * values.length)];
  let threw = 0, returned = 0;
  for (const name of fns) {
    const fn = (A as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    assert.type(fn, 'function', name);
    for (let i = 0; i < 400; i++) {
      const args = Array.from({ length: Math.floor(rand() * 7) }, pick);
      try {
        const ret = fn(...args);
        returned++;
        // A successful ringOpen/objGet/tcxAttach/load created something: release it.
        if (name === 'ringOpen') opened.push(ret as { close(): void });
        if (name === 'objGet' || name === 'tcxAttach') A.close(ret as number);
        if (name === 'load') closeLoad(ret as LoadResult);
      } catch (err) {
        threw++;
        const e = err as Error & { code?: unknown; errno?: unknown; op?: unknown };
        assert.instance(e, Error, `${name}: throws Errors`);
        assert.type(e.code, 'string', `${name}(${args.map(String).join(', ')}): code (${e.message})`);
        assert.ok(typeof e.errno === 'number' && e.errno > 0, `${name}: errno`);
        assert.type(e.op, 'string', `${name}: op`);
        assert.ok(e.message.startsWith(`${String(e.op)}: `), `${name}: message names op: ${e.message}`);
      }
    }
  }
  assert.ok(threw > 1000, `most junk calls throw (${threw} threw, ${returned} returned)`);
});

t('argument errors name the argument', () => {
  const cases: [() => unknown, RegExp, ErrorConstructor][] = [
    [() => A.mapLookup('1' as never, Buffer.alloc(4), Buffer.alloc(4)), /^mapLookup: argument 1 \(fd\) must be a number/, TypeError],
    [() => A.mapLookup(1.5, Buffer.alloc(4), Buffer.alloc(4)), /argument 1 \(fd\) must be an integer/, RangeError],
    [() => A.mapUpdate(r!.maps.fx_hash, [1, 2, 3, 4] as never, Buffer.alloc(16), 0), /argument 2 \(key\) must be a Uint8Array/, TypeError],
    [() => A.objGet('a\u0000b'), /must not contain NUL/, RangeError],
    [() => A.ifNameToIndex(5 as never), /argument 1 \(name\) must be a string/, TypeError],
    [() => A.load(fixtureObject('fixture'), { pinRoot: pins, maxEntries: { fx_big: 1.5 } }), /opts\.maxEntries\.fx_big must be an integer/, RangeError],
  ];
  for (const [fn, re, cls] of cases) {
    try {
      fn();
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, cls);
      assert.match((err as Error).message, re);
      assert.is((err as { code?: string }).code, 'EINVAL');
    }
  }
});

t.run();
