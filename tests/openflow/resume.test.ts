/**
 * Continuations and NXT_RESUME (src/openflow/msg-resume.ts): round trips in every version,
 * OVS's own printer reading our continuation, and untrusted bytes refused by name.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Match, W, formatActions, loadFlows, offlineBridge, packetFromText, xlate, type FrozenState } from '../../src/ofproto/index.ts';
import type { PacketInEvent } from '../../src/ofproto/xlate-ctx.ts';
import { OfpError } from '../../src/openflow/errors.ts';
import { decodeMessage, encodeMessage } from '../../src/openflow/messages.ts';
import { decodeContinuation, encodeContinuation, type ResumeMsg } from '../../src/openflow/msg-resume.ts';
import { encodePacketIn2 } from '../../src/openflow/packet-msgs.ts';
import type { OfpVersion } from '../../src/openflow/version.ts';
import { nxFrame, ofpPrint } from './oracle.ts';

const t = suite('openflow-resume');
const VERSIONS: OfpVersion[] = [1, 4, 5, 6];

function pausedEvent(): PacketInEvent {
  const b = offlineBridge('p1=1,p2=2,p3=3');
  loadFlows(b, `
    table=0,cookie=0x10,actions=load:0xabc->NXM_NX_REG0[],push:NXM_NX_REG0[],resubmit(3,1),output:2,clone(output:3)
    table=1,cookie=0x11,actions=controller(pause,userdata=01.02),mod_tp_dst:99,resubmit(,2),output:3`);
  return xlate(b, packetFromText(b, 'in_port=1,tcp,tp_dst=80'), {}).packetIns[0]!;
}

const shown = (f: FrozenState): unknown => ({
  bridge: Array.from(f.bridge), stack: f.stack, odpPort: f.odpPort,
  frames: f.frames.map((x) => [x.table, x.cookie, formatActions(x.actions)]),
});

const ev = pausedEvent();
const PKT = Uint8Array.from({ length: 60 }, (_, i) => (i === 12 ? 8 : 0));

function pin(continuation: Uint8Array, v: OfpVersion): ResumeMsg {
  const m = new Match();
  m.mask[W.IN_PORT] = 0xffffffff; m.value[W.IN_PORT] = 3;
  m.mask[W.REG0] = 0xffffffff; m.value[W.REG0] = 0xabc;
  return { bufferId: 0xffffffff, totalLen: PKT.length, reason: 1, table: 1, cookie: 0x11n, match: m, data: PKT, continuation, frozen: decodeContinuation(v, continuation) };
}

t('encode-decode keeps the frames, cookies, tables, stack, bridge and port in every version', () => {
  for (const v of VERSIONS) {
    const back = decodeContinuation(v, encodeContinuation(v, ev.frozen!, ev.flow));
    const want = shown(ev.frozen!) as { frames: unknown[][] };
    // The same meaning, spelled as the wire form decodes: mod_tp_dst is set_field in 1.2+, and
    // a whole-field set_field is a reg_load in 1.0.
    want.frames = want.frames.map((f) => [f[0], f[1], v === 1
      ? String(f[2]).replace('set_field:1->in_port', 'load:0x1->NXM_OF_IN_PORT[]')
      : String(f[2]).replace('mod_tp_dst:99', 'set_field:99->tcp_dst')]);
    assert.equal(shown(back), want, `OpenFlow 0x0${v}`);
  }
  assert.equal(ev.frozen!.stack, [0xabcn]);
});

t('ovs-ofctl ofp-print reads the continuation of our NXT_PACKET_IN2 (OVS property layout)', () => {
  for (const v of VERSIONS) {
    const m = pin(encodeContinuation(v, ev.frozen!, ev.flow), v);
    const out = ofpPrint(nxFrame(v, 30, encodePacketIn2(v, m)));
    assert.ok(out.includes('continuation.bridge='), out);
    assert.ok(out.includes('continuation.stack=(top) 0xabc (bottom)'), out);
    assert.match(out, /continuation\.actions=unroll_xlate\(table=1, cookie=17\),(mod_tp_dst:99|set_field:99->tcp_dst),resubmit\(,2\),output:3/);
    assert.ok(out.includes('continuation.odp_port=1'), out);
  }
});

t('NXT_RESUME: a message of its own kind, round trip through the message codec', () => {
  const m = pin(encodeContinuation(4, ev.frozen!, ev.flow), 4);
  const wire = encodeMessage(4, 9, { kind: 'nx_resume', ...m });
  const d = decodeMessage(wire);
  assert.is(d.msg.kind, 'nx_resume');
  const r = d.msg as ResumeMsg & { kind: 'nx_resume' };
  assert.equal(Array.from(r.data), Array.from(PKT));
  assert.is(r.match.value[W.REG0], 0xabc);
  assert.equal(shown(r.frozen), shown(decodeContinuation(4, m.continuation!)));
  assert.ok(ofpPrint(wire).startsWith('NXT_RESUME'), ofpPrint(wire));
});

function refused(bytes: number[] | Uint8Array, name: string, v: OfpVersion = 4): void {
  try {
    decodeContinuation(v, Uint8Array.from(bytes));
  } catch (e) {
    assert.ok(e instanceof OfpError, String(e));
    assert.is((e as OfpError).ofperr, name, (e as Error).message);
    return;
  }
  assert.unreachable(`${name} expected`);
}

const prop = (type: number, value: number[]): number[] => {
  const len = 4 + value.length;
  const out = [type >> 8, type & 0xff, len >> 8, len & 0xff, ...value];
  while (out.length % 8) out.push(0);
  return out;
};

t('untrusted continuations are refused by name', () => {
  refused([0x80], 'OFPBPC_BAD_LEN');
  refused([0x80, 0x00, 0x00, 0x02, 0, 0, 0, 0], 'OFPBPC_BAD_LEN');               // length < 4
  refused([0x80, 0x00, 0x00, 0x30, 0, 0, 0, 0], 'OFPBPC_BAD_LEN');               // past the end
  refused(prop(0x8000, [1, 2, 3]), 'OFPBPC_BAD_LEN');                            // bridge of 3 bytes
  refused([...prop(0x8000, Array(16).fill(1)), ...prop(0x8000, Array(16).fill(1))], 'OFPBPC_DUP_TYPE');
  refused(prop(0x8001, Array(17).fill(1)), 'OFPBPC_BAD_LEN');                    // stack value too wide
  refused(prop(0x8005, [0, 0, 0, 0, 1]), 'OFPBPC_BAD_LEN');                      // short cookie
  refused(prop(0x8002, [0, 0, 0, 1]), 'OFPBPC_BAD_TYPE');                        // mirrors: unknown to bvs
  refused(prop(0x8006, [0, 0, 0, 0, 0xff, 0xff, 0, 8]), 'OFPBAC_BAD_LEN');       // a truncated action
  refused(prop(0x8100, [...Buffer.from('output:')]), 'OFPBPC_BAD_VALUE');         // text that does not parse
  refused(prop(0x8100, [0xff, 0xfe]), 'OFPBPC_BAD_VALUE');                       // not UTF-8
});

t('NXT_RESUME without a packet is OFPBRC_BAD_LEN; a continuation property shorter than its padding too', () => {
  const m = pin(encodeContinuation(4, ev.frozen!, ev.flow), 4);
  assert.throws(() => decodeMessage(encodeMessage(4, 1, { kind: 'nx_resume', ...m, data: new Uint8Array(0) })),
    (e: unknown) => e instanceof OfpError && e.ofperr === 'OFPBRC_BAD_LEN');
  const bad = nxFrame(4, 28, Uint8Array.from([0, 8, 0, 4, 0, 0, 0, 0]));
  assert.throws(() => decodeMessage(bad), (e: unknown) => e instanceof OfpError && e.ofperr === 'OFPBRC_BAD_LEN');
});

t.run();
