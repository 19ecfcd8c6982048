/**
 * controller(pause) and xlateResume (src/ofproto/freeze.ts): what a pause freezes (the frames,
 * innermost first, with their tables and cookies; the stack), that nothing after it is
 * translated, and that resuming the frozen state does what the unpaused pipeline would do.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import {
  Bridge, W, bridgeId, formatActions, loadFlows, offlineBridge, packetFromText, xlate, xlateResume,
  type FrozenState, type XlateResult,
} from '../../src/ofproto/index.ts';
import type { PacketInEvent } from '../../src/ofproto/xlate-ctx.ts';

const t = suite('ofproto-freeze');

const PKT = 'in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1000,tp_dst=80';

function bridge(flows: string): Bridge {
  const b = offlineBridge('p1=1,p2=2,p3=3,p4=4');
  loadFlows(b, flows);
  return b;
}

function paused(b: Bridge, pkt = PKT): { r: XlateResult; ev: PacketInEvent; frozen: FrozenState } {
  const seen: PacketInEvent[] = [];
  const r = xlate(b, packetFromText(b, pkt), { sideEffects: true, onPacketIn: (ev) => seen.push(ev) });
  assert.is(r.error, undefined);
  const ev = seen.find((e) => e.pause);
  assert.ok(ev?.frozen, 'a paused packet-in with a frozen state');
  return { r, ev: ev!, frozen: ev!.frozen! };
}

const frames = (f: FrozenState): [number, bigint, string][] => f.frames.map((x) => [x.table, x.cookie, formatActions(x.actions)]);

/** Resumes `frozen` for the packet `pkt` with the paused packet-in's pipeline fields. */
function resume(b: Bridge, ev: PacketInEvent, frozen: FrozenState, pkt = PKT): XlateResult {
  return xlateResume(b, packetFromText(b, pkt), ev.flow[W.IN_PORT]!, ev.flow, frozen, { sideEffects: true });
}

t('nothing after the pause is translated: the datapath actions end with the userspace action', () => {
  const b = bridge(`
    table=0,actions=mod_nw_tos:16,controller(pause,userdata=01.02),output:2,resubmit(,1)
    table=1,actions=output:3`);
  const { r, ev } = paused(b);
  assert.is(r.actions.length, 2, formatDp(r.actions));
  assert.is(r.actions.at(-1)!.type, 'userspace');
  assert.is(r.actions[0]!.type, 'set_ipv4', 'what ran before the pause is committed before it');
  assert.equal(Array.from(ev.userdata!), [1, 2]);
  assert.equal(r.packetIns.length, 1);
});

t('frames: the rest of each list under way, innermost first, with table, cookie and registers', () => {
  const b = bridge(`
    table=0,cookie=0x10,actions=load:5->NXM_NX_REG0[],resubmit(,1),output:4
    table=1,cookie=0x11,actions=load:6->NXM_NX_REG1[],goto_table:2
    table=2,cookie=0x12,actions=push:NXM_NX_REG0[],controller(pause),note:01,resubmit(,3),write_metadata:0x3/0xff,goto_table:4`);
  const { ev, frozen } = paused(b);
  assert.equal(frames(frozen), [
    [2, 0x12n, 'resubmit(,3),set_field:0x3/0xff->metadata,resubmit(,4)'],
    [0, 0x10n, 'output:4'],
  ], 'goto_table ended table 1 (nothing left there); note is dropped; write_metadata and goto_table become set_field and resubmit');
  assert.equal(frozen.stack, [5n]);
  assert.equal(frozen.bridge, bridgeId(b));
  assert.is(ev.table, 2);
  assert.is(ev.cookie, 0x12n);
  assert.is(ev.flow[W.REG0], 5);
  assert.is(ev.flow[W.REG0 + 1], 6);
});

t('resubmit(port,table): the outer frame gets its in_port back', () => {
  const b = bridge(`
    table=0,in_port=1,actions=resubmit(3,1),output:2
    table=1,in_port=3,actions=controller(pause),output:4`);
  const { ev, frozen } = paused(b);
  assert.is(ev.flow[W.IN_PORT], 3);
  assert.equal(frames(frozen), [[1, 0n, 'output:4'], [0, 0n, 'set_field:1->in_port,output:2']]);
});

