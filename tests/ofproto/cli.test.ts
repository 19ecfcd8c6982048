import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const t = suite('ofproto-cli');
const BVS = fileURLToPath(new URL('../../bin/bvs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), `bvs-ofproto-${process.pid}-`));
const flows = join(dir, 'flows.txt');
writeFileSync(flows, [
  '# an access/trunk bridge with one ACL',
  'table=0,priority=100,in_port=1,dl_vlan=10,tcp,nw_src=10.0.0.0/24,tp_dst=80,actions=mod_vlan_vid:20,output:2',
  'priority=90,tcp,tp_dst=22,actions=drop   # no ssh',
  'priority=0,actions=NORMAL',
  '',
].join('\n'));
const PORTS = 'p1=1,p2=2:tag=20,p3=3:trunks=10/20,p4=4:tag=10';

function bvs(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(BVS, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

t.after(() => rmSync(dir, { recursive: true, force: true }));

t('trace --json: ODP datapath actions and megaflow, and the steps', () => {
  const r = bvs('ofproto', 'trace', '--flows', flows, '--ports', PORTS, '--json',
    'in_port=1,dl_vlan=10,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,tcp,nw_src=10.0.0.5,nw_dst=10.0.1.1,tp_dst=80');
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { datapathActions: string; megaflow: string; steps: { table: number; rule?: { priority: number } }[] };
  assert.is(j.datapathActions, 'pop_vlan,push_vlan(vid=20,pcp=0),2');
  assert.match(j.megaflow, 'in_port(1)');
  assert.match(j.megaflow, 'src=10.0.0.0/255.255.255.0');
  assert.match(j.megaflow, 'tcp(dst=80)');
  assert.is(j.steps.length, 1);
  assert.is(j.steps[0]!.rule!.priority, 100);
});

t('trace text: NORMAL floods the access VLAN with the right tags', () => {
  const r = bvs('ofproto', 'trace', '--flows', flows, '--ports', PORTS,
    'in_port=4,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'bridge("br0")');
  assert.match(r.out, ' 0. priority 0');
  assert.match(r.out, 'Datapath actions: push_vlan(vid=10,pcp=0),1,3\n');
  assert.match(r.out, 'Megaflow: ');
});

t('bad input exits non-zero naming it', () => {
  let r = bvs('ofproto', 'trace', '--flows', flows, '--ports', 'p1=1,p2=x', 'in_port=1');
  assert.is.not(r.code, 0);
  assert.match(r.err, 'p2=x');
  r = bvs('ofproto', 'trace', '--flows', flows, '--ports', PORTS, 'in_port=1,tcp,nw_dst=10.0.0');
  assert.is.not(r.code, 0);
  assert.match(r.err, 'nw_dst=10.0.0');
  r = bvs('ofproto', 'trace', '--flows', flows, '--ports', PORTS, 'in_port=9,tcp');
  assert.is.not(r.code, 0);
  assert.match(r.err, 'in_port=9');
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, 'priority=1,actions=NORMAL\nip,nw_src=1.2.3.4,actions=outptu:2\n');
  r = bvs('ofproto', 'trace', '--flows', bad, '--ports', PORTS, 'in_port=1');
  assert.is.not(r.code, 0);
  assert.match(r.err, 'bad.txt:2');
  assert.match(r.err, 'outptu:2');
  r = bvs('ofproto', 'trace', '--flows', join(dir, 'missing'), '--ports', PORTS, 'in_port=1');
  assert.is.not(r.code, 0);
  assert.match(r.err, 'missing');
});

t.run();
