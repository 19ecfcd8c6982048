/**
 * Fuzz target of continuations (src/openflow/msg-resume.ts): the bytes a controller sends back
 * in NXT_RESUME. Byte 0 picks the OpenFlow version; the rest is the continuation. Beyond "a
 * frozen state or an OfpError": what decodes must encode and decode back to the same meaning
 * (frames with their tables, cookies and actions; the stack; the bridge; the port).
 */
import { loadFlows, offlineBridge, packetFromText, xlate, type FrozenState } from '../../../src/ofproto/index.ts';
import { decodeContinuation, encodeContinuation } from '../../../src/openflow/msg-resume.ts';
import type { OfpVersion } from '../../../src/openflow/version.ts';
import { PropertyViolation, type Target } from '../target.ts';
import { meaning, ofActions } from './openflow-body.ts';

const VERSIONS: readonly OfpVersion[] = [1, 4, 5, 6];

/** Pipelines whose pauses seed the corpus: nested frames, cookies, the stack, text frames. */
const PIPELINES = [
  `table=0,cookie=0x10,actions=load:5->NXM_NX_REG0[],push:NXM_NX_REG0[],resubmit(3,1),output:2,clone(output:3)
   table=1,cookie=0x11,actions=controller(pause,userdata=01.02),mod_tp_dst:99,resubmit(,2),output:3`,
  `table=0,actions=controller(pause),set_field:0x5/0xff->metadata,dec_ttl,mod_vlan_vid:7,output:1,group:3`,
  `table=0,cookie=0xffffffffffffffff,actions=resubmit(,200),note:01,output:2
   table=200,actions=controller(pause,max_len=64,id=2),move:NXM_NX_REG1[]->NXM_NX_REG2[],learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])`,
];

function frozenStates(): FrozenState[] {
  return PIPELINES.map((flows) => {
    const b = offlineBridge('p1=1,p2=2,p3=3');
    loadFlows(b, flows);
    return xlate(b, packetFromText(b, 'in_port=1,tcp,nw_ttl=9,tp_dst=80'), {}).packetIns.find((e) => e.pause)!.frozen!;
  });
}

const shown = (f: FrozenState): string => meaning({
  bridge: f.bridge, stack: f.stack, odpPort: f.odpPort ?? null,
  frames: f.frames.map((x) => ({ table: x.table, cookie: x.cookie, actions: x.actions })),
});

export const ofContinuation: Target<Uint8Array> = {
  encode: ofActions.encode,
  decode: ofActions.decode,
  inputs: ofActions.inputs,
  isNamed: ofActions.isNamed,
  state: ofActions.state,
  name: 'of-continuation',
  builtSeeds: () => frozenStates().flatMap((f) => VERSIONS.map((v, i) => Uint8Array.from([i, ...encodeContinuation(v, f)]))),
  run(input) {
    if (input.length === 0) return;
    const v = VERSIONS[input[0]! & 3]!;
    const first = decodeContinuation(v, input.subarray(1));
    let again: FrozenState;
    try {
      again = decodeContinuation(v, encodeContinuation(v, first));
    } catch (e) {
      throw new PropertyViolation(`continuation ${shown(first)} does not encode and decode back: ${(e as Error).message}`);
    }
    if (shown(again) !== shown(first)) throw new PropertyViolation(`continuation ${shown(first)} came back as ${shown(again)}`);
  },
};
