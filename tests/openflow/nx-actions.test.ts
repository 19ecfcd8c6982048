// The Nicira actions and register fields against the real ovs-ofctl 3.1, in OpenFlow 1.0 (NXM
// flow-mods where the ofp_match cannot carry the flow), 1.3 and 1.5: what `ovs-ofctl add-flow`
// sends must decode to actions bvs prints as ovs-ofctl prints that same flow-mod, and what bvs
// encodes from them must print (ovs-ofctl ofp-print) as that text again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions, formatMatch } from '../../src/ofproto/index.ts';
import { OfpError } from '../../src/openflow/errors.ts';
import { encodeFlowMod, encodeNxFlowMod, type FlowModMsg } from '../../src/openflow/flow-msgs.ts';
import type { OfpVersion } from '../../src/openflow/version.ts';
import { decodeActions } from '../../src/openflow/actions.ts';
import { decodeOxmMatch, encodeOxmMatch } from '../../src/openflow/match.ts';
import { captureOfctl } from './ofctl-capture.ts';
import { capturedAdd, frame, hex, nxFrame, ofctlParseFlow, ofpPrint } from './oracle.ts';

const t = suite('openflow-nx-actions');

/** Flows every version carries; each names at least one NX action or register view. */
const FLOWS = [
  'reg9=5,actions=load:1->NXM_NX_REG9[],note:01.02,clone(output:1),multipath(eth_src,50,modulo_n,2,0,NXM_NX_REG10[0..1])',
  'reg15=0x10/0xf0,reg8=1,actions=output:NXM_NX_REG12[0..15]',
  'xreg3=0x100000002/0xffff0000ffff,actions=move:OXM_OF_PKT_REG1[]->NXM_NX_XXREG0[0..63],set_field:0x5->reg12',
  'xxreg1=0x10,actions=push:NXM_NX_REG0[],push:OXM_OF_PKT_REG5[8..23],pop:NXM_NX_REG13[0..15],pop:NXM_NX_XXREG3[]',
  'conj_id=5,actions=output:3',
  'actions=controller(userdata=01.02.03,pause)',
  'actions=controller(reason=no_match,id=3,userdata=aa.bb.cc.dd.ee.ff.00.11.22)',
  'actions=controller(max_len=123,pause),controller(reason=invalid_ttl)',
  'ip,actions=dec_ttl(1,2,3),dec_ttl(0),dec_ttl',
  'actions=bundle(eth_src,0,hrw,ofport,members:1,2)',
  'actions=bundle_load(symmetric_l4,5,active_backup,ofport,NXM_NX_REG11[],members:4,8,9)',
  'actions=multipath(symmetric_l3l4+udp,1024,hrw,12,7,NXM_NX_REG15[0..3]),multipath(nw_dst,0,iter_hash,300,3,OXM_OF_PKT_REG2[16..31])',
  'actions=conjunction(7,2/3)',
  'actions=conjunction(7,1/2),note:aa,conjunction(8,2/2)',
  'actions=learn(table=2,idle_timeout=10,priority=5,cookie=0x9,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],NXM_OF_VLAN_TCI[0..11],load:NXM_OF_IN_PORT[]->NXM_NX_REG14[0..15],output:NXM_OF_IN_PORT[])',
  'actions=learn(eth_type=0x800,nw_proto=6,tcp_dst=80,load:0x5->NXM_NX_REG1[0..7],send_flow_rem,delete_learned,fin_idle_timeout=3,fin_hard_timeout=4,hard_timeout=9)',
  'actions=learn(table=3,NXM_NX_REG8[]=NXM_NX_XXREG2[0..31],load:0xabcdef012345->OXM_OF_PKT_REG7[0..47])',
  'actions=enqueue:1:2,set_queue:5,output:2',
  'actions=output:1,write_metadata:0x12',
  'actions=write_metadata:0x5/0xff',
  'actions=output(port=2,max_len=100),output(port=LOCAL,max_len=14)',
  'actions=load:0x1->NXM_NX_XXREG2[],load:0x3->NXM_NX_XXREG1[64..127],set_field:0x5/0xf->xreg6',
  'actions=resubmit(2,5),resubmit(,4),resubmit:7',
  'actions=clone(set_field:5->reg9,resubmit(,3),clone(note:ff)),output:2',
];

/** The text after "actions=" of a printed flow-mod. */
function actionsOf(line: string): string {
  const i = line.indexOf(' actions=');
  if (i < 0) throw new Error(`no actions in ${line}`);
  return line.slice(i + ' actions='.length).trim();
}
/** The match part (between the command word and "actions="), for the register fields. */
function matchOf(line: string): string {
  const head = line.slice(0, line.indexOf(' actions='));
  return head.slice(head.indexOf('ADD') + 3).trim();
}

/** OpenFlow 1.1+ sends enqueue as this triple (OVS encode_ENQUEUE); bvs holds it as the enqueue it is. */
const asEnqueue = (s: string): string => s.replace(/set_queue:(\d+),output:(\w+),pop_queue/g, 'enqueue:$2:$1');

/** Our flow-mod for `m`: OFPT_FLOW_MOD, or in 1.0 NXT_FLOW_MOD when its ofp_match cannot carry it. */
function encodeAdd(v: OfpVersion, m: FlowModMsg): Uint8Array {
  if (v !== 1) return frame(v, 14, encodeFlowMod(v, m));
  try {
    return frame(v, 14, encodeFlowMod(v, m));
  } catch (e) {
    if (!(e instanceof OfpError)) throw e;
    return nxFrame(v, 13, encodeNxFlowMod(v, m));
  }
}

