/**
 * Port-mod: the real `ovs-ofctl mod-port BR PORT down|up|no-flood|flood` on a bvs bridge.
 * down/up set the netdev's admin state (ip link shows it, dump-ports-desc reads it back);
 * no-flood keeps broadcast ARP (NORMAL flooding) from the port, so a ping to its host fails
 * until flood is restored. A bad port, a wrong hw_addr and config bvs cannot do are refused.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology, type Host } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { rawPeer } from '../openflow/fake-switch.ts';
import { decodeMessage, encodeMessage } from '../../src/openflow/index.ts';

const t = suite('connmgr-portmod');
const topo = new Topology();
const br = `b${topo.tag}`;
let d: DaemonProc;
let h: Host[] = [];

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

/** The config line of `port` in dump-ports-desc. */
async function configOf(port: string): Promise<string> {
  const out = await ok('dump-ports-desc', br); // OpenFlow 1.0: NO_FLOOD exists there only
  const at = out.indexOf(`(${port}):`);
  assert.ok(at >= 0, out);
  return /config:\s+(.*)/.exec(out.slice(at))![1]!.trim();
}

t.before(async () => {
  ({ d, h } = await daemonWithHosts(topo, br, 3));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
});

t('no-flood keeps NORMAL flooding from the port; flood brings it back', async () => {
  const p3 = h[2]!.port;
  await ok('mod-port', br, p3, 'no-flood');
  assert.is(await configOf(p3), 'NO_FLOOD');
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2, 'other ports still flood');
  assert.is(await topo.ping(h[0]!, h[2]!, 2, 0.2), 0, 'ARP never reaches the no-flood port');
  await ok('mod-port', br, p3, 'flood');
  assert.is(await configOf(p3), '0');
  assert.is(await topo.ping(h[0]!, h[2]!, 2, 0.1, 10), 2, 'flooding again');
});

t('down and up set the admin state of the netdev, as ip link and dump-ports-desc show', async () => {
  const p2 = h[1]!.port;
  await ok('-O', 'OpenFlow13', 'mod-port', br, p2, 'down');
  assert.match(execFileSync('ip', ['-o', 'link', 'show', 'dev', p2], { encoding: 'utf8' }), /<(?![^>]*\bUP\b)[^>]*>/);
  assert.match(await configOf(p2), /PORT_DOWN/);
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.2), 0, 'nothing leaves a down port');
  await ok('-O', 'OpenFlow13', 'mod-port', br, p2, 'up');
  assert.is(await configOf(p2), '0');
  assert.is(await topo.ping(h[0]!, h[1]!, 2, 0.1, 10), 2);
});

t('refusals: config bvs cannot do (ovs-ofctl), an unknown port and a wrong hw_addr (raw)', async () => {
  const r = await ofctl('-O', 'OpenFlow13', 'mod-port', br, h[0]!.port, 'no-receive');
  assert.is.not(r.code, 0);
  assert.match(r.err, /OFPPMFC_BAD_CONFIG/, r.err);
  const peer = await rawPeer(path.join(d.runDir, `${br}.mgmt`));
  try {
    peer.send(encodeMessage(4, 1, { kind: 'hello', versions: [4] }));
    const answer = async (xid: number, portNo: number, hwAddr: number): Promise<string> => {
      peer.send(encodeMessage(4, xid, { kind: 'port_mod', portNo, hwAddr, config: 0, mask: 0x10, advertise: 0 }));
      const m = await until('the error', () => peer.frames.map((f) => decodeMessage(f)).find((x) => x.xid === xid));
      return m.msg.kind === 'error' ? m.msg.name ?? '?' : m.msg.kind;
    };
    assert.is(await answer(10, 99, 0), 'OFPPMFC_BAD_PORT');
    assert.is(await answer(11, 1, 0x020000000001), 'OFPPMFC_BAD_HW_ADDR');
  } finally {
    peer.socket.destroy();
  }
});

t.run();
