/**
 * Bundles (OpenFlow 1.4 §6.8 and §7.3.9; the ONF extension 230 in 1.3, as OVS): a connection
 * opens a bundle, adds flow-mods to it, and commits them as one change or discards them.
 * OVS's ofproto/bundles.c and ofproto.c handle_bundle_* are the reference, with one
 * difference: opening an id that exists answers OFPBFC_BUNDLE_EXIST as the spec says (OVS
 * answers BAD_ID); both discard the old bundle.
 *
 * Life of a bundle (per connection; gone with it):
 *   - OPEN (or the first ADD of an unknown id) creates it with its flags; CLOSE forbids more
 *     adds; COMMIT applies it; DISCARD drops it. A COMMIT drops it whatever the outcome.
 *   - ADD decodes the inner message first: a message that does not decode, whose xid is not
 *     the outer one, or that is not a flow-mod is refused and the bundle is left as it was
 *     (ovs-ofctl then discards it). Adding to a closed bundle or with other flags refuses and
 *     drops the bundle, as OVS.
 *   - COMMIT applies the flow-mods in order inside BridgeRuntime.atomically(): the first
 *     failure undoes every change made before it, the failing message's error goes out with
 *     that message's xid and bytes, and the commit itself fails with OFPBFC_MSG_FAILED. Every
 *     bundle is applied this way, atomic flag or not (as OVS does for flow-mods), and in order,
 *     ordered flag or not.
 *
 * Not yet bundlable in bvs: port-mods, group-mods and packet-outs (OVS takes them): they are
 * refused at ADD with OFPBFC_MSG_UNSUP. Properties (1.5's scheduled commit) are ignored, and a
 * bundle left open is kept until its connection closes (OVS drops one idle for 10 s).
 */
import {
  decodeFlowMod, decodeMessage, decodeNxFlowMod, encodeMessage, OfpError, OFPBCT, readHeader,
  type BundleAdd, type BundleControl, type Decoded, type FlowModMsg, type OfpVersion,
} from '../openflow/index.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import { applyFlowMod } from './flows.ts';
import type { Session } from './session.ts';

/** Open bundles per connection, and messages per bundle: past these, OUT_OF_BUNDLES / MSG_TOO_MANY. */
export const MAX_BUNDLES = 64;
export const MAX_BUNDLE_MSGS = 1 << 20;
const KNOWN_FLAGS = 0x3;

export type BundleRuntime = Pick<BridgeRuntime, 'applyFlowMod' | 'ofproto' | 'atomically'>;

interface Entry { version: OfpVersion; fm: FlowModMsg; xid: number; frame: Uint8Array }
interface Bundle { flags: number; closed: boolean; entries: Entry[] }

const BUNDLES = new WeakMap<Session, Map<number, Bundle>>();

function bundlesOf(s: Session): Map<number, Bundle> {
  let m = BUNDLES.get(s);
  if (!m) BUNDLES.set(s, m = new Map());
  return m;
}

function create(s: Session, id: number, flags: number): Bundle {
  const all = bundlesOf(s);
  if (flags & ~KNOWN_FLAGS) throw new OfpError('OFPBFC_BAD_FLAGS', `bundle flags 0x${flags.toString(16)}`);
  if (all.size >= MAX_BUNDLES) throw new OfpError('OFPBFC_OUT_OF_BUNDLES', `${all.size} bundles are open on this connection`);
  const b: Bundle = { flags, closed: false, entries: [] };
  all.set(id, b);
  return b;
}

/** The bundle `id`, or OFPBFC_BAD_ID. */
function existing(s: Session, id: number): Bundle {
  const b = bundlesOf(s).get(id);
  if (!b) throw new OfpError('OFPBFC_BAD_ID', `no bundle ${id} on this connection`);
  return b;
}

