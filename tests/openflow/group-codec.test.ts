/**
 * The group codecs against Debian's ovs-ofctl: what it sends for add-group, mod-group,
 * del-groups, insert/remove-buckets and the group requests decodes to what its text means and
 * encodes back to the same bytes; what bvs encodes for replies (group desc, stats, features)
 * ovs-ofctl ofp-print reads back as the groups it came from. OpenFlow 1.0 (Nicira), 1.3, 1.5.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatGroup, parseGroup, type Group } from '../../src/ofproto/index.ts';
import { decodeMessage, encodeMessage, encodeReplies, type MessageOf } from '../../src/openflow/messages.ts';
import type { GroupDesc, WireBucket } from '../../src/openflow/msg-group.ts';
import { OfpError } from '../../src/openflow/errors.ts';
import { captureOfctl } from './ofctl-capture.ts';
import { hex, ofpPrint } from './oracle.ts';

const t = suite('openflow-groups');
const VERSIONS = [1, 4, 6] as const;
const GROUPS = [
  'group_id=1,type=select,bucket=weight:5,watch_port:2,actions=output:1,bucket=weight:7,actions=dec_ttl,output:3',
  'group_id=2,type=all,bucket=output:1,bucket=dec_ttl,output:2,bucket=group:9',
  'group_id=3,type=indirect,bucket=resubmit(,4)',
  'group_id=4,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_group:3,actions=output:3,bucket=watch_port:4,watch_group:2,actions=drop',
];

const wire = (g: Group): WireBucket[] => g.buckets.map((b) => ({
  id: b.id, weight: b.weight, watchPort: b.watchPort ?? 0xffff, watchGroup: b.watchGroup ?? 0xffffffff, actions: b.actions,
}));
/** What matters of a bucket, comparable across versions (1.3 has no ids; actions by their text). */
const shape = (bs: readonly WireBucket[], ids: boolean): unknown => bs.map((b) => ({ ...b, id: ids ? b.id : 0, actions: undefined }));

for (const v of VERSIONS) {
  t(`OpenFlow 0x0${v}: add-group as ovs-ofctl sends it decodes to its text and re-encodes to the same bytes`, async () => {
    for (const text of GROUPS) {
      const [m] = await captureOfctl(v, ['add-group', 'SOCK', text]);
      const d = decodeMessage(m!.bytes);
      assert.is(d.msg.kind, 'group_mod');
      const gm = d.msg as MessageOf<'group_mod'>;
      const g = parseGroup(text);
      assert.is(gm.command, 0);
      assert.is(gm.type, ['all', 'select', 'indirect', 'ff'].indexOf(g.type));
      assert.is(gm.groupId, g.id);
      assert.equal(shape(gm.buckets, v !== 4), shape(wire(g), v !== 4), text);
      assert.is(hex(encodeMessage(d.version, d.xid, d.msg)), hex(m!.bytes), text);
    }
  });

  t(`OpenFlow 0x0${v}: del-groups, mod-group and the group requests`, async () => {
    const del = decodeMessage((await captureOfctl(v, ['del-groups', 'SOCK']))[0]!.bytes).msg as MessageOf<'group_mod'>;
    assert.equal([del.command, del.groupId, del.buckets.length], [2, 0xfffffffc, 0]);
    const mod = decodeMessage((await captureOfctl(v, ['mod-group', 'SOCK', GROUPS[2]!]))[0]!.bytes).msg as MessageOf<'group_mod'>;
    assert.equal([mod.command, mod.type, mod.buckets.length], [1, 2, 1]);
    // ovs-ofctl 3.1 reads dump-groups' group as a number, dump-group-stats' as group_id=N.
    for (const [cmd, arg, kind] of [['dump-groups', '3', 'group_desc_request'], ['dump-group-stats', 'group_id=3', 'group_stats_request']] as const) {
      const [m] = await captureOfctl(v, [cmd, 'SOCK', arg]);
      const d = decodeMessage(m!.bytes);
      assert.is(d.msg.kind, kind);
      // 1.3's group desc request has no body: it asks for every group.
      assert.is((d.msg as { id: number }).id, kind === 'group_desc_request' && v === 4 ? 0xfffffffc : 3);
      assert.is(hex(encodeMessage(d.version, d.xid, d.msg)), hex(m!.bytes));
    }
  });

  t(`OpenFlow 0x0${v}: group desc, stats and features replies print back in ovs-ofctl`, () => {
    const groups: GroupDesc[] = GROUPS.map((s) => { const g = parseGroup(s); return { type: ['all', 'select', 'indirect', 'ff'].indexOf(g.type), groupId: g.id, buckets: wire(g) }; });
    const [desc] = encodeReplies(v, 7, { kind: 'group_desc_reply', groups });
    const printed = ofpPrint(desc!).split('\n').slice(1).map((l) => l.trim());
    const expect = GROUPS.map((s) => {
      const f = formatGroup(parseGroup(s));
      // 1.1-1.4 carry no bucket ids.
      return v === 4 ? f.replace(/bucket_id:\d+,/g, '') : f;
    });
    assert.equal(printed, expect);
    const back = decodeMessage(desc!).msg as MessageOf<'group_desc_reply'>;
    assert.equal(back.groups.map((g) => shape(g.buckets, true)), groups.map((g) => shape(g.buckets, true)));
    const [stats] = encodeReplies(v, 8, { kind: 'group_stats_reply', groups: [{ groupId: 4, refCount: 2, packetCount: 30n, byteCount: 3000n, durationSec: 5, durationNsec: 0, buckets: [{ packetCount: 10n, byteCount: 1000n }, { packetCount: 20n, byteCount: 2000n }] }] });
    assert.match(ofpPrint(stats!).replace('duration=5.000s', 'duration=5s'), 'group_id=4,duration=5s,ref_count=2,packet_count=30,byte_count=3000,bucket0:packet_count=10,byte_count=1000,bucket1:packet_count=20,byte_count=2000');
    const features = encodeMessage(v, 9, { kind: 'group_features_reply', types: 0xf, capabilities: 7, maxGroups: [1, 2, 3, 4], actions: [1, 1, 1, 1] });
    assert.match(ofpPrint(features), /fast failover group:\s+max_groups=0x4/);
  });
}

