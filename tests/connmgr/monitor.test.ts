/**
 * Flow monitors: the real `ovs-ofctl monitor BR watch:` (a child process) sees the initial
 * flows, then every change to the tables whoever makes it: ovs-ofctl on another connection,
 * `bvs ofctl` over NATS, a hard timeout, a bundle (all at once, or nothing when it fails). A
 * raw connection checks what ovs-ofctl cannot show: its own changes come abbreviated to the
 * flow-mod's xid, and cancel/duplicate/bad flags are refused by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, run, until, type DaemonProc } from '../daemon/helpers.ts';
import { rawPeer } from '../openflow/fake-switch.ts';
import { parseFlow } from '../../src/ofproto/index.ts';
import { decodeMessage, encodeFlowMod, encodeMessage, NXFMF, type Decoded, type FlowUpdate, type OfpMessage } from '../../src/openflow/index.ts';

const t = suite('connmgr-monitor');
const topo = new Topology();
const br = `b${topo.tag}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-monitor-'));
let d: DaemonProc;
let mon: ChildProcess | undefined;
let out = '';

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

/** Waits until the monitor has printed a line matching `re` after `from` characters. */
const seen = (what: string, re: RegExp, from = 0): Promise<true> =>
  until(`the monitor to print ${what}`, () => re.test(out.slice(from)) || undefined, 20_000).then(() => true as const);