/** OFPT_BUNDLE_CONTROL: answers with the matching reply, or throws the OfpError to answer. */
export function bundleControl(rt: BundleRuntime, s: Session, d: Decoded, m: BundleControl): void {
  const all = bundlesOf(s);
  const id = m.bundleId;
  let reply: number;
  switch (m.type) {
    case OFPBCT.OPEN_REQUEST:
      if (all.delete(id)) throw new OfpError('OFPBFC_BUNDLE_EXIST', `bundle ${id} exists (discarded)`);
      create(s, id, m.flags);
      reply = OFPBCT.OPEN_REPLY;
      break;
    case OFPBCT.CLOSE_REQUEST: {
      const b = existing(s, id);
      if (b.closed) { all.delete(id); throw new OfpError('OFPBFC_BUNDLE_CLOSED', `bundle ${id} is closed already (discarded)`); }
      if (b.flags !== m.flags) { all.delete(id); throw new OfpError('OFPBFC_BAD_FLAGS', `bundle ${id} was opened with flags ${b.flags}, not ${m.flags} (discarded)`); }
      b.closed = true;
      reply = OFPBCT.CLOSE_REPLY;
      break;
    }
    case OFPBCT.COMMIT_REQUEST: {
      const b = existing(s, id);
      all.delete(id);
      if (b.flags !== m.flags) throw new OfpError('OFPBFC_BAD_FLAGS', `bundle ${id} was opened with flags ${b.flags}, not ${m.flags} (discarded)`);
      commit(rt, s, id, b);
      reply = OFPBCT.COMMIT_REPLY;
      break;
    }
    case OFPBCT.DISCARD_REQUEST:
      existing(s, id);
      all.delete(id);
      reply = OFPBCT.DISCARD_REPLY;
      break;
    default:
      throw new OfpError('OFPBFC_BAD_TYPE', `bundle control type ${m.type}`);
  }
  s.conn.send({ kind: 'bundle_control', bundleId: id, type: reply, flags: 0, props: new Uint8Array(0) }, d.xid);
}

function commit(rt: BundleRuntime, s: Session, id: number, b: Bundle): void {
  let failing: Entry | undefined;
  try {
    rt.atomically(() => {
      let n = 0;
      for (const e of b.entries) { failing = e; n += applyFlowMod(rt, e.version, e.fm).count; }
      failing = undefined;
      return n;
    });
  } catch (err) {
    if (!failing) throw err;
    // As OVS: the failing message's own error, referring to it, then MSG_FAILED for the commit.
    s.conn.sendError(err, failing.xid, failing.frame);
    const i = b.entries.indexOf(failing);
    throw new OfpError('OFPBFC_MSG_FAILED', `message ${i + 1} of ${b.entries.length} in bundle ${id} failed; nothing applied`, { cause: err });
  }
}

/** OFPT_BUNDLE_ADD_MESSAGE: the inner flow-mod joins the bundle, or an OfpError is thrown. */
export function bundleAdd(s: Session, d: Decoded, m: BundleAdd): void {
  const fm = innerFlowMod(s, d, m);
  const all = bundlesOf(s);
  let b = all.get(m.bundleId);
  if (!b) {
    b = create(s, m.bundleId, m.flags);
  } else if (b.closed) {
    all.delete(m.bundleId);
    throw new OfpError('OFPBFC_BUNDLE_CLOSED', `bundle ${m.bundleId} is closed (discarded)`);
  } else if (b.flags !== m.flags) {
    all.delete(m.bundleId);
    throw new OfpError('OFPBFC_BAD_FLAGS', `bundle ${m.bundleId} was opened with flags ${b.flags}, not ${m.flags} (discarded)`);
  }
  if (b.entries.length >= MAX_BUNDLE_MSGS) throw new OfpError('OFPBFC_MSG_TOO_MANY', `bundle ${m.bundleId} holds ${b.entries.length} messages`);
  b.entries.push({ version: d.version, fm, xid: d.xid, frame: encodeMessage(d.version, d.xid, { kind: 'bundle_add_message', ...m }) });
}

function innerFlowMod(s: Session, d: Decoded, m: BundleAdd): FlowModMsg {
  if (readHeader(m.message).xid !== d.xid) throw new OfpError('OFPBFC_MSG_BAD_XID', `inner xid ${readHeader(m.message).xid}, outer ${d.xid}`);
  let inner: Decoded;
  try {
    inner = decodeMessage(m.message);
  } catch (err) {
    // As OVS: a message that does not decode is "unsupported" here, its own error would confuse.
    if (err instanceof OfpError) throw new OfpError('OFPBFC_MSG_UNSUP', `inner message: ${err.message}`, { cause: err });
    throw err;
  }
  const opts = { tableIdExt: s.tableIdExt };
  switch (inner.msg.kind) {
    case 'flow_mod': return decodeFlowMod(inner.version, inner.msg.body, opts);
    case 'nx_flow_mod': return decodeNxFlowMod(inner.version, inner.msg.body, opts);
    case 'port_mod': case 'group_mod': case 'packet_out':
      throw new OfpError('OFPBFC_MSG_UNSUP', `${inner.msg.kind} in a bundle is not supported by bvs yet`);
    default:
      throw new OfpError('OFPBFC_MSG_UNSUP', `${inner.msg.kind} cannot be bundled`);
  }
}
