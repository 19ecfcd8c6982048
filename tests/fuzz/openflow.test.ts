// Fuzzes the OpenFlow message decoder (targets/openflow.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-openflow');

t(`openflow-msg: corpus and ${RUNS} generated messages give a message or an OfpError, and re-encode to the same`, async () => {
  expectClean(await fuzz('openflow-msg'));
});

t.run();
