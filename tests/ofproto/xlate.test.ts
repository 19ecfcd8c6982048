import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { keyMatches, emptyKey } from '../../src/datapath/flow.ts';
import {
  Bridge, decodeControllerCookie, formatTrace, loadFlows, offlineBridge, packetFromText, trace, formatGroup, inMegaflow, MAX_RESUBMIT_DEPTH, parseFlow, parseGroup, xlate,
} from '../../src/ofproto/index.ts';
import { pick, prng, randomInside, randomKey } from './gen.ts';

const t = suite('ofproto-xlate');

const MATCHES = [
  '', 'in_port=1', 'in_port=2', 'ip', 'tcp', 'udp', 'tcp,tp_dst=80', 'udp,tp_dst=53/0xff00', 'arp',
  'ip,nw_dst=10.0.0.0/24', 'ip,nw_src=192.168.0.0/16', 'ip,nw_dst=10.1.0.0/255.255.0.255', 'dl_vlan=10',
  'vlan_tci=0/0x1000', 'dl_src=02:00:00:00:00:01', 'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', 'reg0=1',
  'icmp,icmp_type=8', 'ip,nw_ttl=1', 'ip,nw_tos=16',
];
const ACTIONS = [
  'output:1', 'output:2', 'output:3', 'NORMAL', 'FLOOD', 'in_port', 'mod_dl_src:02:00:00:00:00:09',
  'mod_nw_dst:10.9.9.9', 'mod_tp_dst:8080', 'dec_ttl', 'mod_vlan_vid:30', 'strip_vlan', 'push_vlan:0x8100',
  'load:1->NXM_NX_REG0[]', 'move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG0[0..7]', 'mod_nw_tos:8', 'controller',
  'set_field:3->reg0', 'mod_vlan_pcp:5', 'group:1', 'group:2',
  // Nicira extensions (issue 10): each reads packet bits that must end up in the megaflow.
  'note:01.02', 'output:NXM_NX_REG0[0..15]', 'push:NXM_OF_IP_SRC[0..7]', 'pop:NXM_NX_REG0[0..1]',
  'clone(mod_nw_dst:10.9.9.9,output:2)', 'clone(push_vlan:0x8100,output:3)',
  'multipath(symmetric_l4,0,modulo_n,4,0,NXM_NX_REG0[0..1])', 'multipath(nw_src,7,hrw,3,0,NXM_NX_REG0[])',
  'multipath(eth_src,0,iter_hash,3,0,NXM_NX_REG0[0..1])', 'bundle(symmetric_l4,0,hrw,ofport,members:1,2,3)',
  'bundle_load(symmetric_l3l4+udp,0,hrw,ofport,NXM_NX_REG0[],members:1,3)', 'bundle(eth_src,0,active_backup,ofport,members:5,2)',
  'controller(userdata=01.02)', 'output(port=2,max_len=64)',
  'learn(table=2,priority=9,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])',
];

function randomBridge(r: () => number): Bridge {
  const b = new Bridge('br0', { now: () => 1_000_000 });
  b.addPort({ name: 'p1', ofport: 1 });
  b.addPort({ name: 'p2', ofport: 2, tag: 10 });
  b.addPort({ name: 'p3', ofport: 3, trunks: [10, 20] });
  b.addPort({ name: 'p4', ofport: 4, tag: 20 });
  for (const [vlan, mac, port] of [[10, 0x020000000001, 2], [0, 0x020000000002, 1], [20, 0x020000000004, 3], [10, 0x020000000004, 3]] as const) {
    if (r() < 0.7) b.mac.learn(vlan, mac, port, 1_000_000);
  }
  b.pipeline.addGroup(parseGroup('group_id=1,type=all,bucket=mod_vlan_vid:7,output:1,bucket=output:2,bucket=mod_nw_dst:10.0.0.7,output:3'));
  b.pipeline.addGroup(parseGroup('group_id=2,type=select,bucket=weight:3,actions=output:1,bucket=weight:1,actions=mod_dl_dst:02:00:00:00:00:05,output:4'));
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const table = pick(r, [0, 0, 0, 1, 2]);
    const acts: string[] = [];
    const na = Math.floor(r() * 4);
    for (let j = 0; j < na; j++) acts.push(pick(r, ACTIONS));
    if (table < 2 && r() < 0.4) acts.push(`resubmit(,${table + 1})`);
    if (r() < 0.1) acts.push('resubmit(,0)'); // loops must end in the depth limit
    const m = pick(r, MATCHES);
    b.pipeline.add(parseFlow(`table=${table},priority=${Math.floor(r() * 50)}${m ? `,${m}` : ''},actions=${acts.join(',') || 'drop'}`));
  }
  if (r() < 0.5) {
    // A conjunctive match (conj.ts): its soft lookups must keep the megaflow sound too.
    const t = pick(r, [0, 1]);
    for (const f of ['ip,nw_src=10.0.0.0/24,actions=conjunction(9,1/2)', 'ip,nw_src=192.168.0.0/16,actions=conjunction(9,1/2)',
      'tcp,tp_dst=80,actions=conjunction(9,2/2)', 'ip,nw_dst=10.1.0.0/16,actions=conjunction(9,2/2),conjunction(10,1/2)',
      'in_port=2,actions=conjunction(10,2/2)', 'conj_id=9,actions=output:4', 'conj_id=10,ip,actions=mod_nw_dst:10.2.2.2,output:3']) {
      if (r() < 0.8) b.pipeline.add(parseFlow(`table=${t},priority=${pick(r, [20, 40, 60])},${f}`));
    }
  }
  return b;
}

