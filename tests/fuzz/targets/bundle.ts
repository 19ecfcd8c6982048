/**
 * Fuzz target of the bundle messages (src/openflow/msg-bundle.ts) as the switch meets them:
 * whole frames through decodeMessage, and for an add, its inner message too (decodeMessage,
 * then the flow-mod decoder, as src/connmgr/bundles.ts does). Any bytes give a result or an
 * OfpError; what decodes encodes (same version and xid) to bytes that decode to the same.
 * Seeds: control and add frames of OpenFlow 1.3 (ONF 2300/2301), 1.4 and 1.5.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseFlow } from '../../../src/ofproto/index.ts';
import {
  decodeFlowMod, decodeMessage, encodeFlowMod, encodeMessage, OfpError, type OfpMessage, type OfpVersion,
} from '../../../src/openflow/index.ts';
import { byteInputs } from '../mutate.ts';
import { PropertyViolation, prototypeState, type Target } from '../target.ts';

const VERSIONS: readonly OfpVersion[] = [4, 5, 6];

function seeds(): Uint8Array[] {
  const fm = parseFlow('priority=5,tcp,tp_dst=80,actions=output:2');
  const body = (v: OfpVersion) => encodeFlowMod(v, {
    command: 'add', cookie: 0n, cookieMask: 0n, table: 0, idleTimeout: 0, hardTimeout: 0, priority: fm.priority,
    bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: 0, importance: 0, match: fm.match, actions: fm.actions,
  });
  return VERSIONS.flatMap((v) => {
    const inner = encodeMessage(v, 9, { kind: 'flow_mod', body: body(v) });
    const msgs: OfpMessage[] = [
      { kind: 'bundle_control', bundleId: 1, type: 0, flags: 3, props: new Uint8Array(0) },
      { kind: 'bundle_control', bundleId: 0xffffffff, type: 4, flags: 1, props: Uint8Array.of(0, 1, 0, 8, 0, 0, 0, 7) },
      { kind: 'bundle_add_message', bundleId: 1, flags: 3, message: inner, props: new Uint8Array(0) },
      { kind: 'bundle_add_message', bundleId: 2, flags: 0, message: encodeMessage(v, 9, { kind: 'barrier_request' }), props: Uint8Array.of(0xff, 0xff, 0, 4) },
    ];
    return msgs.map((m) => encodeMessage(v, 9, m));
  });
}

/** Decodes `b` as the switch would; OfpError means refused (fine), anything else escapes. */
function decodeAll(b: Uint8Array): unknown[] | undefined {
  try {
    const d = decodeMessage(b);
    const out: unknown[] = [d];
    if (d.msg.kind === 'bundle_add_message') {
      const inner = decodeMessage(d.msg.message);
      out.push(inner);
      if (inner.msg.kind === 'flow_mod') out.push(decodeFlowMod(inner.version, inner.msg.body));
    }
    return out;
  } catch (e) {
    if (e instanceof OfpError) return undefined;
    throw e;
  }
}

export const bundleTarget: Target<Uint8Array> = {
  name: 'of-bundle',
  encode: (b) => Buffer.from(b).toString('hex'),
  decode: (j) => Uint8Array.from(Buffer.from(j as string, 'hex')),
  inputs: byteInputs,
  isNamed: (e) => e instanceof OfpError,
  state: prototypeState,
  builtSeeds: seeds,
  run(input) {
    let d;
    try { d = decodeMessage(input); } catch (e) { if (e instanceof OfpError) return; throw e; }
    if (d.msg.kind !== 'bundle_control' && d.msg.kind !== 'bundle_add_message') return;
    const first = decodeAll(input);
    const again = decodeAll(encodeMessage(d.version, d.xid, d.msg, d.more));
    if (!isDeepStrictEqual(first, again)) throw new PropertyViolation(`${d.msg.kind} does not come back the same after encoding`);
  },
};