t.before(async () => {
  ({ d } = await daemonWithHosts(topo, br, 0));
  mon = spawn('ovs-ofctl', ['monitor', br, 'watch:'], { env: { ...process.env, OVS_RUNDIR: d.runDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  mon.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  mon.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  await seen('its initial reply', /NXST_FLOW_MONITOR reply \(xid=0x[1-9a-f][0-9a-f]*\):\n event=ADDED table=0 cookie=0 actions=NORMAL/);
});

t.after(async () => {
  mon?.kill('SIGKILL');
  await d?.cleanup();
  topo.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

t('changes through ovs-ofctl and bvs ofctl (NATS) reach ovs-ofctl monitor: added, modified, deleted', async () => {
  let at = out.length;
  await ok('add-flow', br, 'priority=9,cookie=0x5,ip,nw_dst=10.0.0.9,actions=output:3');
  await seen('the add', /event=ADDED table=0 cookie=0x5 ip,nw_dst=10\.0\.0\.9 actions=output:3/, at);
  at = out.length;
  const r = await run('bin/bvs', ['ofctl', '--run-dir', d.runDir, 'add-flow', br, 'table=4,priority=8,arp,actions=NORMAL']);
  assert.is(r.code, 0, r.stderr);
  await seen('the add over NATS', /event=ADDED table=4 cookie=0 arp actions=NORMAL/, at);
  at = out.length;
  await ok('mod-flows', br, 'ip,actions=drop');
  await seen('the modify', /event=MODIFIED table=0 cookie=\S+ ip,nw_dst=10\.0\.0\.9\n/, at);
  at = out.length;
  await ok('del-flows', br, 'arp');
  await seen('the delete', /event=DELETED reason=delete table=4 cookie=0 arp actions=NORMAL/, at);
  at = out.length;
  await ok('mod-flows', br, 'ip,actions=drop');
  await ok('del-flows', br, 'ip');
  await seen('the second delete', /event=DELETED reason=delete table=0 cookie=\S+ ip,nw_dst=10\.0\.0\.9/, at);
  assert.not.match(out.slice(at), /MODIFIED/, 'a modify that changes nothing is not reported');
});

t('an expiry and a bundle are reported; a failed bundle is not', async () => {
  let at = out.length;
  await ok('add-flow', br, 'priority=7,hard_timeout=1,udp,actions=drop');
  await seen('the expiry', /event=DELETED reason=hard table=0 hard_timeout=1 cookie=0 udp/, at);
  at = out.length;
  const good = path.join(tmp, 'good');
  fs.writeFileSync(good, 'priority=20,tcp,actions=drop\npriority=21,udp,actions=drop\n');
  await ok('-O', 'OpenFlow14', '--bundle', 'add-flows', br, good);
  await seen('both adds of the bundle', /cookie=0 tcp\n[^]*cookie=0 udp\n/, at);
  at = out.length;
  const bad = path.join(tmp, 'bad');
  fs.writeFileSync(bad, 'add priority=30,icmp,actions=drop\ndelete_strict priority=20,tcp\nadd check_overlap,priority=30,ip,actions=drop\n');
  const failed = await ofctl('-O', 'OpenFlow14', '--bundle', 'add-flows', br, bad);
  assert.match(failed.err, /OFPBFC_MSG_FAILED/);
  // A marker change after the failed bundle: once it shows, anything of the bundle would have.
  await ok('del-flows', br, 'udp');
  await seen('the marker', /event=DELETED reason=delete table=0 cookie=0 udp/, at);
  assert.not.match(out.slice(at), /icmp|tcp/, out.slice(at));
  await ok('del-flows', br, 'tcp');
});

t('raw OpenFlow 1.0: own changes are abbreviated to the xid; cancel and refusals', async () => {
  const peer = await rawPeer(path.join(d.runDir, `${br}.mgmt`));
  const got = (from: number): Decoded[] => peer.frames.slice(from).map((f) => decodeMessage(f));
  const send = async (xid: number, m: Parameters<typeof encodeMessage>[2]): Promise<Decoded[]> => {
    const from = peer.frames.length;
    peer.send(encodeMessage(1, xid, m));
    peer.send(encodeMessage(1, xid + 1000, { kind: 'barrier_request' }));
    await until('the barrier reply', () => got(from).some((x) => x.msg.kind === 'barrier_reply'));
    return got(from).filter((x) => x.msg.kind !== 'barrier_reply');
  };
  const monitor = (id: number, flags: number, flow = 'actions=drop'): OfpMessage =>
    ({ kind: 'nx_flow_monitor_request', monitors: [{ id, flags, outPort: 0xffff, table: 0xff, match: parseFlow(flow).match }] });
  const fm = (flow: string) => {
    const f = parseFlow(flow);
    return { kind: 'flow_mod', body: encodeFlowMod(1, {
      command: 'add', cookie: 0n, cookieMask: 0n, table: 0, idleTimeout: 0, hardTimeout: 0, priority: f.priority, bufferId: 0xffffffff,
      outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0, match: f.match, actions: f.actions,
    }) } as const;
  };
  const updates = (ds: Decoded[]): FlowUpdate[] => ds.flatMap((x) => (x.msg.kind === 'nx_flow_monitor_reply' ? x.msg.updates : []));
  try {
    peer.send(encodeMessage(1, 1, { kind: 'hello', versions: [1] }));
    await until('the hello', () => peer.frames.length > 0);
    const initial = await send(10, monitor(1, NXFMF.ADD | NXFMF.DELETE, 'ip,actions=drop'));
    assert.equal(initial.map((x) => [x.xid, x.msg.kind]), [[10, 'nx_flow_monitor_reply']], 'no INITIAL: an empty reply');
    assert.equal(updates(initial), []);
    assert.equal(updates(await send(20, fm('priority=40,ip,nw_src=10.1.0.0/16,actions=drop'))), [{ event: 'abbrev', xid: 20 }]);
    assert.equal(updates(await send(30, fm('priority=41,arp,actions=drop'))), [], 'arp is not within ip');
    const dup = (await send(41, monitor(1, NXFMF.ADD)))[0]!.msg;
    assert.is(dup.kind === 'error' && dup.name, 'OFPMOFC_MONITOR_EXISTS');
    const bad = (await send(42, monitor(2, NXFMF.ACTIONS)))[0]!.msg;
    assert.is(bad.kind === 'error' && bad.name, 'OFPMOFC_BAD_FLAGS');
    // NXFMF_OWN: own changes in full, with actions when asked.
    await send(50, monitor(3, NXFMF.INITIAL | NXFMF.ADD | NXFMF.OWN | NXFMF.ACTIONS, 'ip,actions=drop'));
    const own = updates(await send(51, fm('priority=42,ip,nw_src=10.2.0.0/16,actions=output:2')));
    assert.is(own.length, 1, JSON.stringify(own, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    assert.ok(own[0]!.event === 'added' && own[0]!.priority === 42 && own[0]!.actions.length === 1);
    assert.equal((await send(60, { kind: 'nx_flow_monitor_cancel', id: 3 })), []);
    const gone = (await send(61, { kind: 'nx_flow_monitor_cancel', id: 3 }))[0]!.msg;
    assert.is(gone.kind === 'error' && gone.name, 'OFPMOFC_UNKNOWN_MONITOR');
    await ok('del-flows', br, 'ip');
    await ok('del-flows', br, 'arp');
  } finally {
    peer.socket.destroy();
  }
});

t.run();
