// Fuzzes the ODP flow and action syntax and their printers (targets/odp.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-odp');

for (const name of ['odp-flow', 'odp-actions']) {
  t(`${name}: corpus and ${RUNS} generated inputs give a result or an OdpSyntaxError, and print back`, async () => {
    expectClean(await fuzz(name));
  });
}

t.run();
