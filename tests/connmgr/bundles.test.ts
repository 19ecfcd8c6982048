/**
 * Bundles over BR.mgmt: the real `ovs-ofctl --bundle` (OpenFlow 1.4, and 1.3 with ONF's
 * extension) adds, replaces and deletes flows in one commit; a bundle with one flow bvs
 * refuses, or one that fails at commit, leaves the table as it was. The error codes of the
 * bundle state machine are checked with a raw connection speaking our codec.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Topology } from '../helpers/netns.ts';
import { ofctlAt } from './helpers.ts';
import { daemonWithHosts, until, type DaemonProc } from '../daemon/helpers.ts';
import { rawPeer, type RawPeer } from '../openflow/fake-switch.ts';
import {
  decodeMessage, encodeFlowMod, encodeMessage, OFPBCT, type Decoded, type FlowModMsg, type OfpMessage, type OfpVersion,
} from '../../src/openflow/index.ts';
import { parseFlow } from '../../src/ofproto/index.ts';

const t = suite('connmgr-bundles');
const topo = new Topology();
const br = `b${topo.tag}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-bundles-'));
let d: DaemonProc;

const { run: ofctl, ok } = ofctlAt(() => d.runDir);

/** dump-flows lines without the counters and ages that change between dumps. */
const flowsOf = (out: string): string[] => out.split('\n').filter((l) => l.includes('actions='))
  .map((l) => l.replace(/ (duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,/g, '').trim()).sort();

function file(name: string, lines: string[]): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

t.before(async () => {
  ({ d } = await daemonWithHosts(topo, br, 0));
});

t.after(async () => {
  await d?.cleanup();
  topo.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

for (const v of ['OpenFlow14', 'OpenFlow13']) {
  t(`${v}: --bundle add-flows, replace-flows and del-flows`, async () => {
    await ok('-O', v, '--bundle', 'add-flows', br, file('add', [
      'priority=10,ip,nw_dst=10.0.0.1,actions=drop', 'priority=11,tcp,tp_dst=80,actions=NORMAL', 'table=2,priority=1,actions=drop',
    ]));
    const added = flowsOf(await ok('-O', v, 'dump-flows', br));
    assert.is(added.length, 4, added.join('\n'));
    assert.ok(added.some((l) => l.includes('table=2, priority=1 actions=drop')), added.join('\n'));
    const want = ['priority=0 actions=NORMAL', 'priority=20,udp,tp_dst=53 actions=drop'];
    await ok('-O', v, '--bundle', 'replace-flows', br, file('replace', want));
    const replaced = flowsOf(await ok('-O', v, 'dump-flows', br));
    assert.equal(replaced, want.map((w) => `cookie=0x0, table=0, ${w.replace('priority=0 ', 'priority=0 ')}`).sort(), replaced.join('\n'));
    await ok('-O', v, '--bundle', 'del-flows', br, 'udp');
    assert.equal(flowsOf(await ok('-O', v, 'dump-flows', br)), ['cookie=0x0, table=0, priority=0 actions=NORMAL']);
  });
}

t('a bundle with one flow bvs refuses leaves the table unchanged (ovs-ofctl discards it)', async () => {
  const before = flowsOf(await ok('dump-flows', br));
  const r = await ofctl('-O', 'OpenFlow14', '--bundle', 'add-flows', br, file('bad', [
    'priority=30,ip,actions=drop', 'priority=31,ip,actions=ct(commit)', 'priority=32,arp,actions=drop',
  ]));
  assert.is.not(r.code, 0);
  assert.match(r.err, /OFPBAC_BAD_(VENDOR_)?TYPE/, r.err);
  assert.equal(flowsOf(await ok('dump-flows', br)), before);
});

t('a bundle whose commit fails undoes what it applied (adds and deletes) and says which message failed', async () => {
  await ok('add-flow', br, 'priority=40,icmp,actions=drop');
  const before = flowsOf(await ok('dump-flows', br));
  const r = await ofctl('-O', 'OpenFlow14', '--bundle', 'add-flows', br, file('overlap', [
    'add priority=10,ip,nw_dst=10.1.1.1,actions=drop',
    'delete_strict priority=40,icmp',
    'modify priority=0,actions=drop',
    'add check_overlap,priority=10,ip,actions=drop',
  ]));
  assert.is.not(r.code, 0);
  assert.match(r.err, /OFPFMFC_OVERLAP/, r.err);
  assert.match(r.err, /OFPBFC_MSG_FAILED/, r.err);
  assert.equal(flowsOf(await ok('dump-flows', br)), before);
  await ok('--strict', 'del-flows', br, 'priority=40,icmp');
});

// ---- the bundle state machine, message by message, on a raw connection

const V: OfpVersion = 5;
let peer: RawPeer;
let xid = 100;

/** Sends `m` and a barrier; resolves with what came back with `m`'s xid (in order). */
async function ask(m: OfpMessage, x = ++xid): Promise<Decoded[]> {
  const seen = peer.frames.length;
  peer.send(encodeMessage(V, x, m));
  peer.send(encodeMessage(V, x + 10_000, { kind: 'barrier_request' }));
  await until('the barrier reply', () => peer.frames.slice(seen).some((f) => decodeMessage(f).msg.kind === 'barrier_reply'));
  return peer.frames.slice(seen).map((f) => decodeMessage(f)).filter((r) => r.xid === x);
}

/** The one reply's kind, or its error's name. */
async function answer(m: OfpMessage, x = ++xid): Promise<string> {
  const rs = await ask(m, x);
  assert.is(rs.length, 1, JSON.stringify(rs.map((r) => r.msg.kind)));
  const r = rs[0]!;
  return r.msg.kind === 'error' ? r.msg.name ?? `${r.msg.errType}/${r.msg.code}` : r.msg.kind;
}

const ctl = (type: number, bundleId: number, flags = 3): OfpMessage => ({ kind: 'bundle_control', bundleId, type, flags, props: new Uint8Array(0) });

function add(bundleId: number, flow: string, x: number, innerXid = x, flags = 3): OfpMessage {
  const fm = parseFlow(flow);
  const msg: FlowModMsg = {
    command: 'add', cookie: fm.cookie, cookieMask: 0n, table: fm.table ?? 0, idleTimeout: 0, hardTimeout: 0, priority: fm.priority,
    bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0, match: fm.match, actions: fm.actions,
  };
  const inner = encodeMessage(V, innerXid, { kind: 'flow_mod', body: encodeFlowMod(V, msg) });
  return { kind: 'bundle_add_message', bundleId, flags, message: inner, props: new Uint8Array(0) };
}

t('raw: each step of a bundle and each refusal with its OFPBFC code', async () => {
  peer = await rawPeer(path.join(d.runDir, `${br}.mgmt`));
  try {
    peer.send(encodeMessage(V, 1, { kind: 'hello', versions: [V] }));
    const open = await ask(ctl(OFPBCT.OPEN_REQUEST, 7));
    assert.equal(open.map((r) => r.msg), [ctl(OFPBCT.OPEN_REPLY, 7, 0)]);
    let x = ++xid;
    assert.is(await answer(add(7, 'priority=50,arp,actions=drop', x, x + 1), x), 'OFPBFC_MSG_BAD_XID');
    x = ++xid;
    assert.equal(await ask(add(7, 'priority=50,arp,actions=drop', x), x), [], 'an add has no reply');
    assert.is(await answer(ctl(OFPBCT.OPEN_REQUEST, 7)), 'OFPBFC_BUNDLE_EXIST');
    assert.is(await answer(ctl(OFPBCT.CLOSE_REQUEST, 7)), 'OFPBFC_BAD_ID', 'bundle 7 was discarded');
    assert.is(await answer(ctl(OFPBCT.OPEN_REQUEST, 8, 0x10)), 'OFPBFC_BAD_FLAGS');
    assert.is(await answer(ctl(OFPBCT.OPEN_REPLY, 8)), 'OFPBFC_BAD_TYPE');
    // An add opens a bundle implicitly; a commit with other flags drops it.
    x = ++xid;
    assert.equal(await ask(add(9, 'priority=51,arp,actions=drop', x), x), []);
    assert.is(await answer(ctl(OFPBCT.COMMIT_REQUEST, 9, 1)), 'OFPBFC_BAD_FLAGS');
    assert.is(await answer(ctl(OFPBCT.DISCARD_REQUEST, 9)), 'OFPBFC_BAD_ID');
    // Closed: adds are refused (and drop it); a closed bundle commits.
    assert.is(await answer(ctl(OFPBCT.OPEN_REQUEST, 10)), 'bundle_control');
    x = ++xid;
    assert.equal(await ask(add(10, 'priority=52,arp,actions=drop', x), x), []);
    assert.is(await answer(ctl(OFPBCT.CLOSE_REQUEST, 10)), 'bundle_control');
    assert.is(await answer(ctl(OFPBCT.CLOSE_REQUEST, 10)), 'OFPBFC_BUNDLE_CLOSED');
    assert.is(await answer(ctl(OFPBCT.OPEN_REQUEST, 11)), 'bundle_control');
    x = ++xid;
    assert.equal(await ask(add(11, 'priority=53,arp,actions=drop', x), x), []);
    assert.is(await answer(ctl(OFPBCT.CLOSE_REQUEST, 11)), 'bundle_control');
    x = ++xid;
    assert.is(await answer(add(11, 'priority=54,arp,actions=drop', x), x), 'OFPBFC_BUNDLE_CLOSED');
    assert.is(await answer(ctl(OFPBCT.OPEN_REQUEST, 12)), 'bundle_control');
    x = ++xid;
    assert.equal(await ask(add(12, 'priority=55,arp,actions=drop', x), x), []);
    assert.is(await answer(ctl(OFPBCT.CLOSE_REQUEST, 12)), 'bundle_control');
    assert.is(await answer(ctl(OFPBCT.COMMIT_REQUEST, 12)), 'bundle_control');
    const flows = flowsOf(await ok('dump-flows', br));
    assert.ok(flows.some((l) => l.includes('priority=55,arp')), flows.join('\n'));
    assert.not.ok(flows.some((l) => /priority=5[0-4],arp/.test(l)), flows.join('\n'));
    await ok('del-flows', br, 'arp');
  } finally {
    peer.socket.destroy();
  }
});

t.run();
