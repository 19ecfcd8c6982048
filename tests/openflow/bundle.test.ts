// The bundle codec (msg-bundle.ts): ovs-ofctl's ofp-print reads our encodings as we meant
// them (OpenFlow 1.3 ONF, 1.4, 1.5), and the inner message's framing is checked on decode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlow } from '../../src/ofproto/index.ts';
import {
  decodeMessage, encodeFlowMod, encodeMessage, OFPBCT, OfpError, type OfpVersion,
} from '../../src/openflow/index.ts';
import { ofpPrint } from './oracle.ts';

const t = suite('openflow-bundle');
const none = new Uint8Array(0);

function flowMod(v: OfpVersion, xid: number): Uint8Array {
  const fm = parseFlow('priority=5,tcp,tp_dst=80,actions=output:2');
  return encodeMessage(v, xid, { kind: 'flow_mod', body: encodeFlowMod(v, {
    command: 'add', cookie: 0n, cookieMask: 0n, table: 0, idleTimeout: 0, hardTimeout: 0, priority: 5,
    bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0, match: fm.match, actions: fm.actions,
  }) });
}

for (const v of [4, 5, 6] as const) {
  const name = v === 4 ? 'ONFT_BUNDLE_CONTROL' : 'OFPT_BUNDLE_CONTROL';
  t(`OpenFlow 0x0${v}: control messages print as ovs-ofctl's and decode back`, () => {
    for (const [type, text] of [[OFPBCT.OPEN_REQUEST, 'OPEN_REQUEST'], [OFPBCT.COMMIT_REPLY, 'COMMIT_REPLY'], [OFPBCT.DISCARD_REQUEST, 'DISCARD_REQUEST']] as const) {
      const b = encodeMessage(v, 7, { kind: 'bundle_control', bundleId: 0x1234, type, flags: 3, props: none });
      const printed = ofpPrint(b);
      assert.match(printed, name);
      assert.match(printed, `bundle_id=0x1234 type=${text} flags=atomic ordered`);
      assert.equal(decodeMessage(b).msg, { kind: 'bundle_control', bundleId: 0x1234, type, flags: 3, props: none });
    }
  });

  t(`OpenFlow 0x0${v}: an add carrying a flow-mod prints with its flow, and decodes to the same bytes`, () => {
    const inner = flowMod(v, 9);
    const b = encodeMessage(v, 9, { kind: 'bundle_add_message', bundleId: 5, flags: 1, message: inner, props: none });
    const printed = ofpPrint(b);
    assert.match(printed, v === 4 ? 'ONFT_BUNDLE_ADD_MESSAGE' : 'OFPT_BUNDLE_ADD_MESSAGE');
    assert.match(printed, 'bundle_id=0x5 flags=atomic');
    assert.match(printed, 'priority=5,tcp,tp_dst=80 actions=output:2');
    const d = decodeMessage(b);
    assert.equal(d.msg, { kind: 'bundle_add_message', bundleId: 5, flags: 1, message: inner, props: none });
  });
}

t('an add whose inner message is short, overlong or of another version is refused by name', () => {
  const inner = flowMod(5, 9);
  const body = (m: Uint8Array): Uint8Array => {
    const b = encodeMessage(5, 9, { kind: 'bundle_add_message', bundleId: 1, flags: 0, message: inner, props: none });
    const out = new Uint8Array(16 + m.length);
    out.set(b.subarray(0, 16));
    out.set(m, 16);
    new DataView(out.buffer).setUint16(2, out.length);
    return out;
  };
  const refusal = (b: Uint8Array): string => { try { decodeMessage(b); return 'accepted'; } catch (e) { return (e as OfpError).ofperr; } };
  assert.is(refusal(body(inner.subarray(0, 6))), 'OFPBFC_MSG_BAD_LEN');
  const long = inner.slice(); new DataView(long.buffer).setUint16(2, inner.length + 8);
  assert.is(refusal(body(long)), 'OFPBFC_MSG_BAD_LEN');
  const other = inner.slice(); other[0] = 6;
  assert.is(refusal(body(other)), 'OFPBFC_BAD_VERSION');
  // Properties after the padding survive; a few stray bytes too short for padding are ignored.
  const props = Uint8Array.of(0xff, 0xff, 0, 8, 0, 0, 0, 1);
  const withProps = encodeMessage(5, 9, { kind: 'bundle_add_message', bundleId: 1, flags: 0, message: inner, props });
  assert.equal(decodeMessage(withProps).msg, { kind: 'bundle_add_message', bundleId: 1, flags: 0, message: inner, props });
});

t.run();
