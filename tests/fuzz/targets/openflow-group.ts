/**
 * Fuzz target of the group codecs (src/openflow/msg-group.ts): group-mod and group desc
 * bodies in the three layouts (OpenFlow 1.0's Nicira one, 1.1-1.4's, 1.5's). Byte 0 picks the
 * version, byte 1 the codec. Whatever decodes must encode and decode back to the same meaning
 * (openflow-body.ts roundTrip), and nothing but an OfpError may escape.
 */
import { parseGroup } from '../../../src/ofproto/index.ts';
import { decodeGroupDescs, decodeGroupMod, encodeGroupDescEntries, encodeGroupMod, type GroupDesc, type WireBucket } from '../../../src/openflow/msg-group.ts';
import type { OfpVersion } from '../../../src/openflow/version.ts';
import type { Target } from '../target.ts';
import { bytesTarget, roundTrip } from './openflow-body.ts';

const VERSIONS: readonly OfpVersion[] = [1, 4, 5, 6];
const GROUPS = [
  'group_id=1,type=select,bucket=weight:5,watch_port:2,actions=output:1,bucket=weight:7,actions=mod_nw_dst:10.0.0.7,output:3',
  'group_id=2,type=all,bucket=output:1,bucket=dec_ttl,output:2,bucket=group:9',
  'group_id=3,type=indirect,bucket=resubmit(,4)',
  'group_id=4,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_group:3,actions=load:1->NXM_NX_REG0[],output:3',
];
const TYPES = ['all', 'select', 'indirect', 'ff'];

function descs(): GroupDesc[] {
  return GROUPS.map((s) => {
    const g = parseGroup(s);
    const buckets: WireBucket[] = g.buckets.map((b) => ({ id: b.id, weight: b.weight, watchPort: b.watchPort ?? 0xffff, watchGroup: b.watchGroup ?? 0xffffffff, actions: b.actions }));
    return { type: TYPES.indexOf(g.type), groupId: g.id, buckets };
  });
}

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const concat = (parts: Uint8Array[]): Uint8Array => cat(...parts);

export const ofGroupMsgs: Target<Uint8Array> = {
  ...bytesTarget,
  name: 'of-group-msgs',
  builtSeeds: () => VERSIONS.flatMap((v, i) => [
    ...descs().map((d, k) => cat(Uint8Array.of(i, 0), encodeGroupMod(v, { command: k === 3 ? 3 : 0, type: d.type, groupId: d.groupId, commandBucketId: k === 3 ? 0xfffffffe : 0xffffffff, buckets: d.buckets }))),
    cat(Uint8Array.of(i, 1), concat(encodeGroupDescEntries(v, { groups: descs() }))),
  ]),
  run(input) {
    if (input.length < 2) return;
    const v = VERSIONS[input[0]! & 3]!, b = input.subarray(2);
    if (input[1]! & 1) {
      roundTrip(`group desc (OpenFlow 0x0${v})`, () => decodeGroupDescs(v, b), (x) => concat(encodeGroupDescEntries(v, x)), (x) => decodeGroupDescs(v, x));
    } else {
      roundTrip(`group mod (OpenFlow 0x0${v})`, () => decodeGroupMod(v, b), (x) => encodeGroupMod(v, x), (x) => decodeGroupMod(v, x));
    }
  },
};
