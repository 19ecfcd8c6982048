/**
 * The upcall ring (issue 9, D6): records are sized to the packet (256 bytes for a packet of up
 * to ABI.UPCALL_SMALL bytes, 2168 above), the ring is 2 MiB by default or the size asked at
 * create, and a bad size is a named error.
 */
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ABI, LAYOUT } from '../../src/datapath/abi.ts';
import { addon } from '../../src/datapath/addon.ts';
import { Datapath } from '../../src/datapath/index.ts';
import { decodeUpcall } from '../../src/datapath/records.ts';
import { eth } from '../helpers/frames.ts';
import { type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('datapath-ring');
const topo = new Topology();
let dp: Datapath;
let h1: Host;

t.before(() => {
  ({ dp, hosts: [h1] } = topo.withDatapath(`r${topo.tag}`, 1));
});
t.after(() => topo.destroy());

t('a small packet comes up in a 256-byte record, a large one in a full record', async () => {
  const a = addon();
  const fd = a.objGet(path.join(dp.dir, 'upcalls'));
  assert.is(a.mapInfo(fd).maxEntries, ABI.UPCALL_RING_BYTES);
  const recs: Buffer[] = [];
  const ring = a.ringOpen(fd, 64, (r) => { recs.push(...r); });
  try {
    const small = eth({ src: h1.macNum, dst: 0x02aabbccddee }, 0x88b5, new Array(ABI.UPCALL_SMALL - 14).fill(7));
    const large = eth({ src: h1.macNum, dst: 0x02aabbccddee }, 0x88b5, new Array(ABI.UPCALL_SMALL - 13).fill(8));
    topo.inject(h1, [small, large]);
    await waitFor('both upcalls', () => recs.length >= 2);
    assert.equal(recs.map((r) => r.length), [LAYOUT.bvs_upcall.members.data[0] + ABI.UPCALL_SMALL, LAYOUT.bvs_upcall.size]);
    assert.equal(recs.map((r) => Buffer.from(decodeUpcall(r).packet).toString('hex')),
      [small, large].map((f) => Buffer.from(f).toString('hex')), 'each frame whole');
  } finally {
    ring.close();
    a.close(fd);
  }
});

t('the ring size is chosen at create; a size that is not a power of two is refused', () => {
  const name = `s${topo.tag}`;
  const d = Datapath.create(name, { upcallRingBytes: 64 << 10 });
  try {
    const fd = addon().objGet(path.join(d.dir, 'upcalls'));
    assert.is(addon().mapInfo(fd).maxEntries, 64 << 10);
    addon().close(fd);
  } finally {
    d.close();
    Datapath.destroy(name);
  }
  assert.throws(() => Datapath.create(`x${topo.tag}`, { upcallRingBytes: 3000 }), (e: Error & { code?: string }) => e.code === 'BAD_RING_SIZE');
  assert.not.ok(Datapath.exists(`x${topo.tag}`));
});

t.run();