t('megaflow soundness: every packet inside the megaflow gets the same datapath actions', () => {
  fc.assert(fc.property(fc.integer(), (seed) => {
    const r = prng(seed);
    const b = randomBridge(r);
    for (let k = 0; k < 8; k++) {
      const p = randomKey(r, [1, 2, 3, 4]);
      const rp = xlate(b, p);
      const want = `${formatDp(rp.actions)} ${rp.error ?? ''}`;
      assert.ok(inMegaflow(p, rp.megaflow));
      for (let j = 0; j < 8; j++) {
        const q = randomInside(r, p, rp.megaflow.mask);
        assert.ok(keyMatches(q, rp.megaflow.key, rp.megaflow.mask));
        const rq = xlate(b, q);
        const got = `${formatDp(rq.actions)} ${rq.error ?? ''}`;
        if (got !== want) {
          assert.unreachable(`seed ${seed}: P gives "${want}", Q gives "${got}"\nflows:\n${b.pipeline.dumpFlows().join('\n')}\nP=${JSON.stringify(p, (_, v) => typeof v === 'bigint' ? v.toString() : v)}\nQ=${JSON.stringify(q, (_, v) => typeof v === 'bigint' ? v.toString() : v)}`);
        }
      }
    }
  }), { numRuns: 300 });
});

function bridge(flows: string[]): Bridge {
  const b = new Bridge('br0', { now: () => 0 });
  for (let i = 1; i <= 4; i++) b.addPort({ name: `p${i}`, ofport: i });
  for (const f of flows) b.pipeline.add(parseFlow(f));
  return b;
}

function key(over: Partial<ReturnType<typeof emptyKey>>): ReturnType<typeof emptyKey> {
  return { ...emptyKey(), ethType: 0x0800, ipProto: 6, ipTtl: 64, ethSrc: 0x020000000001, ethDst: 0x020000000002, inPort: 1, ...over };
}

t('table miss drops; the megaflow keeps in_port and dl_type exact and the rest wide', () => {
  const b = bridge(['priority=10,tcp,tp_dst=80,actions=output:2']);
  const r = xlate(b, key({ ipProto: 17, tpDst: 80 }));
  assert.equal(r.actions, []);
  assert.is(r.megaflow.mask.inPort, 0xffffffff);
  assert.is(r.megaflow.mask.ethType, 0xffff);
  assert.is(r.megaflow.mask.ipProto, 0xff);
  assert.is(r.megaflow.mask.tpDst, 0, 'tp_dst is not consulted once nw_proto missed');
  assert.is(r.megaflow.mask.ethSrc, 0);
});

t('set actions are committed before each output, only for changed fields', () => {
  const b = bridge(['priority=10,ip,actions=output:2,mod_nw_dst:10.0.0.9,mod_dl_src:02:00:00:00:00:01,output:3,mod_tp_dst:22,output:4']);
  const r = xlate(b, key({ ipv4Dst: 0x0a000001, tpDst: 80 }));
  assert.is(formatDp(r.actions), '2,set(ipv4(dst=10.0.0.9)),3,set(tcp(dst=22)),4');
  assert.is(r.megaflow.mask.ipv4Dst, 0xffffffff);
  assert.is(r.megaflow.mask.ethSrc, 0xffffffffffff);
});

t('resubmit loops stop at the depth limit and drop', () => {
  const b = bridge(['priority=10,actions=output:2,resubmit(,0)']);
  const r = xlate(b, key({}));
  assert.equal(r.actions, []);
  assert.match(r.error ?? '', String(MAX_RESUBMIT_DEPTH));
});

t('goto_table and registers: metadata never reaches the datapath mask', () => {
  const b = bridge([
    'priority=10,tcp,actions=load:0x7->NXM_NX_REG3[],goto_table:3',
    'table=3,priority=5,reg3=7,actions=output:4',
  ]);
  const r = xlate(b, key({}));
  assert.is(formatDp(r.actions), '4');
  assert.is(r.rules.length, 2);
  assert.is(r.finalFlow[2 + 3], 7);
});

