/** The real ovs-ofctl against a bvs daemon's run dir (OVS_RUNDIR), as users run it. */
import { execFile } from 'node:child_process';
import * as assert from 'uvu/assert';

export interface Ofctl {
  /** Runs ovs-ofctl; resolves with its output and exit code (never rejects). */
  run(...args: string[]): Promise<{ out: string; err: string; code: number }>;
  /** Runs ovs-ofctl, which must succeed; resolves with its stdout. */
  ok(...args: string[]): Promise<string>;
}

export function ofctlAt(runDir: () => string): Ofctl {
  const run = (...args: string[]): Promise<{ out: string; err: string; code: number }> => new Promise((res) => {
    execFile('ovs-ofctl', args, { timeout: 60_000, env: { ...process.env, OVS_RUNDIR: runDir() } }, (e, out, err) => {
      res({ out, err, code: e ? (typeof e.code === 'number' ? e.code : 1) : 0 });
    });
  });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    assert.is(r.code, 0, `ovs-ofctl ${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  return { run, ok };
}
