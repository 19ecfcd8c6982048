/**
 * xlate of the constructs added for issue 10 (registers and the NX actions), on offline
 * bridges: what each does to the flow, the datapath actions, and the megaflow's mask.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import { W, loadFlows, offlineBridge, packetFromText, xlate, type Bridge } from '../../src/ofproto/index.ts';

const t = suite('ofproto-xlate-nx');

function bridge(flows: string): Bridge {
  const b = offlineBridge('p1=1,p2=2,p3=3,p4=4,p5=5');
  loadFlows(b, flows);
  return b;
}

const PKT = 'in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1000,tp_dst=80';

function run(b: Bridge, pkt = PKT, opts = {}): ReturnType<typeof xlate> {
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

t.run();
