// The Nicira flow monitor codec (msg-monitor.ts): ofp-print reads our request, updates and
// cancel as we meant them, and malformed requests are refused by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlow } from '../../src/ofproto/index.ts';
import { decodeMessage, encodeMessage, NXFMF, type OfpError } from '../../src/openflow/index.ts';
import { ofpPrint } from './oracle.ts';

const t = suite('openflow-monitor');

t('request: ofp-print shows each monitor', () => {
  const b = encodeMessage(1, 3, { kind: 'nx_flow_monitor_request', monitors: [
    { id: 1, flags: NXFMF.INITIAL | NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY | NXFMF.ACTIONS, outPort: 0xffff, table: 0xff, match: parseFlow('ip,nw_dst=10.0.0.1,actions=drop').match },
    { id: 2, flags: NXFMF.ADD | NXFMF.OWN, outPort: 4, table: 2, match: parseFlow('actions=drop').match },
  ] });
  const p = ofpPrint(b);
  assert.match(p, 'NXST_FLOW_MONITOR request');
  assert.match(p, /id=1 flags=initial,add,delete,modify,actions ip,nw_dst=10\.0\.0\.1/);
  assert.match(p, /id=2 flags=add,own out_port=4 table=2/);
  assert.equal(decodeMessage(b).msg, decodeMessage(encodeMessage(1, 3, decodeMessage(b).msg)).msg);
});

t('reply: full and abbreviated updates print as ovs-ofctl monitor shows them', () => {
  const f = parseFlow('tcp,tp_dst=80,actions=output:2');
  const b = encodeMessage(1, 0, { kind: 'nx_flow_monitor_reply', updates: [
    { event: 'added', reason: 0, priority: 5, idleTimeout: 10, hardTimeout: 0, table: 3, cookie: 0x7n, match: f.match, actions: f.actions },
    { event: 'deleted', reason: 1, priority: 5, idleTimeout: 0, hardTimeout: 0, table: 0, cookie: 0n, match: f.match, actions: [] },
    { event: 'abbrev', xid: 0x42 },
  ] });
  const p = ofpPrint(b);
  assert.match(p, 'event=ADDED table=3 idle_timeout=10 cookie=0x7 tcp,tp_dst=80 actions=output:2');
  assert.match(p, 'event=DELETED reason=hard table=0 cookie=0 tcp,tp_dst=80');
  assert.match(p, 'event=ABBREV xid=0x42');
  assert.match(ofpPrint(encodeMessage(1, 5, { kind: 'nx_flow_monitor_cancel', id: 9 })), 'id=9');
});

t('bad requests are refused by name', () => {
  const good = encodeMessage(1, 3, { kind: 'nx_flow_monitor_request', monitors: [{ id: 1, flags: NXFMF.ADD, outPort: 0xffff, table: 0xff, match: parseFlow('actions=drop').match }] });
  const refusal = (patch: (b: Uint8Array) => void): string => {
    const b = good.slice(); patch(b);
    try { decodeMessage(b); return 'accepted'; } catch (e) { return (e as OfpError).ofperr; }
  };
  // The request starts after the 24-byte nicira stats header: id u32, flags u16 at 28.
  assert.is(refusal((b) => { b[29] = NXFMF.ACTIONS; }), 'OFPMOFC_BAD_FLAGS', 'no ADD/DELETE/MODIFY');
  assert.is(refusal((b) => { b[29] = 0x42; }), 'OFPMOFC_BAD_FLAGS', 'an unknown flag');
  assert.is(refusal((b) => { b[39] = 1; }), 'NXBRC_MUST_BE_ZERO');
});

t.run();
