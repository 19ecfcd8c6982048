// Fuzzes the NATS payloads against every contract (targets/bus.ts); see harness.ts.
import { suite } from 'uvu';
import { expectClean, fuzz, RUNS } from './harness.ts';

const t = suite('fuzz-bus');

t(`bus-request: corpus and ${RUNS} generated payloads give a request or a named bus error`, async () => {
  expectClean(await fuzz('bus-request'));
});

t(`bus-reply-event: corpus and ${RUNS} generated replies and events give a value or a named bus error`, async () => {
  expectClean(await fuzz('bus-reply-event'));
});

t.run();