t('controller: a userspace action with a decodable cookie and a packet-in event', () => {
  const b = bridge(['table=0,priority=10,actions=goto_table:4', 'table=4,priority=1,cookie=0x42,actions=controller(reason=no_match,id=7,max_len=128)']);
  const seen: unknown[] = [];
  const r = xlate(b, key({}), { sideEffects: true, onPacketIn: (e) => seen.push(e), upcallPid: 9 });
  assert.is(r.actions.length, 1);
  const a = r.actions[0]!;
  assert.is(a.type, 'userspace');
  if (a.type !== 'userspace') return;
  assert.is(a.pid, 9);
  assert.equal(decodeControllerCookie(a.cookie!), { reason: 'no_match', table: 4, controllerId: 7, maxLen: 128 });
  assert.is(seen.length, 1);
  assert.is((seen[0] as { cookie: bigint }).cookie, 0x42n);
});

t('output to the input port is skipped; in_port action outputs there', () => {
  const b = bridge(['priority=10,actions=output:1,output:2,in_port']);
  assert.is(formatDp(xlate(b, key({})).actions), '2,1');
});

t('fields the datapath cannot rewrite fail the translation (drop) with a reason', () => {
  const b = bridge(['priority=10,icmp,actions=set_field:3->icmp_type,output:2']);
  const r = xlate(b, key({ ipProto: 1 }));
  assert.equal(r.actions, []);
  assert.ok(r.error);
});

t('group all: each bucket works on its own copy of the packet', () => {
  const b = bridge(['priority=10,ip,actions=group:1,output:4']);
  b.pipeline.addGroup(parseGroup('group_id=1,type=all,bucket=mod_nw_dst:10.0.0.7,output:2,bucket=output:3'));
  assert.is(formatDp(xlate(b, key({ ipv4Dst: 0x0a000001 })).actions), 'set(ipv4(dst=10.0.0.7)),2,set(ipv4(dst=10.0.0.1)),3,4');
});

t('group select: weighted, symmetric in source/destination, hashed fields un-wildcarded', () => {
  const b = bridge(['priority=10,ip,actions=group:2']);
  b.pipeline.addGroup(parseGroup('group_id=2,type=select,bucket=weight:1,actions=output:2,bucket=weight:1,actions=output:3'));
  const seen = new Set<string>();
  for (let i = 0; i < 64; i++) {
    const fwd = xlate(b, key({ ipv4Src: 0x0a000000 + i, ipv4Dst: 0x0a000100, tpSrc: 1000 + i, tpDst: 80 }));
    const rev = xlate(b, key({ ipv4Dst: 0x0a000000 + i, ipv4Src: 0x0a000100, tpDst: 1000 + i, tpSrc: 80, ethSrc: 0x020000000002, ethDst: 0x020000000001 }));
    assert.is(formatDp(rev.actions), formatDp(fwd.actions));
    assert.is(fwd.megaflow.mask.tpSrc, 0xffff);
    seen.add(formatDp(fwd.actions));
  }
  assert.equal([...seen].sort(), ['2', '3']);
});

t('groups print in ovs-ofctl dump-groups form and parse back', () => {
  const text = 'group_id=2,type=select,bucket=bucket_id:0,weight:3,actions=output:1,bucket=bucket_id:1,weight:1,actions=mod_dl_dst:02:00:00:00:00:05,output:4';
  assert.is(formatGroup(parseGroup(text)), text);
  assert.throws(() => parseGroup('group_id=1,type=fast_failover,bucket=output:1'), /requires watch_port or watch_group/);
  assert.throws(() => parseGroup('group_id=1,type=chained,bucket=output:1'), /not supported/);
});

t('trace: offline bridge from a flows file with a group; steps, notes and ODP strings', () => {
  const b = offlineBridge('p1=1,p2=2:tag=10,p3=3');
  assert.is(loadFlows(b, '# c\ngroup_id=5,type=all,bucket=output:2,bucket=output:3\npriority=1,in_port=1,actions=resubmit(,1)\ntable=1,priority=1,actions=group:5\n'), 3);
  const rep = trace(b, packetFromText(b, 'in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,udp,udp_dst=53'));
  assert.is(rep.datapathActions, '2,3');
  assert.is(rep.steps.length, 2);
  assert.is(rep.steps[1]!.depth, 1);
  const text = formatTrace(rep, 'br0');
  assert.match(text, 'group:5 (all): bucket 0: output:2');
  assert.match(text, `Megaflow: ${rep.megaflow}`);
  assert.match(text, 'Datapath actions: 2,3');
  assert.throws(() => loadFlows(b, 'ip,actions=output:1\nip,nw_src=1.2.3.4/40,actions=drop\n', 'f.txt'), /f\.txt:2: .*prefix length 40/);
});

t.run();
