/**
 * The Nicira actions that talk to controllers: NXAST_CONTROLLER, NXAST_CONTROLLER2 (with
 * userdata and pause) and NXAST_DEC_TTL_CNT_IDS (the controllers told of a TTL expiry).
 *
 * NXAST_CONTROLLER2 (OVS ofp-actions.c) is a 16-byte header, then properties padded to 8:
 * max_len(0, u16), controller_id(1, u16), reason(2, u8), userdata(3, bytes), pause(4, no
 * value), meter_id(5, u32), read and written as OpenFlow 1.4 properties (bytes.ts). A property is written only when it differs from its default
 * (max_len 65535, id 0, reason action), as OVS writes them; meter_id is refused (bvs has no
 * controller meters). OVS sends controller2 whenever userdata or pause is present, and the
 * short NXAST_CONTROLLER otherwise, as encodeNx does.
 */
import { PACKET_IN_REASON, type OfAction, type PacketInReason } from '../ofproto/actions.ts';
import { Reader, readProps, writeProp, type Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { checkZero } from './action-wire.ts';

type Controller = Extract<OfAction, { type: 'controller' }>;

const REASON_BY_NUMBER = new Map<number, PacketInReason>(
  (Object.entries(PACKET_IN_REASON) as [PacketInReason, number][]).map(([k, v]) => [v, k]));

const PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;
/**
 * Least value bytes per property (OVS ofpprop_parse_u8/u16 take more: OpenFlow writes a u16 in
 * 4 bytes, as OVS's ofpprop_put_be16 does); userdata is any length.
 */
const PT_MIN = new Map<number, number>([[PT.MAX_LEN, 2], [PT.CONTROLLER_ID, 2], [PT.REASON, 1], [PT.METER_ID, 4]]);

function reasonOf(n: number): PacketInReason {
  const r = REASON_BY_NUMBER.get(n);
  if (r === undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', `controller: packet-in reason ${n} is not supported by bvs`);
  return r;
}

/** NXAST_CONTROLLER (16 bytes: max_len, controller_id, reason, zero) or NXAST_CONTROLLER2. */
export function decodeController(r: Reader, o: number, len: number, v2: boolean): OfAction {
  if (!v2) return { type: 'controller', maxLen: r.u16(o + 10), id: r.u16(o + 12), reason: reasonOf(r.u8(o + 14)), spelling: 'long' };
  checkZero(r, o + 10, 6, 'controller2', 'NXBRC_MUST_BE_ZERO');
  const a: Controller = { type: 'controller', maxLen: 0xffff, reason: 'action', id: 0, spelling: 'long' };
  for (const p of readProps(new Reader(r.sliceAt(o + 16, len - 16), 'OFPBAC_BAD_LEN', 'controller2'), 'controller2')) {
    const want = PT_MIN.get(p.type) ?? 0;
    if (p.r.remaining < want) throw new OfpError('OFPBPC_BAD_LEN', `controller2 property ${p.type} has ${p.r.remaining} value bytes, wants ${want}`);
    switch (p.type) {
      case PT.MAX_LEN: a.maxLen = p.r.u16(); break;
      case PT.CONTROLLER_ID: a.id = p.r.u16(); break;
      case PT.REASON: a.reason = reasonOf(p.r.u8()); break;
      case PT.USERDATA: if (p.r.remaining > 0) a.userdata = p.r.rest().slice(); else delete a.userdata; break;
      case PT.PAUSE: a.pause = true; break;
      case PT.METER_ID: throw new OfpError('OFPBAC_BAD_VENDOR_TYPE', 'controller2 with meter_id is not supported by bvs yet');
      default: throw new OfpError('OFPBPC_BAD_TYPE', `controller2: unknown property ${p.type}`);
    }
  }
  return a;
}

/** The body after the NX prefix: controller2's properties or controller's fixed fields. */
export function encodeController(w: Writer, a: Controller, v2: boolean): void {
  if (!v2) {
    w.u16(a.maxLen).u16(a.id).u8(PACKET_IN_REASON[a.reason]).u8(0);
    return;
  }
  w.pad(6);
  const prop = (t: number, body: (w: Writer) => void): void => writeProp(w, t, body);
  if (a.maxLen !== 0xffff) prop(PT.MAX_LEN, () => w.u16(a.maxLen).pad(2));
  if (a.id !== 0) prop(PT.CONTROLLER_ID, () => w.u16(a.id).pad(2));
  if (a.reason !== 'action') prop(PT.REASON, () => w.u8(PACKET_IN_REASON[a.reason]));
  if (a.userdata?.length) prop(PT.USERDATA, () => w.bytes(a.userdata!));
  if (a.pause) prop(PT.PAUSE, () => undefined);
}

/** NXAST_DEC_TTL_CNT_IDS: n_controllers (u16), 4 zero bytes, the ids (u16 each), padding. */
export function decodeDecTtlIds(r: Reader, o: number, len: number): OfAction {
  const n = r.u16(o + 10);
  checkZero(r, o + 12, 4, 'dec_ttl', 'NXBRC_MUST_BE_ZERO');
  if (len - 16 < 2 * n) throw new OfpError('OFPBAC_BAD_LEN', `dec_ttl: ${n} controller ids need ${2 * n} bytes, the action has ${len - 16}`);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(r.u16(o + 16 + 2 * i));
  return { type: 'dec_ttl', ids };
}

export function encodeDecTtlIds(w: Writer, ids: readonly number[]): void {
  w.u16(ids.length).pad(4);
  for (const id of ids) w.u16(id);
}