for (const v of [1, 4, 6] as const) {
  t(`OpenFlow 0x0${v}: ovs-ofctl's flows decode to its own text and encode back to it`, async () => {
    for (const text of FLOWS) {
      const theirs = ofctlParseFlow(v, text).line;
      const got = await capturedAdd(v, text);
      assert.is(formatActions(got.actions), asEnqueue(actionsOf(theirs)), `decoded actions of ${text} (OpenFlow 0x0${v})`);
      const ours = ofpPrint(encodeAdd(v, got));
      assert.is(actionsOf(ours), actionsOf(theirs), `re-encoded actions of ${text} (OpenFlow 0x0${v})`);
      assert.is(matchOf(ours), matchOf(theirs), `re-encoded match of ${text} (OpenFlow 0x0${v})`);
      assert.is(formatMatch(got.match, got.priority), matchOf(theirs), `decoded match of ${text}`);
    }
  });
}

t('OpenFlow 1.5 matches carry registers as OXM_OF_PKT_REG, byte for byte as ovs-ofctl sends them', async () => {
  for (const text of ['reg0=1,actions=drop', 'reg3=0x10/0xf0,reg15=7,xxreg1=0x10,actions=drop']) {
    const msgs = await captureOfctl(6, ['add-flow', 'SOCK', text]);
    const fm = msgs.find((m) => m.type === 14)!;
    const body = fm.bytes.subarray(8);
    const { match, size } = decodeOxmMatch(body, 40);
    assert.is(hex(encodeOxmMatch(match, 6)), hex(body.subarray(40, 40 + size)), text);
  }
});

/** One NX action: the 10-byte prefix (type, len, vendor, subtype) and `body`, padded to 8. */
function nx(sub: number, body: number[]): Uint8Array {
  const len = (10 + body.length + 7) & ~7;
  const out = new Uint8Array(len);
  out.set([0xff, 0xff, len >> 8, len & 0xff, 0, 0, 0x23, 0x20, sub >> 8, sub & 0xff, ...body]);
  return out;
}
function refused(f: () => unknown, name: string, what: string): void {
  try { f(); } catch (e) {
    assert.ok(e instanceof OfpError, `${what}: ${String(e)}`);
    assert.is((e as OfpError).ofperr, name, `${what}: ${(e as OfpError).message}`);
    return;
  }
  assert.unreachable(`${what} should be refused`);
}

t('bad NX actions get OVS\'s errors', () => {
  const cat = (...a: Uint8Array[]): Uint8Array => Uint8Array.from(a.flatMap((x) => [...x]));
  refused(() => decodeActions(1, nx(34, [2, 2, 0, 0, 0, 1])), 'NXBAC_BAD_CONJUNCTION', 'clause 3 of 2');
  refused(() => decodeActions(1, cat(nx(34, [0, 2, 0, 0, 0, 1]), nx(18, [0, 0, 0, 0, 0, 0]))), 'NXBAC_BAD_CONJUNCTION', 'conjunction with dec_ttl');
  const wm = nx(22, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0xff]);
  assert.equal(decodeActions(1, wm), [{ type: 'write_metadata', value: 5n, mask: 0xffn }]);
  refused(() => decodeActions(1, cat(wm, nx(18, [0, 0, 0, 0, 0, 0]))), 'OFPBAC_UNSUPPORTED_ORDER', 'write_metadata before dec_ttl');
  refused(() => decodeActions(4, wm), 'OFPBIC_UNSUP_INST', 'NX write_metadata in 1.3');
  refused(() => decodeActions(1, cat(nx(42, [0, 0, 0, 0, 0, 0]), wm).map((b, i) => (i === 3 ? 48 : b))), 'OFPBIC_UNSUP_INST', 'write_metadata in clone');
  refused(() => decodeActions(1, nx(10, [0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 4])), 'OFPBAC_BAD_ARGUMENT', 'multipath fields 9');
  refused(() => decodeActions(1, nx(10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4])), 'OFPBAC_BAD_ARGUMENT', 'multipath: 1 bit for 10 links');
  refused(() => decodeActions(1, nx(12, [0, 5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'OFPBAC_BAD_ARGUMENT', 'bundle algorithm 5');
  refused(() => decodeActions(1, nx(12, [0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'OFPBAC_BAD_LEN', 'bundle: 3 members, no room');
  refused(() => decodeActions(1, nx(16, [...new Array(22).fill(0), 0x18, 0])), 'OFPBAC_BAD_ARGUMENT', 'learn spec dst_type 3');
  refused(() => decodeActions(1, nx(16, [...new Array(22).fill(0), 0, 0, 0, 1])), 'OFPBAC_BAD_ARGUMENT', 'learn: bytes after the specs');
  refused(() => decodeActions(1, nx(27, [0, 0, 0, 1, 0, 4, 0, 8, 0, 0, 0, 0, 0, 1])), 'NXBRC_MUST_BE_ZERO', 'stack push padding');
  refused(() => decodeActions(1, nx(5, [0, 0, 0, 0, 0, 0])), 'OFPBAC_BAD_VENDOR_TYPE', 'a lone pop_queue');
  refused(() => decodeActions(4, nx(4, [0, 0, 0, 0, 0, 1])), 'OFPBAC_BAD_VENDOR_TYPE', 'NXAST_SET_QUEUE in 1.3');
});

t.run();
