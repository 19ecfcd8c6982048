/**
 * Mask slot refcounts in the map: putFlow defers a refcount bump of an existing slot to the
 * end of the current synchronous burst (a microtask) or to close(). Another process (here:
 * another Datapath object, as `bvs dpctl` would open) must then see the right count, or its
 * delFlow would free a slot other flows still use. Real kernel maps; the datapath is unique to
 * this run and removed in `after`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath } from '../../src/datapath/datapath.ts';
import { parseFlow } from '../../src/datapath/odp/index.ts';
import { Topology } from '../helpers/netns.ts';

const t = suite('datapath-mask-refcount');
const topo = new Topology();
const DP = `m${topo.tag}`;
let dp: Datapath;

t.before(() => {
  ({ dp } = topo.withDatapath(DP, 0));
});

t.after(() => topo.destroy());

const flow = (port: number) => parseFlow(`in_port(1),eth_type(0x0800),ipv4(proto=17),udp(dst=${port})`);

t('refcount bumps reach the map after the burst: another opener deletes one flow and the slot stays', async () => {
  dp.flushFlows();
  const f1 = flow(1001), f2 = flow(1002), f3 = flow(1003);
  for (const f of [f1, f2, f3]) dp.putFlow(f.key, f.mask, [], 'add');
  await Promise.resolve();
  const other = Datapath.open(DP);
  try {
    other.delFlow(f1.key, f1.mask);
    assert.is(other.maskCount(), 1, 'the slot still has two flows');
    assert.ok(other.getFlow(f2.key, f2.mask), 'flow 2 still installed');
    assert.ok(other.getFlow(f3.key, f3.mask), 'flow 3 still installed');
  } finally {
    other.close();
  }
  dp.reloadMasks();
  assert.is(dp.maskCount(), 1);
  dp.flushFlows();
  assert.is(dp.maskCount(), 0);
});

t('close() writes deferred refcounts before it returns', () => {
  const writer = Datapath.open(DP);
  const f1 = flow(2001), f2 = flow(2002);
  try {
    writer.putFlow(f1.key, f1.mask, [], 'add');
    writer.putFlow(f2.key, f2.mask, [], 'add');
  } finally {
    writer.close();
  }
  const other = Datapath.open(DP);
  try {
    other.delFlow(f1.key, f1.mask);
    assert.is(other.maskCount(), 1, 'one flow left on the slot');
    other.delFlow(f2.key, f2.mask);
    assert.is(other.maskCount(), 0, 'the last flow frees the slot');
  } finally {
    other.close();
  }
});

t.run();
