/**
 * OpenFlow flow-mod throughput: the real `ovs-ofctl add-flows` of N distinct flows (one file,
 * one connection, flow-mods then a barrier) into a bvs daemon's bridge over BR.mgmt, and into
 * Debian's OVS (ovs-vswitchd, netdev datapath, private run dir) in the same run; then
 * `ovs-ofctl dump-flows` of the N flows from each. Prints seconds, flows/s and bvs/OVS ratios.
 *
 *   node --import tsx bench/openflow/run.ts [--flows N[,N...]] [--protocol OpenFlow13]
 *
 * Not a test: it asserts nothing about the figures. Both switches start empty (OVS with its
 * NORMAL flow deleted, bvs likewise), so each add-flows starts from the same table.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DaemonProc } from '../../tests/daemon/helpers.ts';
import { uniqueTag } from '../../tests/helpers/netns.ts';
import { OvsPeer } from '../daemon/ovs.ts';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const counts = arg('flows', '10000,100000').split(',').map(Number);
const proto = arg('protocol', 'OpenFlow13');
const tag = uniqueTag();
const tmp = mkdtempSync(path.join(os.tmpdir(), `bvs-ofbench-${tag}-`));

function ofctl(rundir: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((res, rej) => {
    execFile('ovs-ofctl', args, { env: { ...process.env, OVS_RUNDIR: rundir }, maxBuffer: 1 << 30, timeout: 600_000 }, (e, _o, err) => {
      if (e) rej(new Error(`ovs-ofctl ${args.slice(0, 3).join(' ')}: ${err.slice(0, 300)}`));
      else res(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

/** N distinct flows: one per destination address and port. */
function flowsFile(n: number): string {
  const f = path.join(tmp, `flows-${n}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(`table=0,priority=${100 + (i % 7)},tcp,nw_dst=10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff},tp_dst=${1 + (i % 60000)},actions=output:1`);
  }
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

async function main(): Promise<void> {
  const ns = `bvs-ofb-${tag}`;
  const brB = `b${tag}`, brO = `o${tag}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const ovs = new OvsPeer(ns);
  const pinDir = `/sys/fs/bpf/bvs-ofb-${tag}`;
  const d = new DaemonProc(pinDir, mkdtempSync(path.join(tmp, 'd-')));
  const rows: string[] = [];
  try {
    await ovs.start();
    ovs.addBridge(brO, []);
    await d.start();
    await d.v('add-br', brB);
    for (const n of counts) {
      const file = flowsFile(n);
      const res: Record<string, { add: number; dump: number }> = {};
      for (const [who, rundir, br] of [['ovs', ovs.dir, brO], ['bvs', d.runDir, brB]] as const) {
        await ofctl(rundir, ['-O', proto, 'del-flows', br]);
        const add = await ofctl(rundir, ['-O', proto, 'add-flows', br, file]);
        const dump = await ofctl(rundir, ['-O', proto, 'dump-flows', br]);
        res[who] = { add, dump };
        await ofctl(rundir, ['-O', proto, 'del-flows', br]);
      }
      const b = res.bvs!, o = res.ovs!;
      rows.push(`| add-flows ${n} | ${b.add.toFixed(2)} s (${Math.round(n / b.add)}/s) | ${o.add.toFixed(2)} s (${Math.round(n / o.add)}/s) | ${(o.add / b.add).toFixed(2)} |`);
      rows.push(`| dump-flows ${n} | ${b.dump.toFixed(2)} s | ${o.dump.toFixed(2)} s | ${(o.dump / b.dump).toFixed(2)} |`);
    }
    console.log(`OpenFlow flow-mod benchmark (${proto}), kernel ${execFileSync('uname', ['-r']).toString().trim()}, ${os.cpus().length} CPUs`);
    console.log('| what | bvs | OVS 3.1 netdev | bvs speed / OVS speed |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`load average at the end: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`);
  } finally {
    await d.cleanup().catch(() => {});
    await ovs.stop().catch(() => {});
    try { execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'del', 'ovs-netdev'], { stdio: 'ignore' }); } catch { /* none */ }
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
