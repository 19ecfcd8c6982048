// Fuzzes the ovs-ofctl flow, action and group syntax (targets/ofctl.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-ofctl');

for (const name of ['ofctl-flow', 'ofctl-actions', 'ofctl-group']) {
  t(`${name}: corpus and ${RUNS} generated inputs give a result or a FlowSyntaxError`, async () => {
    expectClean(await fuzz(name));
  });
}

t.run();
