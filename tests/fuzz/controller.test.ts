// Fuzzes Controller.target (targets/controller.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-controller');

t(`controller-target: corpus and ${RUNS} generated inputs give a Target or a TargetError`, async () => {
  expectClean(await fuzz('controller-target'));
});

t.run();
