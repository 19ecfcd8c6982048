/**
 * Differential test against the real ovs-ofctl (Debian's openvswitch-common 3.1): for each
 * construct bvs learned for issue 10, `ovs-ofctl parse-flow` (which encodes the flow, decodes it
 * and prints it as a switch would show it) and bvs's formatFlow(parseFlow(x)) must print the same.
 * OVS's output depends on the protocol it picks: set_field stays set_field in OpenFlow 1.5 and
 * becomes load in NXM, as it does in bvs, so each case names the protocol to compare with.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { formatFlow, parseFlow } from '../../src/ofproto/index.ts';

const t = suite('ofproto-oracle');

let haveOfctl = true;
try { execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' }); } catch { haveOfctl = false; }

/** [flow text, protocol for ovs-ofctl -O (undefined: its own choice)] */
const CASES: [string, string | undefined][] = [
  // registers reg0-15, xreg0-7, xxreg0-3 as matches, load/move targets and set_field targets
  ['xreg0=5,actions=drop', undefined],
  ['reg8=0x5/0xf,reg15=0,xxreg1=0x1234,actions=drop', undefined],
  ['xreg1=0x100000002/0xffffffff0000000f,actions=move:xreg0[]->xxreg0[0..63],load:0x5->NXM_NX_REG8[]', undefined],
  ['xxreg3=0x1/0x1,actions=load:1->NXM_NX_REG12[],move:NXM_NX_XXREG0[0..63]->OXM_OF_PKT_REG3[],load:0->OXM_OF_METADATA[]', undefined],
  ['reg1=0/0xf,metadata=0,actions=set_field:0->reg2,set_field:0/0xf->reg3,set_field:5->xreg2,set_field:7->reg15,set_field:0x1/0x3->xxreg3', 'OpenFlow15'],
  ['conj_id=5,ip,reg15=3,actions=drop', undefined],
];

for (const [text, proto] of CASES) {
  t(`prints like ovs-ofctl: ${text}`, () => {
    if (!haveOfctl) return;
    const f = parseFlow(text);
    const ours = formatFlow({ ...f, table: f.table ?? 0 });
    const out = execFileSync('ovs-ofctl', [...(proto ? ['-O', proto] : []), 'parse-flow', text], { encoding: 'utf8' });
    const theirs = out.trim().split('\n').pop()!.replace(/^.*?: ADD /, '');
    assert.is(ours, theirs, out);
    // And bvs reads its own output back to the same text.
    const back = parseFlow(ours);
    assert.is(formatFlow({ ...back, table: back.table ?? 0 }), ours);
  });
}

t.run();
