// Fuzzes the bundle messages and their inner messages (targets/bundle.ts) and the flow monitor
// messages (targets/monitor.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-bundle');

t(`of-bundle: ${RUNS} generated inputs give a message or an OfpError, and what decodes round-trips`, async () => {
  expectClean(await fuzz('of-bundle'));
});

t(`of-monitor: ${RUNS} generated inputs give a message or an OfpError, and what decodes re-encodes stably`, async () => {
  expectClean(await fuzz('of-monitor'));
});

t.run();
