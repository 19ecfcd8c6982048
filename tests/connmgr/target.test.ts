/**
 * Controller targets (OVS syntax) and an active controller's reconnect backoff, driven by
 * injected timers: each wait doubles from 1 s up to max_backoff, no sleeping.
 */
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OfService, parseTarget, TargetError } from '../../src/connmgr/index.ts';
import type { OfSwitch } from '../../src/connmgr/index.ts';
import type { ConnTimers } from '../../src/openflow/index.ts';
import { systemClock } from '../../src/vswitch/index.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('connmgr-target');

t('targets parse as OVS spells them; ptcp defaults to loopback', () => {
  assert.equal(parseTarget('tcp:10.0.0.1'), { kind: 'tcp', host: '10.0.0.1', port: 6653 });
  assert.equal(parseTarget('tcp:[::1]:7000'), { kind: 'tcp', host: '::1', port: 7000 });
  assert.equal(parseTarget('ptcp:'), { kind: 'ptcp', host: '127.0.0.1', port: 6653 });
  assert.equal(parseTarget('ptcp:6634:0.0.0.0'), { kind: 'ptcp', host: '0.0.0.0', port: 6634 });
  assert.equal(parseTarget('punix:br0.ctl', '/run/bvs'), { kind: 'punix', path: '/run/bvs/br0.ctl' });
  assert.equal(parseTarget('unix:/tmp/c.sock', '/run/bvs'), { kind: 'unix', path: '/tmp/c.sock' });
});

t('bad targets name what is wrong', () => {
  for (const [text, want] of [
    ['tcp:', /needs an IP address/], ['tcp:example.com', /not an IP address/], ['tcp:1.2.3.4:99999', /port "99999"/],
    ['ssl:1.2.3.4', /no TLS/], ['udp:1.2.3.4', /unknown connection type "udp"/], ['punix:', /needs a file name/],
  ] as const) {
    try {
      parseTarget(text);
      assert.unreachable(text);
    } catch (e) {
      assert.instance(e, TargetError);
      assert.match((e as Error).message, want);
    }
  }
});

t('an active controller that cannot connect waits 1, 2, 4, 8, 8 s (max_backoff 8 s) between tries', async () => {
  const waits: number[] = [];
  let pending: (() => void) | undefined;
  let now = 0;
  const timers: ConnTimers = {
    now: () => now,
    setTimeout: (fn, ms) => { waits.push(ms); pending = fn; return 1; },
    clearTimeout: () => { pending = undefined; },
  };
  const sock = path.join(os.tmpdir(), `bvs-nobody-${process.pid}.sock`);
  const svc = new OfService(
    { text: `unix:${sock}`, target: { kind: 'unix', path: sock }, maxBackoffMs: 8000, probeMs: 5000 },
    { sw: {} as OfSwitch, versions: () => [4], timers, clock: systemClock, log: () => {}, onChange: () => {} },
  );
  await svc.start();
  for (let i = 1; i <= 5; i++) {
    await waitFor(`failed attempt ${i}`, () => waits.length === i && pending !== undefined);
    assert.is(svc.status().status.state, 'BACKOFF');
    const fire = pending!;
    pending = undefined;
    now += waits[i - 1]!;
    fire();
  }
  await waitFor('the sixth wait', () => waits.length === 6);
  assert.equal(waits, [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.is(svc.status().isConnected, false);
  assert.match(svc.status().status.last_error ?? '', /ENOENT|ECONNREFUSED/);
  await svc.close();
});

t.run();
