/**
 * connmgr/resume.ts without a kernel: what NXT_RESUME executes (the frozen frames on the packet
 * as sent back, with the resume's registers), and what it refuses (NXR_STALE, a short frame).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DpAction } from '../../src/datapath/index.ts';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { Match, W, loadFlows, offlineBridge, packetFromText, xlate, type Bridge } from '../../src/ofproto/index.ts';
import { OfpError, decodeContinuation, encodeContinuation, type ResumeMsg } from '../../src/openflow/index.ts';
import { resume } from '../../src/connmgr/resume.ts';
import type { SwitchRuntime } from '../../src/connmgr/switch.ts';
import type { PacketIn } from '../../src/vswitch/index.ts';

const t = suite('connmgr-resume-handler');

function runtime(b: Bridge): SwitchRuntime & { executed: { actions: readonly DpAction[]; inPort: number }[] } {
  const executed: { actions: readonly DpAction[]; inPort: number }[] = [];
  return {
    name: 'br0', ofproto: b, findPort: () => undefined, applyFlowMod: () => { throw new Error('unused'); },
    datapath: { portStats: () => [], execute: (_f: Uint8Array, actions: readonly DpAction[], inPort: number) => { executed.push({ actions, inPort }); } },
    executed,
  } as unknown as SwitchRuntime & { executed: { actions: readonly DpAction[]; inPort: number }[] };
}

const FRAME = Uint8Array.from({ length: 60 }, (_, i) => (i === 12 ? 8 : i === 14 ? 0x45 : 0));

/** The NXT_RESUME a controller would send for the first paused packet-in of `b`. */
function resumeFor(b: Bridge, reg0?: number): ResumeMsg {
  const ev = xlate(b, packetFromText(b, 'in_port=1,ip'), {}).packetIns.find((e) => e.pause)!;
  const match = new Match();
  match.mask[W.IN_PORT] = 0xffffffff; match.value[W.IN_PORT] = ev.flow[W.IN_PORT]!;
  match.mask[W.REG0] = 0xffffffff; match.value[W.REG0] = reg0 ?? ev.flow[W.REG0]!;
  const continuation = encodeContinuation(4, ev.frozen!, ev.flow);
  return { bufferId: 0xffffffff, totalLen: FRAME.length, reason: 1, table: ev.table, cookie: ev.cookie, match, data: FRAME, continuation, frozen: decodeContinuation(4, continuation) };
}

const FLOWS = `
  table=0,in_port=1,actions=load:1->NXM_NX_REG0[],controller(pause),resubmit(,1)
  table=1,reg0=1,actions=output:2
  table=1,reg0=2,actions=output:3,controller(pause,userdata=aa)`;

t('the frozen frames run on the packet sent back, with the registers of the resume; the rules count it', () => {
  const b = offlineBridge('p1=1,p2=2,p3=3');
  loadFlows(b, FLOWS);
  const rt = runtime(b);
  const pins: PacketIn[] = [];
  resume(rt, resumeFor(b), (pi) => pins.push(pi));
  assert.equal(rt.executed.map((e) => formatDp([...e.actions])), ['2']);
  assert.is(rt.executed[0]!.inPort, b.toDp(1));
  assert.is(pins.length, 0);
  assert.is(b.pipeline.allRules(1).find((r) => r.match.value[W.REG0] === 1)!.packets, 1);
  // reg0=2 from the controller: the other flow of table 1, which pauses again.
  resume(rt, resumeFor(b, 2), (pi) => pins.push(pi));
  assert.equal(formatDp([...rt.executed[1]!.actions]), '3');
  assert.is(pins.length, 1);
  assert.ok(pins[0]!.ev.frozen, 'a new continuation');
});

t('a continuation of another bridge is NXR_STALE; so is one without a bridge; a runt frame is OFPBRC_BAD_LEN', () => {
  const a = offlineBridge('p1=1,p2=2,p3=3'), other = offlineBridge('p1=1,p2=2,p3=3');
  loadFlows(a, FLOWS);
  loadFlows(other, FLOWS);
  const m = resumeFor(a);
  const rt = runtime(other);
  const code = (f: () => void): string | undefined => { try { f(); } catch (e) { return e instanceof OfpError ? e.ofperr : String(e); } return undefined; };
  assert.is(code(() => resume(rt, m, () => {})), 'NXR_STALE');
  assert.is(code(() => resume(runtime(a), { ...m, frozen: { ...m.frozen, bridge: new Uint8Array(0) } }, () => {})), 'NXR_STALE');
  assert.is(code(() => resume(runtime(a), { ...m, data: FRAME.subarray(0, 10) }, () => {})), 'OFPBRC_BAD_LEN');
  assert.is(rt.executed.length, 0);
});

t.run();
