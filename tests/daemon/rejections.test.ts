/**
 * No unhandled rejection ends the daemon (issue 9): with the daemon in this process, a promise
 * rejected with nobody to handle it is logged, counted in daemon.health, and the daemon keeps
 * answering over NATS and OVSDB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connectRunDir, type Bus } from '../../src/bus/index.ts';
import { removePins } from '../../src/datapath/index.ts';
import { resolveOptions, startDaemon, type Daemon } from '../../src/daemon/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { natsServersOf, run } from './helpers.ts';
import { uniqueTag } from './util.ts';

const t = suite('daemon-rejections');
const tag = uniqueTag();
const pinDir = `/sys/fs/bpf/bvs-test-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-rej-'));
const runDir = path.join(dir, 'run');
const lines: string[] = [];
let daemon: Daemon | undefined;
let bus: Bus | undefined;

t.before(async () => {
  const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } });
  daemon = await startDaemon(resolveOptions({ runDir, db: path.join(dir, 'conf.db'), pinDir, logLevel: 'info' }, {}), { logger });
  bus = await connectRunDir(runDir);
});

t.after(async () => {
  await bus?.close().catch(() => {});
  await daemon?.stop('test over');
  for (const pid of natsServersOf(runDir)) process.kill(pid, 'SIGKILL');
  removePins(pinDir);
  fs.rmSync(dir, { recursive: true, force: true });
});

t('an unhandled rejection is logged and counted, and the daemon keeps serving', async () => {
  assert.is((await bus!.request('daemon.health', {})).status, 'ok');
  void Promise.reject(new Error('injected: nobody handles this'));
  void Promise.reject(new TypeError('injected: nor this'));
  const h = await waitFor('the rejections in daemon.health', async () => {
    const r = await bus!.request('daemon.health', {});
    const c = r.components.find((x) => x.name === 'unhandled-rejections');
    return c?.detail?.startsWith('2 since start') ? r : undefined;
  });
  assert.is(h.status, 'degraded');
  assert.match(h.components.find((x) => x.name === 'unhandled-rejections')!.detail!, /last: TypeError: injected: nor this/);
  assert.ok(lines.some((l) => l.includes('unhandled promise rejection') && l.includes('injected: nobody handles this')));
  // Still serving: NATS commands and OVSDB.
  assert.is((await bus!.request('daemon.ping', {})).pid, process.pid);
  const r = await run('ovs-vsctl', [`--db=unix:${path.join(runDir, 'db.sock')}`, '--timeout=10', 'show']);
  assert.is(r.code, 0, r.stderr);
});

t.run();
