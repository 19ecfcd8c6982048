/**
 * Continuations (NXPINT_CONTINUATION of NXT_PACKET_IN2) and NXT_RESUME (Nicira type 28).
 *
 * NXT_RESUME's body is NXT_PACKET_IN2's: properties, of which bvs uses the packet (maybe edited
 * by the controller), the metadata (in_port, metadata, registers: the pipeline fields, maybe
 * edited too) and the continuation, which the controller copies from the packet-in unchanged
 * (OVS ofputil_encode_resume). Userdata is not sent back.
 *
 * The continuation is private to the switch that made it, but bvs lays it out as OVS does
 * (ofp-packet.c, enum nx_continuation_prop_type), so that OVS's own printer reads it
 * (`ovs-ofctl monitor` shows continuation.actions=...). It is a property list (type 16, len 16,
 * value, padded to 8), in this order:
 *
 *   0x8000 NXCPT_BRIDGE     16 bytes: freeze.ts bridgeId of the bridge that froze it
 *   0x8001 NXCPT_STACK      one per stack entry, top first: the value, big-endian, 1-16 bytes
 *   0x8004 NXCPT_TABLE_ID   u8: the table of the frames that follow (0 until given)
 *   0x8005 NXCPT_COOKIE     4 bytes pad, be64: their rule cookie (0 until given)
 *   0x8006 NXCPT_ACTIONS    4 bytes pad, then one frame's actions in the message's OpenFlow
 *                           version (actions.ts): one property per frame, innermost first
 *   0x8100 BVSCPT_ACTIONS   bvs's own: one frame's actions as ovs-ofctl text (parse-actions.ts),
 *                           for a frame with an action that version's codec cannot carry
 *                           (clone, learn, note... have no wire form in bvs yet; meter before 1.5)
 *   0x8008 NXCPT_ODP_PORT   u32: the datapath port the packet came in on
 *
 * Decoding takes the bytes as untrusted (they come back from the controller): every length is
 * checked before it is read (OFPBPC_BAD_LEN), unknown or repeated properties are refused
 * (OFPBPC_BAD_TYPE, OFPBPC_DUP_TYPE), the actions go through the same decoders as a flow-mod's
 * (their OFPBAC_* errors), and the text through the flow parser (OFPBPC_BAD_VALUE). Nothing is
 * trusted beyond what a packet-out could do: a forged continuation runs actions the controller
 * could have sent in a packet-out, and one made by another bridge or process is NXR_STALE
 * (connmgr/resume.ts), as in OVS.
 */
import type { OfAction } from '../ofproto/actions.ts';
import type { FrozenFrame, FrozenState } from '../ofproto/freeze.ts';
import { formatActions } from '../ofproto/format.ts';
import { parseActions } from '../ofproto/parse-actions.ts';
import { W, type Words } from '../ofproto/flow.ts';
import { Match } from '../ofproto/match.ts';
import { VLAN_CFI } from '../datapath/index.ts';
import { FlowSyntaxError } from '../ofproto/parse-lex.ts';
import { OfpError } from './errors.ts';
import { Reader, Writer } from './bytes.ts';
import { writeProp } from './action-wire.ts';
import { decodeActions, encodeOne, startContext } from './actions.ts';
import { decodePacketIn2, encodePacketIn2, type PacketInMsg } from './packet-msgs.ts';
import type { OfpVersion } from './version.ts';

const NXCPT = { BRIDGE: 0x8000, STACK: 0x8001, TABLE_ID: 0x8004, COOKIE: 0x8005, ACTIONS: 0x8006, ODP_PORT: 0x8008 } as const;
const BVSCPT_ACTIONS = 0x8100;
const BRIDGE_LEN = 16;
/** The widest stack value bvs pushes (xxreg: 128 bits). */
const MAX_STACK_BYTES = 16;

/** NXT_RESUME: the packet-in it answers (continuation included) and the frozen state decoded. */
export interface ResumeMsg extends PacketInMsg {
  frozen: FrozenState;
}

export function decodeResume(version: OfpVersion, body: Uint8Array): ResumeMsg {
  const m = decodePacketIn2(version, body);
  if (m.data.length === 0) throw new OfpError('OFPBRC_BAD_LEN', 'NXT_RESUME lacks the packet');
  return { ...m, frozen: decodeContinuation(version, m.continuation ?? new Uint8Array(0)) };
}

/** As a controller sends it: the packet-in's properties and its continuation, without userdata. */
export function encodeResume(version: OfpVersion, m: ResumeMsg): Uint8Array {
  const { userdata: _, frozen: __, ...rest } = m;
  return encodePacketIn2(version, rest);
}

/**
 * `flow`, the pipeline's flow at the pause (PacketInEvent.flow), decides the encodings that
 * depend on the packet (mod_tp_dst is tcp_dst or udp_dst; whether a VLAN tag is there).
 */
