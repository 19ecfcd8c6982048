/**
 * Groups through the OpenFlow channel: the real ovs-ofctl adds, modifies, dumps and deletes
 * groups on a bvs daemon's bridge over BR.mgmt in OpenFlow 1.0 (Nicira), 1.3 and 1.5; refusals
 * come back as OFPGMFC errors with nothing applied; and traffic follows the groups: a select
 * group forwards pings, a fast failover group moves to its second bucket when the watched
 * port's link goes down, and the buckets' counters come from the datapath.
 *
 * Topology: h1, h2, h3 on ports 1-3. h3 also owns h2's address, so a ping from h1 to h2's
 * address is answered whichever of ports 2 and 3 the group chooses (the bucket towards h3
 * rewrites the destination MAC to h3's).
 */
import { writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';

const t = suite('connmgr-groups');
const topo = new Topology();
const br = `b${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { run: ofctl, ok } = ofctlAt(() => d.runDir);
const groupLines = (out: string): string[] => out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('group_id='));

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 3));
  topo.staticArp();
  topo.inNs(h[2]!, ['ip', 'addr', 'add', `${h[1]!.ip}/32`, 'dev', 'eth0']);
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

const G1 = 'group_id=1,type=select,bucket=weight:5,watch_port:2,actions=output:2,bucket=weight:7,actions=output:3';
for (const [v, bucketIds] of [['OpenFlow10', true], ['OpenFlow13', false], ['OpenFlow15', true]] as const) {
  t(`${v}: add-group, mod-group, dump-groups, dump-group-stats, del-groups`, async () => {
    await ok('-O', v, 'add-group', br, G1);
    const ids = bucketIds ? ['bucket_id:0,', 'bucket_id:1,'] : ['', ''];
    assert.equal(groupLines(await ok('-O', v, 'dump-groups', br)),
      [`group_id=1,type=select,bucket=${ids[0]}weight:5,watch_port:2,actions=output:2,bucket=${ids[1]}weight:7,actions=output:3`]);
    await ok('-O', v, 'mod-group', br, 'group_id=1,type=indirect,bucket=output:3');
    assert.equal(groupLines(await ok('-O', v, 'dump-groups', br)), [`group_id=1,type=indirect,bucket=${ids[0]}actions=output:3`]);
    assert.match(await ok('-O', v, 'dump-group-stats', br), /group_id=1,duration=[\d.]+s,ref_count=0,packet_count=0,byte_count=0,bucket0:packet_count=0,byte_count=0/);
    await ok('-O', v, 'del-groups', br);
    assert.equal(groupLines(await ok('-O', v, 'dump-groups', br)), []);
  });
}

t('OpenFlow 1.3: add-groups from a file, dump-group-features, del-groups of one group', async () => {
  const file = `${d.runDir}/groups.txt`;
  writeFileSync(file, 'group_id=7,type=all,bucket=output:1,bucket=output:2\ngroup_id=8,type=ff,bucket=watch_port:2,actions=output:2\n');
  await ok('-O', 'OpenFlow13', 'add-groups', br, file);
  assert.is(groupLines(await ok('-O', 'OpenFlow13', 'dump-groups', br)).length, 2);
  const f = await ok('-O', 'OpenFlow13', 'dump-group-features', br);
  assert.match(f, /Types:\s+0xf/);
  assert.match(f, /fast failover group:\s+max_groups=0xffffff00/);
  await ok('-O', 'OpenFlow13', 'del-groups', br, 'group_id=7');
  assert.equal(groupLines(await ok('-O', 'OpenFlow13', 'dump-groups', br)), ['group_id=8,type=ff,bucket=watch_port:2,actions=output:2']);
  await ok('-O', 'OpenFlow13', 'del-groups', br);
});

t('OpenFlow 1.5: insert-buckets and remove-buckets', async () => {
  await ok('-O', 'OpenFlow15', 'add-group', br, 'group_id=3,type=all,bucket=bucket_id:10,actions=output:1');
  await ok('-O', 'OpenFlow15', 'insert-buckets', br, 'group_id=3,command_bucket_id=first,bucket=bucket_id:5,actions=output:2');
  await ok('-O', 'OpenFlow15', 'insert-buckets', br, 'group_id=3,command_bucket_id=last,bucket=bucket_id:20,actions=output:3');
  assert.equal(groupLines(await ok('-O', 'OpenFlow15', 'dump-groups', br)),
    ['group_id=3,type=all,bucket=bucket_id:5,actions=output:2,bucket=bucket_id:10,actions=output:1,bucket=bucket_id:20,actions=output:3']);
  await ok('-O', 'OpenFlow15', 'remove-buckets', br, 'group_id=3,command_bucket_id=10');
  assert.equal(groupLines(await ok('-O', 'OpenFlow15', 'dump-groups', br)),
    ['group_id=3,type=all,bucket=bucket_id:5,actions=output:2,bucket=bucket_id:20,actions=output:3']);
  const dup = await ofctl('-O', 'OpenFlow15', 'insert-buckets', br, 'group_id=3,command_bucket_id=last,bucket=bucket_id:5,actions=output:1');
  assert.match(dup.err, /OFPGMFC_BUCKET_EXISTS/, dup.err);
  const unknown = await ofctl('-O', 'OpenFlow15', 'remove-buckets', br, 'group_id=3,command_bucket_id=99');
  assert.match(unknown.err, /OFPGMFC_UNKNOWN_BUCKET/, unknown.err);
  await ok('-O', 'OpenFlow15', 'del-groups', br);
});

t('refusals: OFPGMFC errors name the cause and apply nothing', async () => {
  await ok('-O', 'OpenFlow13', 'add-group', br, 'group_id=1,type=all,bucket=output:1');
  const cases: [string[], RegExp][] = [
    [['add-group', br, 'group_id=1,type=all,bucket=output:2'], /OFPGMFC_GROUP_EXISTS/],
    [['mod-group', br, 'group_id=9,type=all,bucket=output:2'], /OFPGMFC_UNKNOWN_GROUP/],
    [['add-group', br, 'group_id=2,type=all,bucket=watch_port:1,actions=output:2'], /OFPGMFC_WATCH_UNSUPPORTED/],
    [['add-group', br, 'group_id=2,type=indirect'], /OFPGMFC_INVALID_GROUP/],
    [['mod-group', br, 'group_id=1,type=all,bucket=group:1'], /OFPGMFC_LOOP/],
  ];
  for (const [args, want] of cases) {
    const r = await ofctl('-O', 'OpenFlow13', ...args);
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.err, want, r.err);
  }
  assert.equal(groupLines(await ok('-O', 'OpenFlow13', 'dump-groups', br)), ['group_id=1,type=all,bucket=actions=output:1']);
  const missing = await ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=5,ip,actions=group:42');
  assert.match(missing.err, /OFPBAC_BAD_OUT_GROUP/, missing.err);
  // Deleting a group deletes the flows that use it, as OVS does.
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'priority=5,udp,actions=group:1');
  assert.match(await ok('-O', 'OpenFlow13', 'dump-group-stats', br), /ref_count=1/);
  await ok('-O', 'OpenFlow13', 'del-groups', br, 'group_id=1');
  assert.not.match(await ok('dump-flows', br), /group:1/);
  assert.match(await ok('show', br), /OFPT_FEATURES_REPLY/, 'still serving');
});

/** Flows steering h1's IP traffic into group 1 and every reply back to port 1. */
async function steer(group: string): Promise<void> {
  await ok('-O', 'OpenFlow13', 'add-group', br, group);
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'priority=100,in_port=1,ip,actions=group:1');
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'priority=100,in_port=2,ip,actions=output:1');
  await ok('-O', 'OpenFlow13', 'add-flow', br, 'priority=100,in_port=3,ip,actions=output:1');
}

async function unsteer(): Promise<void> {
  await ok('-O', 'OpenFlow13', 'del-groups', br); // and the flow using it
  await ok('-O', 'OpenFlow13', 'del-flows', br, 'ip');
}

/** Bucket i's packet count in dump-group-stats. */
async function bucketPackets(i: number): Promise<number> {
  const m = new RegExp(`bucket${i}:packet_count=(\\d+)`).exec(await ok('-O', 'OpenFlow13', 'dump-group-stats', br, 'group_id=1'));
  return m ? Number(m[1]) : -1;
}

t('a select group forwards pings; its counters come from the datapath', async () => {
  const mac3 = h[2]!.mac;
  await steer(`group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:1,actions=mod_dl_dst:${mac3},output:3`);
  try {
    assert.is(await topo.ping(h[0]!, h[1]!, 4, 0.1, 10), 4);
    await until('the group to count the pings', async () => (await bucketPackets(0)) + (await bucketPackets(1)) >= 4);
    assert.match(await ok('-O', 'OpenFlow15', 'dump-group-stats', br), /group_id=1,.*ref_count=1,packet_count=[4-9]/);
  } finally {
    await unsteer();
  }
});

t('fast failover: the watched port link goes down, traffic moves to the next bucket', async () => {
  const mac3 = h[2]!.mac;
  await steer(`group_id=1,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=mod_dl_dst:${mac3},output:3`);
  try {
    assert.is(await topo.ping(h[0]!, h[1]!, 3, 0.1, 10), 3);
    await until('bucket 0 to count the pings', async () => (await bucketPackets(0)) >= 3);
    assert.is(await bucketPackets(1), 0);
    const down = Date.now();
    topo.inNs(h[1]!, ['ip', 'link', 'set', 'eth0', 'down']);
    await until('h3 to answer for h2', async () => (await topo.ping(h[0]!, h[1]!, 1, 0.1, 1)) === 1, 15_000);
    // The link watcher polls every second (linkPollMs): failover takes up to that plus a pass.
    console.log(`  fast failover: h3 answered ${Date.now() - down} ms after h2's link went down`);
    await until('bucket 1 to count the pings', async () => (await bucketPackets(1)) >= 1);
  } finally {
    topo.inNs(h[1]!, ['ip', 'link', 'set', 'eth0', 'up']);
    await unsteer();
  }
});

t.run();
