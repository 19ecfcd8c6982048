// The harness catches each way an input can break the property (targets/selftest.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fuzz } from './harness.ts';

const t = suite('fuzz-harness');

async function failure(name: string, hangMs?: number): Promise<{ line: string; reason: string }> {
  const r = await fuzz(name, 200, hangMs);
  assert.is(r.failures.length, 1, JSON.stringify(r.failures));
  return r.failures[0]!;
}

t('an error that is not the parser\'s own is reported, with the input', async () => {
  const f = await failure('selftest-typeerror');
  assert.is(f.line, '7');
  assert.match(f.reason, /^TypeError: /);
});

t('a change to shared state is reported, with the input that made it', async () => {
  const f = await failure('selftest-state');
  assert.is(f.line, '7');
  assert.match(f.reason, 'shared state changed');
});

t('an input that takes more than 1 s, twice, is reported', async () => {
  const f = await failure('selftest-slow');
  assert.is(f.line, '7');
  assert.match(f.reason, /^took \d+ ms \(limit 1000 ms\)/);
});

t('an input that never returns is reported, and the worker replaced', async () => {
  const f = await failure('selftest-hang', 1500);
  assert.is(f.line, '7');
  assert.match(f.reason, 'hung: no return after 1500 ms');
  const again = await fuzz('selftest-typeerror', 50);
  assert.is(again.failures.length, 1, 'a new worker serves the next target');
});

t.run();
