import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Classifier, Match, N_WORDS, W, type ClsRule } from '../../src/ofproto/index.ts';
import { prng, randomFlow, randomMatch } from './gen.ts';

const t = suite('ofproto-classifier');

interface R extends ClsRule { id: number }

function brute(rules: R[], flow: Uint32Array): number {
  let best = -1;
  for (const r of rules) if (r.match.matches(flow) && r.priority > best) best = r.priority;
  return best;
}

t('agrees with a brute-force scan on random rule sets, with removals', () => {
  fc.assert(fc.property(fc.integer(), (seed) => {
    const r = prng(seed);
    const cls = new Classifier<R>();
    let rules: R[] = [];
    const n = 1 + Math.floor(r() * 60);
    for (let i = 0; i < n; i++) {
      const rule = { id: i, match: randomMatch(r), priority: Math.floor(r() * 20) };
      rules.push(rule);
      cls.insert(rule);
    }
    const check = (): void => {
      for (let k = 0; k < 40; k++) {
        const flow = randomFlow(r);
        const got = cls.lookup(flow);
        const want = brute(rules, flow);
        assert.is(got ? got.priority : -1, want);
        if (got) assert.ok(got.match.matches(flow));
      }
    };
    check();
    const keep = rules.filter(() => r() < 0.6);
    for (const x of rules) if (!keep.includes(x)) assert.ok(cls.remove(x));
    rules = keep;
    assert.is(cls.size, rules.length);
    check();
  }), { numRuns: 300 });
});

t('the bits it reports decide the result: packets agreeing on them get the same rule', () => {
  fc.assert(fc.property(fc.integer(), (seed) => {
    const r = prng(seed);
    const cls = new Classifier<R>();
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) cls.insert({ id: i, match: randomMatch(r), priority: Math.floor(r() * 10) });
    for (let k = 0; k < 20; k++) {
      const p = randomFlow(r);
      const wc = new Uint32Array(N_WORDS);
      const got = cls.lookup(p, wc);
      for (let j = 0; j < 10; j++) {
        const q = randomFlow(r);
        for (let i = 0; i < N_WORDS; i++) q[i] = ((p[i]! & wc[i]!) | (q[i]! & ~wc[i]!)) >>> 0;
        assert.is(cls.lookup(q), got);
      }
    }
  }), { numRuns: 300 });
});

function ipMatch(dst: number, plen: number): Match {
  const m = new Match();
  m.mask[W.DL_TYPE] = 0xffff; m.value[W.DL_TYPE] = 0x0800;
  m.mask[W.NW_DST] = plen ? (0xffffffff << (32 - plen)) >>> 0 : 0;
  m.value[W.NW_DST] = (dst & m.mask[W.NW_DST]!) >>> 0;
  return m;
}

t('prefix tracking: a miss un-wildcards only the prefix bits needed', () => {
  const cls = new Classifier<R>();
  cls.insert({ id: 1, match: ipMatch(0x0a000000, 24), priority: 10 }); // 10.0.0.0/24
  cls.insert({ id: 2, match: ipMatch(0, 0), priority: 0 });
  const flow = new Uint32Array(N_WORDS);
  flow[W.DL_TYPE] = 0x0800;
  flow[W.NW_DST] = 0xc0a80101; // 192.168.1.1: first bit differs from 10.x
  const wc = new Uint32Array(N_WORDS);
  assert.is(cls.lookup(flow, wc)!.id, 2);
  assert.is(wc[W.NW_DST], 0x80000000);
  // 10.0.1.1 shares 23 bits with 10.0.0.0/24: the 24th bit decides.
  flow[W.NW_DST] = 0x0a000101;
  wc.fill(0);
  assert.is(cls.lookup(flow, wc)!.id, 2);
  assert.is(wc[W.NW_DST], 0xffffff00);
});

t('staged lookup: a miss in L2 leaves L3/L4 wildcarded; priority cut-off skips lower subtables', () => {
  const cls = new Classifier<R>();
  const m = ipMatch(0x0a000000, 24);
  m.mask[W.IN_PORT] = 0xffffffff; m.value[W.IN_PORT] = 1;
  m.mask[W.NW_PROTO] = 0xff; m.value[W.NW_PROTO] = 6; m.mask[W.TP_DST] = 0xffff; m.value[W.TP_DST] = 80;
  cls.insert({ id: 1, match: m, priority: 100 });
  const flow = new Uint32Array(N_WORDS);
  flow[W.IN_PORT] = 2; flow[W.DL_TYPE] = 0x0800; flow[W.NW_DST] = 0x0a000001;
  const wc = new Uint32Array(N_WORDS);
  assert.is(cls.lookup(flow, wc), undefined);
  assert.is(wc[W.IN_PORT], 0xffffffff);
  assert.is(wc[W.NW_DST], 0);
  assert.is(wc[W.TP_DST], 0);
  const low = new Match(); low.mask[W.DL_SRC + 1] = 0xffffffff;
  cls.insert({ id: 2, match: low, priority: 1 });
  cls.insert({ id: 3, match: new Match(), priority: 50 });
  wc.fill(0);
  assert.is(cls.lookup(flow, wc)!.id, 3);
  assert.is(wc[W.DL_SRC + 1], 0, 'the priority-1 subtable was not consulted');
  assert.is(cls.lastVisited, 2);
});

t('findExact and replace semantics', () => {
  const cls = new Classifier<R>();
  const a = { id: 1, match: ipMatch(0x0a000000, 8), priority: 5 };
  cls.insert(a);
  assert.is(cls.findExact(ipMatch(0x0a000000, 8), 5), a);
  assert.is(cls.findExact(ipMatch(0x0a000000, 8), 6), undefined);
  assert.ok(cls.remove(a));
  assert.not.ok(cls.remove(a));
  assert.is(cls.subtableCount, 0);
});

t.run();
