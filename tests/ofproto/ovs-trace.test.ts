/**
 * Semantics against the real Open vSwitch: Debian's ovs-vswitchd 3.1 runs privately (its own
 * database, run directory and network namespace, userspace datapath), the same flows go into
 * it (ovs-ofctl add-flows) and into an offline bvs bridge, and `ovs-appctl ofproto/trace` and
 * bvs's trace must give the same datapath actions for the same packet (OVS's datapath port
 * numbers mapped back to OpenFlow ports through dpif/show).
 *
 * Covered: conjunctive matches, clone, the stack with output to a register, write_metadata,
 * xreg/xxreg, dec_ttl, learn (the learning flow's own result), multipath and bundle with every
 * field set and algorithm (OVS's hashes, ovs-hash.ts). Not covered, as they differ by design
 * (see xlate-nx.ts): enqueue/set_queue/output truncation (no queues or truncation in the bvs
 * datapath), and the userspace action's cookie format (bvs's own).
 *
 * Everything this test starts (two daemons by pid, one namespace, one directory) is removed
 * after it, also when it fails. Skipped when ovs-vswitchd is not installed or not root.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFlows, offlineBridge, packetFromText, trace } from '../../src/ofproto/index.ts';
import { uniqueTag } from '../helpers/netns.ts';

const t = suite('ofproto-ovs-trace');

const usable = existsSync('/usr/sbin/ovs-vswitchd') && process.getuid?.() === 0;

interface Ovs { dir: string; ns: string; env: NodeJS.ProcessEnv }
let ovs: Ovs | undefined;

function run(o: Ovs, cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stop(o: Ovs): void {
  for (const name of ['ovs-vswitchd', 'ovsdb-server']) {
    try { process.kill(Number(readFileSync(path.join(o.dir, `${name}.pid`), 'utf8').trim())); } catch { /* not running */ }
  }
  try { execFileSync('ip', ['netns', 'del', o.ns], { stdio: 'ignore' }); } catch { /* not created */ }
  rmSync(o.dir, { recursive: true, force: true });
}

function start(): Ovs {
  const dir = mkdtempSync(path.join(tmpdir(), 'bvs-ovs-'));
  const o: Ovs = { dir, ns: `bvsovs${uniqueTag()}`, env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir } };
  try {
    const db = `unix:${dir}/db.sock`;
    run(o, 'ovsdb-tool', ['create', `${dir}/conf.db`, '/usr/share/openvswitch/vswitch.ovsschema']);
    run(o, 'ovsdb-server', [`${dir}/conf.db`, `--remote=punix:${dir}/db.sock`, `--pidfile=${dir}/ovsdb-server.pid`, `--log-file=${dir}/ovsdb-server.log`, '--detach']);
    run(o, 'ovs-vsctl', [`--db=${db}`, '--no-wait', 'init']);
    run(o, 'ip', ['netns', 'add', o.ns]);
    run(o, 'ip', ['netns', 'exec', o.ns, 'ovs-vswitchd', db, `--pidfile=${dir}/ovs-vswitchd.pid`, `--log-file=${dir}/ovs-vswitchd.log`, '--detach']);
    const ports = [1, 2, 3, 4, 5].flatMap((i) => ['--', 'add-port', 'br0', `p${i}`, '--', 'set', 'interface', `p${i}`, 'type=internal', `ofport_request=${i}`]);
    // Without --no-wait, ovs-vsctl returns once ovs-vswitchd has made the bridge and ports.
    run(o, 'ovs-vsctl', [`--db=${db}`, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure',
      'protocols=OpenFlow10,OpenFlow13,OpenFlow15', ...ports]);
    // bundle() chooses among enabled members only: the ports' links must be up.
    for (let i = 1; i <= 5; i++) run(o, 'ip', ['netns', 'exec', o.ns, 'ip', 'link', 'set', `p${i}`, 'up']);
    return o;
  } catch (e) {
    stop(o);
    throw e;
  }
}

/** OVS datapath port -> OpenFlow port, from `dpif/show` lines like "p3 3/4: (tap)". */
function portMap(o: Ovs): Map<number, number> {
  const m = new Map<number, number>();
  for (const [, of, dp] of run(o, 'ovs-appctl', ['dpif/show']).matchAll(/^\s+p\d+ (\d+)\/(\d+):/gm)) m.set(Number(dp), Number(of));
  return m;
}

function ovsTrace(o: Ovs, flows: string, pkt: string): string {
  const file = path.join(o.dir, 'flows.txt');
  writeFileSync(file, flows);
  run(o, 'ovs-ofctl', ['-O', 'OpenFlow15', 'del-flows', 'br0']);
  try { run(o, 'ovs-ofctl', ['add-flows', 'br0', file]); } catch { run(o, 'ovs-ofctl', ['-O', 'OpenFlow15', 'add-flows', 'br0', file]); }
  const out = run(o, 'ovs-appctl', ['ofproto/trace', 'br0', pkt]);
  const dp = /^Datapath actions: (.*)$/m.exec(out)?.[1];
  if (dp === undefined) throw new Error(`no datapath actions in:\n${out}`);
  const map = portMap(o);
  // Bare numbers between commas are output ports; numbers inside set(...) are not.
  return dp.split(',').map((a) => (/^\d+$/.test(a) ? String(map.get(Number(a)) ?? `dp${a}`) : a)).join(',');
}

