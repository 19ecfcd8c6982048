// Fuzzes the bundle messages and their inner messages (targets/bundle.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-bundle');

t(`of-bundle: ${RUNS} generated inputs give a message or an OfpError, and what decodes round-trips`, async () => {
  expectClean(await fuzz('of-bundle'));
});

t.run();
