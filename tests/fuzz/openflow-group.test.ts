// Fuzzes the group codecs: group-mod and group desc bodies (targets/openflow-group.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-openflow-group');

t(`of-group-msgs: corpus and ${RUNS} generated inputs give a result or an OfpError, and what decodes round-trips`, async () => {
  expectClean(await fuzz('of-group-msgs'));
});

t.run();
