/**
 * Fuzz target of the Nicira flow monitor messages (src/openflow/msg-monitor.ts) through
 * decodeMessage: requests (monitors with NXM matches), replies (full and abbreviated updates
 * with actions), cancel, paused and resumed. Any bytes give a message or an OfpError; what
 * decodes encodes to bytes that decode and encode to the same bytes again (a fixed point).
 */
import { parseFlow } from '../../../src/ofproto/index.ts';
import { decodeMessage, encodeMessage, NXFMF, OfpError, type OfpMessage } from '../../../src/openflow/index.ts';
import { byteInputs } from '../mutate.ts';
import { PropertyViolation, prototypeState, type Target } from '../target.ts';

const KINDS: ReadonlySet<string> = new Set([
  'nx_flow_monitor_request', 'nx_flow_monitor_reply', 'nx_flow_monitor_cancel', 'nx_flow_monitor_paused', 'nx_flow_monitor_resumed',
]);

function seeds(): Uint8Array[] {
  const f = parseFlow('priority=5,tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2,load:3->NXM_NX_REG1[0..7]');
  const full = { reason: 0, priority: 5, idleTimeout: 10, hardTimeout: 0, table: 3, cookie: 7n, match: f.match, actions: f.actions };
  const msgs: OfpMessage[] = [
    { kind: 'nx_flow_monitor_request', monitors: [
      { id: 1, flags: NXFMF.INITIAL | NXFMF.ADD | NXFMF.ACTIONS, outPort: 0xffff, table: 0xff, match: f.match },
      { id: 2, flags: NXFMF.DELETE | NXFMF.OWN, outPort: 3, table: 0, match: parseFlow('actions=drop').match },
    ] },
    { kind: 'nx_flow_monitor_reply', updates: [{ event: 'added', ...full }, { event: 'abbrev', xid: 9 }, { event: 'deleted', ...full, reason: 2, actions: [] }] },
    { kind: 'nx_flow_monitor_cancel', id: 4 }, { kind: 'nx_flow_monitor_paused' }, { kind: 'nx_flow_monitor_resumed' },
  ];
  return msgs.map((m) => encodeMessage(1, 9, m));
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export const monitorTarget: Target<Uint8Array> = {
  name: 'of-monitor',
  encode: (b) => Buffer.from(b).toString('hex'),
  decode: (j) => Uint8Array.from(Buffer.from(j as string, 'hex')),
  inputs: byteInputs,
  isNamed: (e) => e instanceof OfpError,
  state: prototypeState,
  builtSeeds: seeds,
  run(input) {
    let d;
    try { d = decodeMessage(input); } catch (e) { if (e instanceof OfpError) return; throw e; }
    if (!KINDS.has(d.msg.kind)) return;
    let once: Uint8Array, twice: Uint8Array;
    try {
      once = encodeMessage(d.version, d.xid, d.msg, d.more);
      const again = decodeMessage(once);
      twice = encodeMessage(again.version, again.xid, again.msg, again.more);
    } catch (e) {
      throw new PropertyViolation(`${d.msg.kind} decoded but does not encode and decode back: ${(e as Error).message}`);
    }
    if (!same(once, twice)) throw new PropertyViolation(`${d.msg.kind}: its encoding is not stable`);
  },
};
