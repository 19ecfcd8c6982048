/**
 * A bvs daemon's bridges as OpenFlow switches, driven by the real ovs-ofctl over the bridge's
 * management socket (RUN/BR.mgmt) exactly as users run it against OVS: OVS_RUNDIR=RUN
 * ovs-ofctl CMD BR, in OpenFlow 1.0, 1.3 and 1.5; ports are netns hosts on veths.
 */
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';

const t = suite('connmgr-mgmt');
const topo = new Topology();
const br = `b${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 2));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

const mgmt = () => path.join(d.runDir, `${br}.mgmt`);

t('the management socket is RUN/BR.mgmt, owner-only', () => {
  const st = fs.statSync(mgmt());
  assert.ok(st.isSocket());
  assert.is(st.mode & 0o777, 0o600);
});

for (const v of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
  t(`${v}: show lists the bridge's ports with their numbers, names and MACs`, async () => {
    const out = await ok('-O', v, 'show', br);
    assert.match(out, /OFPT_FEATURES_REPLY .*dpid:[0-9a-f]{16}/);
    assert.match(out, /n_tables:254, n_buffers:0/);
    for (const [i, x] of h.entries()) {
      assert.match(out, new RegExp(` ${i + 1}\\(${x.port}\\): addr:[0-9a-f:]{17}`), out);
    }
    assert.match(out, new RegExp(` LOCAL\\(${br}\\): addr:`), out);
    assert.match(out, /OFPT_GET_CONFIG_REPLY \(.*\): frags=normal miss_send_len=0/, out);
  });
}

t('show unix:RUN/BR.mgmt names the socket directly', async () => {
  assert.match(await ok('show', `unix:${mgmt()}`), /OFPT_FEATURES_REPLY/);
});

t('dump-desc, dump-tables and dump-ports-desc answer from the bridge', async () => {
  assert.match(await ok('dump-desc', br), /Manufacturer: bvs/);
  const tables = await ok('-O', 'OpenFlow13', 'dump-tables', br);
  assert.match(tables, /table 0:\s+active=1,/, tables);
  const pd = await ok('-O', 'OpenFlow15', 'dump-ports-desc', br);
  assert.match(pd, new RegExp(` 1\\(${h[0]!.port}\\):`), pd);
});

t('dump-table-features: every table with its properties, as OpenFlow 1.3 requires', async () => {
  const out = await ok('-O', 'OpenFlow13', 'dump-table-features', br);
  assert.match(out, /table 0 \("classifier"\):/, out.slice(0, 2000));
  assert.match(out, /instructions: .*apply_actions/, out.slice(0, 2000));
});

t('dump-ports counts what the datapath forwarded', async () => {
  assert.is(await topo.ping(h[0]!, h[1]!, 3, 0.1, 10), 3);
  await until('port 1 to count the pings', async () => {
    const out = (await ofctl('-O', 'OpenFlow13', 'dump-ports', br, '1')).out;
    const rx = /port\s+1: rx pkts=(\d+)/.exec(out);
    return rx !== null && Number(rx[1]) >= 3;
  });
});

t('an unsupported request gets an OpenFlow error, and the switch keeps serving', async () => {
  const r = await ofctl('-O', 'OpenFlow13', 'queue-stats', br);
  // ovs-ofctl prints the error it received (and exits 0 for a stats request, as with OVS).
  assert.match(r.out + r.err, /OFPT_ERROR \(OF1\.3\) \(xid=0x[0-9a-f]+\): OFPBRC_BAD_(TYPE|STAT)/, r.out + r.err);
  assert.match(await ok('show', br), /OFPT_FEATURES_REPLY/);
});

t('deleting the bridge removes its management socket', async () => {
  const other = `c${topo.tag}`;
  await d.v('add-br', other);
  const p = path.join(d.runDir, `${other}.mgmt`);
  await until('the new bridge to serve OpenFlow', () => fs.existsSync(p));
  assert.match(await ok('show', other), /OFPT_FEATURES_REPLY/);
  await d.v('del-br', other);
  await until('its socket to go', () => !fs.existsSync(p));
});

t.run();