export function encodeContinuation(version: OfpVersion, f: FrozenState, flow?: Words): Uint8Array {
  const w = new Writer();
  const prop = (type: number, write: () => void): void => writeProp(w, type, write);
  if (f.bridge.length === BRIDGE_LEN) prop(NXCPT.BRIDGE, () => w.bytes(f.bridge)); // none: stale anyway
  for (let i = f.stack.length - 1; i >= 0; i--) prop(NXCPT.STACK, () => w.bytes(bigToBytes(f.stack[i]!)));
  let table = 0, cookie = 0n;
  const match = flow ? contextMatch(flow) : undefined;
  for (const fr of f.frames) {
    if (fr.table !== table) { table = fr.table; prop(NXCPT.TABLE_ID, () => w.u8(table)); }
    if (fr.cookie !== cookie) { cookie = fr.cookie; prop(NXCPT.COOKIE, () => w.pad(4).u64(cookie)); }
    const wire = wireActions(version, fr.actions, match);
    if (wire) prop(NXCPT.ACTIONS, () => w.pad(4).bytes(wire));
    else prop(BVSCPT_ACTIONS, () => w.bytes(new TextEncoder().encode(formatActions(fr.actions))));
  }
  if (f.odpPort !== undefined) prop(NXCPT.ODP_PORT, () => w.u32(f.odpPort!));
  return w.finish();
}

/**
 * The actions in `version`'s wire form, or undefined when one of them has none there (the
 * encoder writes nothing for it) or the result does not decode: such a frame goes as text.
 */
function wireActions(version: OfpVersion, actions: readonly OfAction[], match: Match | undefined): Uint8Array | undefined {
  const w = new Writer();
  const ctx = startContext(match ? { match } : {});
  try {
    for (const a of actions) {
      const before = w.len;
      encodeOne(version, w, a, ctx);
      if (w.len === before) return undefined;
    }
    const bytes = w.finish();
    decodeActions(version, bytes);
    return bytes;
  } catch (e) {
    if (e instanceof OfpError) return undefined;
    throw e;
  }
}

/** The packet's protocol and VLAN presence, as a match (what the action encoders consult). */
function contextMatch(flow: Words): Match {
  const m = new Match();
  for (const [w, mask] of [[W.DL_TYPE, 0xffff], [W.NW_PROTO, 0xff], [W.VLAN_TCI, VLAN_CFI]] as const) {
    m.mask[w] = mask;
    m.value[w] = flow[w]! & mask;
  }
  return m;
}

export function decodeContinuation(version: OfpVersion, bytes: Uint8Array): FrozenState {
  const r = new Reader(bytes, 'OFPBPC_BAD_LEN');
  const f: FrozenState = { bridge: new Uint8Array(0), frames: [], stack: [] };
  const seen = new Set<number>();
  let table = 0, cookie = 0n;
  for (let at = 0; at < bytes.length;) {
    const type = r.u16(at, 'continuation property'), len = r.u16(at + 2, 'continuation property');
    const padded = (len + 7) & ~7;
    if (len < 4 || at + padded > bytes.length) throw new OfpError('OFPBPC_BAD_LEN', `continuation property 0x${type.toString(16)} of length ${len}`);
    const vlen = len - 4, v = at + 4;
    const exact = (n: number): void => {
      if (vlen !== n) throw new OfpError('OFPBPC_BAD_LEN', `continuation property 0x${type.toString(16)} has ${vlen} bytes, wants ${n}`);
    };
    const once = (): void => {
      if (seen.has(type)) throw new OfpError('OFPBPC_DUP_TYPE', `continuation property 0x${type.toString(16)} appears twice`);
      seen.add(type);
    };
    switch (type) {
      case NXCPT.BRIDGE: once(); exact(BRIDGE_LEN); f.bridge = r.sliceAt(v, BRIDGE_LEN).slice(); break;
      case NXCPT.STACK:
        if (vlen > MAX_STACK_BYTES) throw new OfpError('OFPBPC_BAD_LEN', `continuation stack value of ${vlen} bytes`);
        f.stack.unshift(bytesToBig(r.sliceAt(v, vlen)));
        break;
      case NXCPT.TABLE_ID: exact(1); table = r.u8(v); break;
      case NXCPT.COOKIE: exact(12); cookie = r.u64(v + 4); break;
      case NXCPT.ACTIONS:
        if (vlen < 4) throw new OfpError('OFPBPC_BAD_LEN', 'continuation actions property without its padding');
        f.frames.push(frame(table, cookie, decodeActions(version, bytes, v + 4, vlen - 4)));
        break;
      case BVSCPT_ACTIONS: f.frames.push(frame(table, cookie, textActions(r.sliceAt(v, vlen)))); break;
      case NXCPT.ODP_PORT: once(); exact(4); f.odpPort = r.u32(v); break;
      default: throw new OfpError('OFPBPC_BAD_TYPE', `continuation property 0x${type.toString(16)} is unknown`);
    }
    at += padded;
  }
  return f;
}

const frame = (table: number, cookie: bigint, actions: OfAction[]): FrozenFrame => ({ table, cookie, actions });

function textActions(b: Uint8Array): OfAction[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new OfpError('OFPBPC_BAD_VALUE', 'continuation actions are not UTF-8');
  }
  try {
    return parseActions(text);
  } catch (e) {
    if (e instanceof FlowSyntaxError) throw new OfpError('OFPBPC_BAD_VALUE', `continuation actions: ${e.message}`);
    throw e;
  }
}

function bigToBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  do { out.unshift(Number(v & 0xffn)); v >>= 8n; } while (v > 0n && out.length < MAX_STACK_BYTES);
  return Uint8Array.from(out);
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}
