/**
 * xlate of the constructs added for issue 10 (registers and the NX actions), on offline
 * bridges: what each does to the flow, the datapath actions, and the megaflow's mask.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { finish, multipathLink } from '../../src/ofproto/hash.ts';
import { Bridge, W, decodeControllerCookie, loadFlows, offlineBridge, packetFromText, parseFlow, xlate } from '../../src/ofproto/index.ts';

const t = suite('ofproto-xlate-nx');

function bridge(flows: string): Bridge {
  const b = offlineBridge('p1=1,p2=2,p3=3,p4=4,p5=5');
  loadFlows(b, flows);
  return b;
}

const PKT = 'in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1000,tp_dst=80';

function run(b: Bridge, pkt = PKT, opts: Parameters<typeof xlate>[2] = {}): ReturnType<typeof xlate> {
  return xlate(b, packetFromText(b, pkt), opts);
}

t('xreg and xxreg are views over pairs and quads of registers', () => {
  const b = bridge(`
    table=0,actions=load:0x100000002->OXM_OF_PKT_REG0[],set_field:0xa0000000b0000000c0000000d->xxreg2,resubmit(,1)
    table=1,reg0=1,reg1=2,reg8=0xa,reg11=0xd,actions=move:NXM_NX_XXREG2[0..63]->OXM_OF_PKT_REG7[],resubmit(,2)
    table=2,xreg7=0xc0000000d,reg15=0xd,actions=output:2`);
  const r = run(b);
  assert.is(r.error, undefined);
  assert.is(formatDp(r.actions), '2');
  const f = r.finalFlow;
  assert.equal([f[W.REG0]!, f[W.REG0 + 1]!, f[W.REG0 + 8]!, f[W.REG0 + 14]!, f[W.REG0 + 15]!], [1, 2, 0xa, 0xc, 0xd]);
  // Registers are pipeline state: none of their bits reach the datapath megaflow.
  assert.ok(r.wc[W.REG0 + 15]! !== 0, 'the lookup consulted reg15');
  assert.is(r.megaflow.mask.ipv4Src, 0);
});


t('note does nothing; output_reg outputs to the port in the bits; output(max_len) outputs whole', () => {
  const b = bridge('actions=note:01.02,load:3->NXM_NX_REG5[16..31],output:NXM_NX_REG5[16..31],output(port=4,max_len=100)');
  const r = run(b, PKT, { trace: true });
  assert.is(formatDp(r.actions), '3,4');
  assert.ok(r.steps[0]!.notes.some((n) => n.includes('cannot truncate')));
});

t('push and pop: a stack of bit values, last in first out; underflow is noted and skipped', () => {
  const b = bridge('actions=push:NXM_OF_TCP_DST[],push:NXM_OF_IP_SRC[0..7],pop:NXM_NX_REG1[],pop:NXM_NX_REG2[0..7],pop:NXM_NX_REG3[]');
  const r = run(b, PKT, { trace: true });
  assert.is(r.finalFlow[W.REG0 + 1], 1);   // 10.0.0.1 & 0xff
  assert.is(r.finalFlow[W.REG0 + 2], 80);  // tp_dst, low 8 bits
  assert.is(r.finalFlow[W.REG0 + 3], 0);
  assert.ok(r.steps[0]!.notes.includes('stack underflow'));
  // The pushed packet bits are in the megaflow.
  assert.is(r.megaflow.mask.tpDst, 0xffff);
  assert.is(r.megaflow.mask.ipv4Src, 0xff);
});

t('clone: nested actions on a copy; the packet after clone is the one before it', () => {
  const b = bridge('actions=clone(mod_nw_dst:10.9.9.9,load:7->NXM_NX_REG0[],output:2),output:3,output:NXM_NX_REG0[0..15]');
  const r = run(b);
  assert.is(r.error, undefined);
  // reg0 is 0 again after the clone: output to port 0 (no such port) is skipped.
  assert.is(formatDp(r.actions), 'set(ipv4(dst=10.9.9.9)),2,set(ipv4(dst=10.0.0.2)),3');
  assert.is(r.finalFlow[W.REG0], 0);
  const r2 = run(bridge('actions=clone(mod_nw_dst:10.9.9.9,output:2),output:3'));
  assert.is(formatDp(r2.actions), 'set(ipv4(dst=10.9.9.9)),2,set(ipv4(dst=10.0.0.2)),3');
});

t('write_metadata: (metadata & ~mask) | value, before goto_table', () => {
  const b = bridge(`
    table=0,actions=write_metadata:0xff00ff/0xffff,goto_table:1
    table=1,metadata=0xff/0xffff,actions=write_metadata:0x1200000000/0xff00000000,goto_table:2
    table=2,metadata=0x12000000ff,actions=output:5`);
  const r = run(b);
  assert.is(formatDp(r.actions), '5');
  assert.throws(() => loadFlows(b, 'actions=write_metadata:1,output:1'), /apply_actions must appear before write_metadata/);
});

t('controller(userdata, pause): the packet-in carries them; cookies of two such actions differ', () => {
  const b = bridge('actions=controller(userdata=01.02.03),controller(userdata=0a,pause)');
  const seen: { userdata?: Uint8Array; pause?: boolean }[] = [];
  const r = run(b, PKT, { sideEffects: true, onPacketIn: (ev) => seen.push(ev) });
  assert.equal(seen.map((e) => [Array.from(e.userdata ?? []), e.pause ?? false]), [[[1, 2, 3], false], [[10], true]]);
  assert.is.not(r.packetIns[0]!.userspaceCookie, r.packetIns[1]!.userspaceCookie);
  assert.equal(decodeControllerCookie(r.packetIns[1]!.userspaceCookie), { reason: 'action', table: 0, controllerId: 0, maxLen: 65535 });
});

function tcp(src: string, dst: string, sp: number, dp: number): string {
  return `in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=${src},nw_dst=${dst},tp_src=${sp},tp_dst=${dp}`;
}

t('multipath: deterministic, symmetric for symmetric_l4, spread over the links, fields in the megaflow', () => {
  for (const alg of ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash']) {
    const b = bridge(`actions=multipath(symmetric_l4,5,${alg},5,0,NXM_NX_REG0[0..2]),output:NXM_NX_REG0[0..15]`);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) {
      const a = `10.0.${i >> 8}.${i & 0xff}`;
      const fwd = run(b, tcp(a, '10.1.0.1', 1000 + i, 80));
      const rev = run(b, tcp('10.1.0.1', a, 80, 1000 + i).replace('dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02', 'dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01'));
      const link = fwd.finalFlow[W.REG0]!;
      assert.is(rev.finalFlow[W.REG0], link, `${alg}: both directions choose alike`);
      assert.is(run(b, tcp(a, '10.1.0.1', 1000 + i, 80)).finalFlow[W.REG0], link);
      counts[link]!++;
      if (i === 0) {
        assert.is(fwd.megaflow.mask.ipv4Src, 0xffffffff);
        assert.is(fwd.megaflow.mask.tpSrc, 0xffff);
      }
    }
    assert.is(counts[5], 0, `${alg}: links are 0..4`);
    for (let l = 0; l < 5; l++) assert.ok(counts[l]! > 130 && counts[l]! < 270, `${alg}: link ${l} got ${counts[l]} of 1000`);
  }
});

t('bundle: hrw over the live members, active_backup takes the first live one; bundle_load loads it', () => {
  const b = bridge('actions=bundle(symmetric_l4,0,hrw,ofport,members:2,3,4,9)');
  const counts = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const out = formatDp(run(b, tcp(`10.0.${i >> 8}.${i & 0xff}`, '10.1.0.1', 1000 + i, 80)).actions);
    counts.set(out, (counts.get(out) ?? 0) + 1);
  }
  assert.equal([...counts.keys()].sort(), ['2', '3', '4'], 'member 9 is no port of the bridge');
  for (const c of counts.values()) assert.ok(c > 140, `spread: ${[...counts]}`);
  assert.is(formatDp(run(bridge('actions=bundle(eth_src,0,active_backup,ofport,members:9,3,2)')).actions), '3');
  const r = run(bridge('actions=bundle_load(eth_src,0,active_backup,ofport,NXM_NX_REG4[],members:9,2)'));
  assert.is(r.finalFlow[W.REG0 + 4], 2);
  assert.is(run(bridge('actions=bundle_load(eth_src,0,hrw,ofport,NXM_NX_REG4[],members:9)')).finalFlow[W.REG0 + 4], 0xffff);
});

t('conjunction: all clauses at one priority make conj_id=ID match; a higher ordinary flow wins', () => {
  const b = bridge(`
    priority=100,ip,nw_src=10.0.0.1,actions=conjunction(1234,1/2)
    priority=100,ip,nw_src=10.0.0.4,actions=conjunction(1234,1/2),note:00
    priority=100,ip,nw_dst=10.0.0.2,actions=conjunction(1234,2/2)
    priority=100,tcp,tp_dst=80,actions=conjunction(77,1/3)
    priority=100,conj_id=1234,actions=output:2
    priority=100,conj_id=77,actions=output:5
    priority=1,actions=output:3`);
  const pkt = (src: string, dst: string, dport = 80): string => tcp(src, dst, 1000, dport);
  assert.is(formatDp(run(b, pkt('10.0.0.1', '10.0.0.2')).actions), '2');
  assert.is(formatDp(run(b, pkt('10.0.0.4', '10.0.0.2')).actions), '2');
  assert.is(formatDp(run(b, pkt('10.0.0.5', '10.0.0.2')).actions), '3', 'clause 1 missing');
  assert.is(formatDp(run(b, pkt('10.0.0.1', '10.0.0.3')).actions), '3', 'clause 2 missing');
  const r = run(b, pkt('10.0.0.1', '10.0.0.2'));
  assert.is(r.finalFlow[W.CONJ_ID], 0, 'conj_id is set only during the lookup');
  assert.is(r.megaflow.mask.ipv4Src, 0xffffffff);
  assert.is(r.megaflow.mask.ipv4Dst, 0xffffffff);
  b.pipeline.add(parseFlow('priority=200,ip,nw_dst=10.0.0.2,actions=output:4'));
  assert.is(formatDp(run(b, pkt('10.0.0.1', '10.0.0.2')).actions), '4', 'a higher-priority ordinary flow wins');
  // Conjunctive flows are listed, deleted and replaced like any flow.
  assert.is(b.pipeline.allRules(0).filter((x) => x.actions[0]?.type === 'conjunction').length, 4);
  b.pipeline.delete(parseFlow('ip,nw_src=10.0.0.1', 'del'), true);
  assert.is(b.pipeline.allRules(0).filter((x) => x.actions[0]?.type === 'conjunction').length, 4, 'strict delete needs the priority');
  b.pipeline.delete(parseFlow('priority=100,ip,nw_src=10.0.0.1', 'del'), true);
  assert.is(b.pipeline.allRules(0).filter((x) => x.actions[0]?.type === 'conjunction').length, 3);
});

t('conjunction: a modify that turns a flow ordinary moves it out of the conjunctive set', () => {
  const b = bridge(`
    priority=100,ip,nw_src=10.0.0.1,actions=conjunction(1,1/2)
    priority=100,tcp,tp_dst=80,actions=conjunction(1,2/2)
    priority=100,conj_id=1,actions=output:2`);
  assert.is(formatDp(run(b).actions), '2');
  b.pipeline.modify(parseFlow('priority=100,tcp,tp_dst=80,actions=output:5'), true);
  assert.is(formatDp(run(b).actions), '5');
  b.pipeline.modify(parseFlow('priority=100,tcp,tp_dst=80,actions=conjunction(1,2/2)'), true);
  assert.is(formatDp(run(b).actions), '2');
  assert.throws(() => parseFlow('actions=conjunction(1,1/2),output:1'), /along with "note"/);
});

t('learn: adds the flow built from the packet, refreshes it, not in trace; the learned flow forwards', () => {
  let now = 1_000_000;
  const b = new Bridge('br0', { now: () => now });
  for (let i = 1; i <= 3; i++) b.addPort({ name: `p${i}`, ofport: i });
  loadFlows(b, `
    table=0,actions=learn(table=10,idle_timeout=10,priority=5,cookie=0x7,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[]),resubmit(,10),output:NXM_NX_REG0[0..15]
    table=10,priority=0,actions=FLOOD`);
  const A = 'dl_src=02:00:00:00:00:0a,dl_dst=02:00:00:00:00:0b', B = 'dl_src=02:00:00:00:00:0b,dl_dst=02:00:00:00:00:0a';
  const traced = run(b, `in_port=1,${A}`, { trace: true });
  assert.is(traced.learns.length, 1);
  assert.is(b.pipeline.allRules(10).length, 1, 'trace has no side effects');
  const r1 = run(b, `in_port=1,${A}`, { sideEffects: true, now });
  assert.is(formatDp(r1.actions), '2,3');
  assert.is(r1.megaflow.mask.ethSrc, 0xffffffffffff, 'the learned match read dl_src');
  assert.equal(b.pipeline.dumpFlows(10, now).map((l) => l.replace(/duration=[^,]*, /, '')), [
    ' cookie=0x7, table=10, n_packets=0, n_bytes=0, idle_timeout=10, idle_age=0, priority=5,vlan_tci=0x0000/0x0fff,dl_dst=02:00:00:00:00:0a actions=load:0x1->NXM_NX_REG0[0..15],output:1',
    ' cookie=0x0, table=10, n_packets=0, n_bytes=0, idle_age=0, priority=0 actions=FLOOD',
  ]);
  // B -> A now goes to port 1 only, through the learned flow.
  // (the learned flow outputs to 1, then output:reg0 does again: two copies, as OVS would.)
  assert.is(formatDp(run(b, `in_port=2,${B}`, { sideEffects: true, now }).actions), '1,1');
  // The same packet again: refreshed, not replaced (no new generation, timers start over).
  now += 5000;
  const gen = b.pipeline.generation;
  run(b, `in_port=1,${A}`, { sideEffects: true, now });
  assert.is(b.pipeline.generation, gen);
  const learnedA = b.pipeline.allRules(10).find((r) => r.actions.some((a) => a.type === 'output' && a.port === 1))!;
  assert.is(learnedA.used, now);
  assert.is(learnedA.created, now, 'the hard timer starts over');
  // From another port: the learned flow changes.
  run(b, `in_port=3,${A}`, { sideEffects: true, now });
  assert.ok(b.pipeline.dumpFlows(10, now).some((l) => l.includes('dl_dst=02:00:00:00:00:0a actions=load:0x3->NXM_NX_REG0[0..15],output:3')));
  assert.is(b.pipeline.allRules(10).length, 3, 'A and B learned, and the table-miss flow');
});

t('dec_ttl(ids): at TTL 1, packet-ins with reason invalid_ttl to each id, and the action list stops', () => {
  const b = bridge('actions=dec_ttl(1,3),output:2\nip,nw_ttl=9,actions=dec_ttl,output:3');
  const ok = run(b);
  assert.is(formatDp(ok.actions), 'set(ipv4(ttl=63)),2');
  const r = run(b, PKT.replace('nw_ttl=64', 'nw_ttl=1'), { trace: true });
  assert.equal(r.packetIns.map((p) => [p.reason, p.controllerId]), [['invalid_ttl', 1], ['invalid_ttl', 3]]);
  assert.ok(!formatDp(r.actions).includes(',2'), 'no output after the exception');
  assert.ok(r.steps[0]!.notes.includes('IPv4 decrement TTL exception'));
  assert.is(r.megaflow.mask.ipTtl, 0xff);
  const plain = bridge('actions=dec_ttl,output:2');
  assert.equal(run(plain, PKT.replace('nw_ttl=64', 'nw_ttl=0')).packetIns.map((p) => [p.reason, p.controllerId]), [['invalid_ttl', 0]]);
});

t('enqueue outputs to its port (no queues in the datapath); set_queue has no effect', () => {
  const r = run(bridge('actions=set_queue:5,enqueue:3:7,enqueue(4,1)'), PKT, { trace: true });
  assert.is(formatDp(r.actions), '3,4');
  assert.ok(r.steps[0]!.notes.some((n) => n.includes('queue 7 is ignored')));
});

t('multipathLink: every algorithm stays in 0..n-1 for any n (hrw above 64 links iterates), and uses them all', () => {
  for (const n of [1, 2, 3, 64, 65, 1000]) {
    for (const alg of ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'] as const) {
      const seen = new Set<number>();
      for (let i = 0; i < 20 * n; i++) {
        const link = multipathLink(alg, finish(i * 2654435761), n - 1, alg === 'iter_hash' ? n + 1 : 0);
        assert.ok(Number.isInteger(link) && link >= 0 && link < n, `${alg} n=${n}: ${link}`);
        seen.add(link);
      }
      assert.ok(seen.size > n * 0.9, `${alg} n=${n}: ${seen.size} links used`);
    }
  }
});

t('learn(delete_learned): removing the learning flow removes what it learned; without it they stay', () => {
  const b = bridge(`
    priority=10,in_port=1,actions=learn(table=10,delete_learned,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])
    priority=10,in_port=2,actions=learn(table=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])`);
  run(b, PKT, { sideEffects: true });
  run(b, PKT.replace('in_port=1', 'in_port=2').replace('dl_src=02:00:00:00:00:01', 'dl_src=02:00:00:00:00:09'), { sideEffects: true });
  assert.is(b.pipeline.allRules(10).length, 2);
  b.pipeline.delete(parseFlow('priority=10,in_port=1', 'del'), true);
  assert.equal(b.pipeline.allRules(10).map((r) => r.actions.map((a) => a.type === 'output' && a.port)), [[2]], 'only the flow learned without delete_learned is left');
  b.pipeline.delete(parseFlow('priority=10,in_port=2', 'del'), true);
  assert.is(b.pipeline.allRules(10).length, 1);
});

t.run();
