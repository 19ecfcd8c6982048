// Fuzzes the OpenFlow codec: matches, actions/instructions, flow message bodies (targets/openflow-body.ts), continuations (targets/resume.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-openflow-body');

for (const name of ['of-match', 'of-actions', 'of-flow-msgs', 'of-continuation']) {
  t(`${name}: corpus and ${RUNS} generated inputs give a result or an OfpError, and what decodes round-trips`, async () => {
    expectClean(await fuzz(name));
  });
}

t.run();