function bvsTrace(flows: string, pkt: string): string {
  const b = offlineBridge('p1=1,p2=2,p3=3,p4=4,p5=5');
  loadFlows(b, flows);
  return trace(b, packetFromText(b, pkt)).datapathActions;
}

const P = 'in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1000,tp_dst=80';
const with_ = (from: string, to: string): string => P.replace(from, to);

const SCENARIOS: [string, string, string[]][] = [
  ['conjunction', `
priority=100,ip,nw_src=10.0.0.1,actions=conjunction(1234,1/2)
priority=100,ip,nw_src=10.0.0.4,actions=conjunction(1234,1/2)
priority=100,ip,nw_dst=10.0.0.2,actions=conjunction(1234,2/2)
priority=100,conj_id=1234,actions=output:2
priority=1,actions=output:3
`, [P, with_('nw_src=10.0.0.1', 'nw_src=10.0.0.4'), with_('nw_src=10.0.0.1', 'nw_src=10.0.0.5'), with_('nw_dst=10.0.0.2', 'nw_dst=10.0.0.3')]],
  ['clone', 'actions=clone(mod_nw_dst:10.9.9.9,load:7->NXM_NX_REG0[],output:2),output:3,output:NXM_NX_REG0[0..15]\n', [P]],
  ['stack and output_reg', 'tcp,actions=push:NXM_OF_TCP_DST[],push:NXM_OF_IP_SRC[0..7],pop:NXM_NX_REG1[],pop:NXM_NX_REG2[0..7],output:NXM_NX_REG2[0..15],output:NXM_NX_REG1[0..15]\n',
    [with_('tp_dst=80', 'tp_dst=4').replace('nw_src=10.0.0.1', 'nw_src=10.0.0.3')]],
  ['write_metadata', `
table=0,actions=write_metadata:0xff00ff/0xffff,goto_table:1
table=1,metadata=0xff/0xffff,actions=write_metadata:0x1200000000/0xff00000000,goto_table:2
table=2,metadata=0x12000000ff,actions=output:5
`, [P]],
  ['xreg and xxreg', `
actions=load:0x100000002->OXM_OF_PKT_REG0[],set_field:0xa0000000b0000000c0000000d->xxreg2,resubmit(,1)
table=1,reg0=1,reg1=2,reg8=0xa,reg11=0xd,actions=move:NXM_NX_XXREG2[0..63]->OXM_OF_PKT_REG7[],resubmit(,2)
table=2,xreg7=0xc0000000d,reg15=0xd,actions=output:2
`, [P]],
  ['dec_ttl', 'actions=dec_ttl(1,3),output:2\n', [P]],
  ['learn', `
actions=learn(table=10,idle_timeout=10,priority=5,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]),resubmit(,10),output:NXM_NX_REG0[0..15]
table=10,priority=0,actions=output:4
`, [P]],
];

// multipath and bundle: OVS's hashes and choices (ovs-hash.ts), over packets that differ in
// every hashed field. Link K goes out of port K+1.
const LINKS = [0, 1, 2, 3, 4].map((k) => `table=1,reg0=${k},actions=output:${k + 1}`).join('\n');
const HASH_PKTS = [P, with_('nw_src=10.0.0.1', 'nw_src=10.7.3.9'), with_('tp_src=1000', 'tp_src=33333'), with_('tp_dst=80', 'tp_dst=443'),
  with_('dl_src=02:00:00:00:00:01', 'dl_src=02:00:00:00:00:77'), with_('nw_dst=10.0.0.2', 'nw_dst=192.168.9.1'),
  'in_port=1,udp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=5353,udp_dst=53',
  'in_port=1,tcp6,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_src=1000,tp_dst=80',
  'in_port=1,arp,dl_src=02:00:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1'];
for (const fields of ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3']) {
  for (const alg of ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash']) {
    SCENARIOS.push([`multipath(${fields},${alg})`, `actions=multipath(${fields},7,${alg},5,6,NXM_NX_REG0[0..2]),resubmit(,1)\n${LINKS}\n`, HASH_PKTS]);
  }
  SCENARIOS.push([`bundle(${fields},hrw)`, `actions=bundle(${fields},3,hrw,ofport,members:2,3,4,5)\n`, HASH_PKTS]);
}
SCENARIOS.push(['bundle active_backup and bundle_load', 'actions=bundle(eth_src,0,active_backup,ofport,members:9,3,2),bundle_load(symmetric_l4,0,hrw,ofport,NXM_NX_REG0[0..15],members:2,5),output:NXM_NX_REG0[0..15]\n', [P]]);

t.before(() => {
  if (usable) ovs = start();
});

t.after(() => {
  if (ovs) stop(ovs);
});

for (const [name, flows, pkts] of SCENARIOS) {
  t(`same datapath actions as ofproto/trace: ${name}`, () => {
    if (!ovs) return;
    for (const p of pkts) assert.is(bvsTrace(flows, p), ovsTrace(ovs, flows, p), `${name}: ${p}`);
  });
}

t.run();
