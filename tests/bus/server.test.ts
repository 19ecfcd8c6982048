// Integration tests of the embedded nats-server lifecycle (real /usr/sbin/nats-server).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BusConnectionError, connectBus, connectRunDir, NatsServerBusyError, readEndpoint, reapStaleNatsServer,
  RunDirFile, startNatsServer, type NatsServer,
} from '../../src/bus/index.ts';
import { isAlive, signal } from '../../src/bus/proc.ts';
import { waitFor } from '../helpers/wait.ts';
import { removeTempDirs, tempRunDir } from './helpers.ts';

const t = suite('bus-server');
const servers: NatsServer[] = [];
const children: ChildProcess[] = [];
const pids: number[] = [];

t.after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled(servers.map((s) => s.stop()));
  for (const p of pids) signal(p, 'SIGKILL');
  removeTempDirs();
});

t('start: loopback, random port, url and token files, accepts an authenticated client', async () => {
  const dir = tempRunDir('start');
  const srv = await startNatsServer({ runDir: dir, hostId: 'node-7' });
  servers.push(srv);
  assert.match(srv.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(await isAlive(srv.pid));
  assert.is(readFileSync(path.join(dir, RunDirFile.Url), 'utf8').trim(), srv.url);
  assert.is(statSync(path.join(dir, RunDirFile.Token)).mode & 0o777, 0o600);
  assert.is(statSync(path.join(dir, RunDirFile.Conf)).mode & 0o777, 0o600);
  // The token never appears in the server's argv.
  const argv = readFileSync(`/proc/${srv.pid}/cmdline`, 'utf8');
  assert.not.ok(argv.includes(srv.token!));
  const ep = await readEndpoint(dir);
  assert.equal(ep, { url: srv.url, token: srv.token, host: 'node-7' });
  const bus = await connectRunDir(dir);
  assert.is(bus.host, 'node-7', 'the CLI addresses the daemon\'s host id');
  await bus.close();
  // Without the token the server refuses us.
  try {
    const b = await connectBus({ servers: srv.url, timeoutMs: 2000, nats: { reconnect: false } });
    await b.close();
    assert.unreachable('connected without the token');
  } catch (e) {
    assert.instance(e, BusConnectionError);
  }
  await srv.stop();
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Host)));
});

t('stop: the process is gone, url/token/pid files removed, stop is idempotent', async () => {
  const dir = tempRunDir('stop');
  const srv = await startNatsServer({ runDir: dir });
  servers.push(srv);
  const { pid } = srv;
  await srv.stop();
  assert.not.ok(await isAlive(pid));
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Url)));
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Token)));
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Pid)));
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Host)));
  const exit = await srv.exited;
  assert.is(exit.code, 0);
  await srv.stop();
  try {
    await readEndpoint(dir);
    assert.unreachable('url file should be gone');
  } catch (e) {
    assert.instance(e, BusConnectionError);
    assert.match((e as Error).message, /is bvs daemon running/);
  }
});

t('a server that ignores the graceful stop is SIGKILLed after stopTimeoutMs', async () => {
  const srv = await startNatsServer({ runDir: tempRunDir('hung'), stopTimeoutMs: 300 });
  servers.push(srv);
  signal(srv.pid, 'SIGSTOP'); // a stopped process cannot act on SIGINT; SIGKILL still works
  // The grace period, against a timer of the same event loop armed just before stop() (the
  // server has no injectable clock; two overdue timers still fire in deadline order, so this
  // holds on a stalled host, where a wall-clock bound would not).
  let graceOver = false;
  const marker = setTimeout(() => (graceOver = true), 295);
  await srv.stop();
  clearTimeout(marker);
  assert.ok(graceOver, 'graceful stop was not given its time');
  assert.not.ok(await isAlive(srv.pid));
  assert.is((await srv.exited).signal, 'SIGKILL');
});

t('an unexpected server death settles `exited`; stop() then only cleans up', async () => {
  const dir = tempRunDir('crash');
  const srv = await startNatsServer({ runDir: dir });
  servers.push(srv);
  signal(srv.pid, 'SIGKILL');
  const exit = await srv.exited;
  assert.is(exit.code, 128 + 9, 'the guard reports how the server died');
  assert.ok(existsSync(path.join(dir, RunDirFile.Url)));
  await srv.stop();
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Url)));
});

t('a fixed port that is taken fails with the server log, leaving nothing behind', async () => {
  const a = await startNatsServer({ runDir: tempRunDir('porta') });
  servers.push(a);
  const port = Number(new URL(a.url).port);
  const dir = tempRunDir('portb');
  try {
    const b = await startNatsServer({ runDir: dir, port });
    servers.push(b);
    assert.unreachable('second server on a taken port');
  } catch (e) {
    assert.is((e as Error).name, 'NatsServerError');
    assert.match((e as Error).message, /address already in use/);
  }
  assert.not.ok(existsSync(path.join(dir, RunDirFile.Url)));
  await a.stop();
});

t('the daemon is SIGKILLed: its guard stops nats-server at once', async () => {
  const dir = tempRunDir('orphan');
  const fixture = fileURLToPath(new URL('./fixtures/hold-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`fixture exited ${code}`)));
  });
  const { pid } = JSON.parse(line) as { pid: number };
  pids.push(pid);
  assert.ok(await isAlive(pid));
  child.kill('SIGKILL');
  await waitFor(`nats-server ${pid} to go with its daemon`, async () => !(await isAlive(pid)));
});

t('a stale server (no guard) named by nats.pid is reaped on start', async () => {
  const dir = tempRunDir('stale');
  // Simulate the worst case: a server of this run dir whose whole guard group died.
  const first = await startNatsServer({ runDir: dir, token: false });
  servers.push(first);
  await first.stop(); // leaves nats.conf in place, as a crash would
  const stale = spawn('/usr/sbin/nats-server', ['-c', path.join(dir, RunDirFile.Conf)], { stdio: 'ignore', detached: true });
  stale.unref();
  pids.push(stale.pid!);
  const written = await waitFor('the stale server to write its pid file', () =>
    existsSync(path.join(dir, RunDirFile.Pid)) && Number(readFileSync(path.join(dir, RunDirFile.Pid), 'utf8')));
  assert.is(written, stale.pid);
  const srv = await startNatsServer({ runDir: dir });
  servers.push(srv);
  assert.not.ok(await isAlive(stale.pid!), 'stale server still running');
  assert.is.not(srv.pid, stale.pid);
  const bus = await connectRunDir(dir);
  await bus.close();
  await srv.stop();
  // Nothing named by the pid file: reaping is a no-op.
  assert.is(await reapStaleNatsServer(dir), null);
});

t('a live daemon\'s server is not touched: NatsServerBusyError', async () => {
  const dir = tempRunDir('busy');
  const srv = await startNatsServer({ runDir: dir });
  servers.push(srv);
  try {
    const again = await startNatsServer({ runDir: dir });
    servers.push(again);
    assert.unreachable('second daemon on the same run dir');
  } catch (e) {
    assert.instance(e, NatsServerBusyError);
  }
  assert.ok(await isAlive(srv.pid));
  assert.is(readFileSync(path.join(dir, RunDirFile.Url), 'utf8').trim(), srv.url);
  await srv.stop();
});

t.run();
