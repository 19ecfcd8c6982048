import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { IntMap } from '../../src/ofproto/intmap.ts';

const t = suite('ofproto-intmap');

t('behaves like Map under random set/delete/get (collisions forced by small key space)', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'del', 'get'), fc.integer({ min: -40, max: 40 }).map((k) => k * 64), fc.nat()), { maxLength: 400 }), (ops) => {
    const m = new IntMap<number>(), ref = new Map<number, number>();
    for (const [op, k, v] of ops) {
      if (op === 'set') { m.set(k, v); ref.set(k, v); }
      else if (op === 'del') assert.is(m.delete(k), ref.delete(k));
      else assert.is(m.get(k), ref.get(k));
      assert.is(m.size, ref.size);
    }
    for (const [k, v] of ref) { assert.ok(m.has(k)); assert.is(m.get(k), v); }
    assert.equal([...m.values()].sort(), [...ref.values()].sort());
  }), { numRuns: 300 });
});

t.run();