t('OpenFlow 1.5: insert-buckets and remove-buckets carry command_bucket_id', async () => {
  const ins = decodeMessage((await captureOfctl(6, ['insert-buckets', 'SOCK', 'group_id=1,command_bucket_id=last,bucket=bucket_id:9,actions=output:4']))[0]!.bytes).msg as MessageOf<'group_mod'>;
  assert.equal([ins.command, ins.commandBucketId, ins.buckets.map((b) => b.id)], [3, 0xfffffffe, [9]]);
  const rm = decodeMessage((await captureOfctl(6, ['remove-buckets', 'SOCK', 'group_id=1,command_bucket_id=9']))[0]!.bytes).msg as MessageOf<'group_mod'>;
  assert.equal([rm.command, rm.commandBucketId, rm.buckets.length], [5, 9, 0]);
});

t('malformed group-mods are named errors: a short bucket, a bad watch_port, a group property', () => {
  const [ok] = [encodeMessage(6, 1, { kind: 'group_mod', command: 0, type: 3, groupId: 1, commandBucketId: 0xffffffff, buckets: [{ id: 0, weight: 0, watchPort: 2, watchGroup: 0xffffffff, actions: [] }] })];
  const bad = (mutate: (b: Uint8Array) => void, name: string): void => {
    const b = ok!.slice();
    mutate(b);
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof OfpError && e.ofperr === name, name);
  };
  bad((b) => { b[25] = 4; }, 'OFPGMFC_BAD_BUCKET'); // bucket length 4
  bad((b) => { new DataView(b.buffer).setUint32(36, 0x00ff0000); }, 'OFPGMFC_BAD_WATCH');
  const withProp = new Uint8Array(ok!.length + 8);
  withProp.set(ok!);
  new DataView(withProp.buffer).setUint16(2, withProp.length);
  new DataView(withProp.buffer).setUint32(ok!.length, 0xffff0008);
  assert.throws(() => decodeMessage(withProp), (e: unknown) => e instanceof OfpError && e.ofperr === 'OFPBPC_BAD_TYPE');
  const v13 = encodeMessage(4, 1, { kind: 'group_mod', command: 2, type: 0, groupId: 1, commandBucketId: 0xffffffff, buckets: [{ id: 0, weight: 0, watchPort: 0xffff, watchGroup: 0xffffffff, actions: [] }] });
  assert.throws(() => decodeMessage(v13), (e: unknown) => e instanceof OfpError && e.ofperr === 'OFPGMFC_INVALID_GROUP');
});

t.run();
