// Fuzzes the userspace frame parser, keyFromFrame (targets/frame.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-frame');

t(`frame: corpus and ${RUNS} generated frames give a key in range that prints and parses back`, async () => {
  expectClean(await fuzz('frame'));
});

t.run();
