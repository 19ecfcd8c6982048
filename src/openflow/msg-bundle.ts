/**
 * Bundle messages (OpenFlow 1.4 §7.3.9; in 1.3 the ONF extension 230 that OVS speaks, ONFT
 * 2300/2301, with the same bodies after the experimenter header). Both bodies start with
 * ofp14_bundle_ctrl_msg: bundle_id u32, type u16 (OFPBCT_*; unused in an add), flags u16
 * (OFPBF_*). A control message may carry properties after it; an add carries one whole
 * OpenFlow message (its own ofp_header, whose length says where it ends), then, only when
 * properties follow, padding to 8 bytes, then the properties.
 *
 * Properties are kept as bytes: bvs, like OVS, acts on none (1.5's scheduled commit is the only
 * standard one; the connection refuses nothing for them). The inner message is checked for
 * what the framing can say (its length and version); its xid is compared with the outer one by
 * the switch, which knows it, and its body is decoded there, because a flow-mod's decoding
 * depends on the connection (src/connmgr/bundles.ts).
 */
import { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { HEADER_LEN, readHeader } from './header.ts';

/** ofp_bundle_ctrl_type. */
export const OFPBCT = {
  OPEN_REQUEST: 0, OPEN_REPLY: 1, CLOSE_REQUEST: 2, CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4, COMMIT_REPLY: 5, DISCARD_REQUEST: 6, DISCARD_REPLY: 7,
} as const;
/** ofp_bundle_flags. */
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

export interface BundleControl { bundleId: number; type: number; flags: number; props: Uint8Array }
export interface BundleAdd {
  bundleId: number;
  flags: number;
  /** The whole inner message, header included. */
  message: Uint8Array;
  props: Uint8Array;
}

export function decodeBundleControl(_v: number, body: Uint8Array): BundleControl {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'bundle control');
  const bundleId = r.u32(), type = r.u16(), flags = r.u16();
  return { bundleId, type, flags, props: r.rest().slice() };
}

export const encodeBundleControl = (_v: number, m: BundleControl): Uint8Array =>
  new Writer().u32(m.bundleId).u16(m.type).u16(m.flags).bytes(m.props).finish();

export function decodeBundleAdd(v: number, body: Uint8Array): BundleAdd {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'bundle add message');
  const bundleId = r.u32(); r.skip(2);
  const flags = r.u16();
  if (r.remaining < HEADER_LEN) throw new OfpError('OFPBFC_MSG_BAD_LEN', `bundle add carries ${r.remaining} bytes, not a message`);
  const inner = readHeader(body, r.off);
  if (inner.length < HEADER_LEN || inner.length > r.remaining) {
    throw new OfpError('OFPBFC_MSG_BAD_LEN', `inner message says ${inner.length} bytes, ${r.remaining} are there`);
  }
  if (inner.version !== v) throw new OfpError('OFPBFC_BAD_VERSION', `inner version 0x${inner.version.toString(16)} in a 0x${v.toString(16)} bundle`);
  const message = r.bytes(inner.length).slice();
  // Padding to 8 precedes properties only; trailing bytes too few for it are ignored, as OVS does.
  const pad = (8 - ((8 + inner.length) % 8)) % 8;
  const props = r.remaining > pad ? (r.skip(pad), r.rest().slice()) : new Uint8Array(0);
  return { bundleId, flags, message, props };
}

export function encodeBundleAdd(_v: number, m: BundleAdd): Uint8Array {
  const w = new Writer().u32(m.bundleId).u16(0).u16(m.flags).bytes(m.message);
  if (m.props.length > 0) w.align8().bytes(m.props);
  return w.finish();
}