t('a pause in clone() or a group bucket freezes that copy only; the rest goes on now', () => {
  const b = bridge(`
    group_id=7,type=all,bucket=actions=controller(pause),output:3
    table=0,actions=clone(controller(pause),output:4),group:7,output:2`);
  const seen: PacketInEvent[] = [];
  const r = xlate(b, packetFromText(b, PKT), { sideEffects: true, onPacketIn: (ev) => seen.push(ev) });
  assert.is(seen.length, 2);
  assert.equal(seen.map((e) => frames(e.frozen!)), [[[0, 0n, 'output:4']], [[0, 0n, 'output:3']]]);
  assert.is(r.actions.at(-1)!.type, 'output', 'output:2 after the clone and the group is translated');
});

t('xlateResume: the frozen frames run; registers come back from the resume; a miss drops', () => {
  const b = bridge(`
    table=0,actions=load:5->NXM_NX_REG0[],controller(pause),resubmit(,1),output:4
    table=1,reg0=5,actions=output:2
    table=1,reg0=9,actions=output:3`);
  const { ev, frozen } = paused(b);
  const r = resume(b, ev, frozen);
  assert.is(r.error, undefined);
  assert.is(formatDp(r.actions), '2,4');
  assert.is(r.finalFlow[W.REG0], 5);
  // The controller may change the registers (OVN's pinctrl writes its results there).
  const edited = ev.flow.slice();
  edited[W.REG0] = 9;
  assert.is(formatDp(xlateResume(b, packetFromText(b, PKT), 1, edited, frozen).actions), '3,4');
});

t('xlateResume: an edited packet is translated as it is now; the stack is restored', () => {
  const b = bridge(`
    table=0,actions=push:NXM_OF_TCP_DST[],controller(pause),pop:NXM_NX_REG2[],resubmit(,1)
    table=1,tcp,tp_dst=80,reg2=80,actions=output:2
    table=1,tcp,tp_dst=81,reg2=80,actions=output:3`);
  const { ev, frozen } = paused(b);
  assert.is(formatDp(resume(b, ev, frozen, PKT.replace('tp_dst=80', 'tp_dst=81')).actions), '3');
});

t('a pause in a resumed run freezes again, and keeps the frames not yet run', () => {
  const b = bridge(`
    table=0,cookie=0x1,actions=resubmit(,1),output:4
    table=1,cookie=0x2,actions=controller(pause),resubmit(,2),output:3
    table=2,cookie=0x3,actions=controller(pause),output:2`);
  const first = paused(b);
  assert.equal(frames(first.frozen), [[1, 0x2n, 'resubmit(,2),output:3'], [0, 0x1n, 'output:4']]);
  const seen: PacketInEvent[] = [];
  const r = xlateResume(b, packetFromText(b, PKT), 1, first.ev.flow, first.frozen, { sideEffects: true, onPacketIn: (e) => seen.push(e) });
  assert.is(r.actions.at(-1)!.type, 'userspace');
  assert.is(seen.length, 1);
  assert.is(seen[0]!.cookie, 0x3n);
  assert.equal(frames(seen[0]!.frozen!), [[2, 0x3n, 'output:2'], [1, 0x2n, 'output:3'], [0, 0x1n, 'output:4']]);
  assert.is(formatDp(resume(b, seen[0]!, seen[0]!.frozen!).actions), '2,3,4');
});

t('a resumed frame keeps its cookie for a later controller action; the pause of a re-translation freezes too', () => {
  const b = bridge('table=3,cookie=0x33,actions=controller(pause),controller(userdata=aa)');
  loadFlows(b, 'table=0,actions=resubmit(,3)');
  const { ev, frozen } = paused(b);
  const seen: PacketInEvent[] = [];
  xlateResume(b, packetFromText(b, PKT), 1, ev.flow, frozen, { sideEffects: true, onPacketIn: (e) => seen.push(e) });
  assert.equal(seen.map((e) => [e.table, e.cookie]), [[3, 0x33n]]);
  // The upcall path re-translates without side effects to find the packet-in: same freeze.
  const again = xlate(b, packetFromText(b, PKT), { sideEffects: false });
  assert.equal(frames(again.packetIns[0]!.frozen!), frames(frozen));
});

t.run();
