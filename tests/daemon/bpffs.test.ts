/**
 * The pin root must be on bpffs (issue 9, D7). `ip netns exec` remounts /sys, so /sys/fs/bpf
 * has nothing mounted inside it: the daemon once spun in mkdir there at 100% CPU, serving
 * nothing. Now it mounts bpffs at /sys/fs/bpf itself (and says what that means), and a pin
 * root anywhere else that is not bpffs is refused at once with the path in the error.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensurePinRoot } from '../../src/datapath/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { run } from './helpers.ts';
import { uniqueTag } from './util.ts';

const t = suite('daemon-bpffs');
const tag = uniqueTag();
const ns = `bvs-bpffs-${tag}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-bpffs-'));
const BVS = path.resolve(import.meta.dirname, '../../bin/bvs');

t.after(async () => {
  await run('ip', ['netns', 'del', ns]);
  fs.rmSync(dir, { recursive: true, force: true });
});

t('a pin root off bpffs, outside /sys/fs/bpf, is refused with its path', () => {
  const where = path.join(dir, 'not-bpffs', 'pins');
  assert.throws(() => ensurePinRoot(where), (e: Error & { code?: string }) =>
    e.name === 'DatapathError' && e.code === 'NO_BPFFS' && e.message.includes(where));
  assert.not.ok(fs.existsSync(path.join(dir, 'not-bpffs')), 'nothing created');
});

t('under ip netns exec, the daemon mounts bpffs itself, serves, and stops on SIGTERM', async () => {
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const runDir = path.join(dir, 'run');
  let log = '';
  const d = spawn('ip', ['netns', 'exec', ns, BVS, 'daemon', '--run-dir', runDir, '--db', path.join(dir, 'conf.db'),
    '--pin-dir', `/sys/fs/bpf/bvs-test-${tag}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  d.stderr!.on('data', (b) => { log += String(b); });
  const exited = new Promise<number | null>((r) => d.on('exit', (code) => r(code)));
  try {
    await waitFor('the daemon to start', () => log.includes('daemon started') || d.exitCode !== null);
    assert.is(d.exitCode, null, log);
    assert.match(log, /mounted bpffs at \/sys\/fs\/bpf/);
    const v = await run('ovs-vsctl', [`--db=unix:${path.join(runDir, 'db.sock')}`, '--timeout=10', 'show']);
    assert.is(v.code, 0, v.stderr);
  } finally {
    d.kill('SIGTERM');
    const code = await Promise.race([exited, waitFor('exit', () => false, { timeoutMs: 15_000 }).catch(() => 'timeout')]);
    if (code === 'timeout') d.kill('SIGKILL');
  }
  assert.is(await exited, 0);
});

t.run();
