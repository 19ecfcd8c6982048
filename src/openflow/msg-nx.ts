/**
 * Bodies of the Nicira extension messages bvs handles (include/openflow/nicira-ext.h), the
 * bytes after the 16-byte nicira_header (ofp_header, vendor, subtype). NXT_SET_ASYNC_CONFIG's
 * body is the OpenFlow 1.3 async layout (msg-switch.ts decodeAsync with version 1.3).
 */
import { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';

/** NXT_SET_FLOW_FORMAT: 0 = OpenFlow 1.0 matches, 2 = NXM. */
export const NXFF = { OPENFLOW10: 0, NXM: 2 } as const;
/** NXT_SET_PACKET_IN_FORMAT: 0 = standard, 1 = NXT_PACKET_IN, 2 = NXT_PACKET_IN2. */
export const NXPIF = { STANDARD: 0, NXT_PACKET_IN: 1, NXT_PACKET_IN2: 2 } as const;
/** NXT_ROLE_REQUEST roles. */
export const NX_ROLE = { OTHER: 0, MASTER: 1, SLAVE: 2 } as const;

export interface Format { format: number }

function u32Body(what: string, valid: readonly number[]) {
  return (_v: number, body: Uint8Array): Format => {
    const r = new Reader(body, 'OFPBRC_BAD_LEN', what);
    const format = r.u32(); r.end();
    // OVS answers an unknown format with OFPBRC_EPERM (ofputil_decode_set_*_format).
    if (!valid.includes(format)) throw new OfpError('OFPBRC_EPERM', `${what}: format ${format}`);
    return { format };
  };
}
const encodeU32 = (_v: number, m: Format): Uint8Array => new Writer().u32(m.format).finish();

export const decodeSetFlowFormat = u32Body('set flow format', Object.values(NXFF));
export const encodeSetFlowFormat = encodeU32;
export const decodeSetPacketInFormat = u32Body('set packet-in format', Object.values(NXPIF));
export const encodeSetPacketInFormat = encodeU32;

export interface NxRole { role: number }
export function decodeNxRole(_v: number, body: Uint8Array): NxRole {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'nx role');
  const role = r.u32(); r.end();
  if (role > NX_ROLE.SLAVE) throw new OfpError('OFPRRFC_BAD_ROLE', `nx role ${role}`);
  return { role };
}
export const encodeNxRole = (_v: number, m: NxRole): Uint8Array => new Writer().u32(m.role).finish();

/** NXT_SET_CONTROLLER_ID: pad 6, controller_id u16. */
export interface ControllerId { controllerId: number }
export function decodeControllerId(_v: number, body: Uint8Array): ControllerId {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'set controller id');
  r.skip(6);
  const controllerId = r.u16(); r.end();
  return { controllerId };
}
export const encodeControllerId = (_v: number, m: ControllerId): Uint8Array =>
  new Writer().pad(6).u16(m.controllerId).finish();

/** NXT_FLOW_MOD_TABLE_ID: set u8 (non-zero enables table ids in flow_mod commands), pad 7. */
export interface FlowModTableId { enable: boolean }
export function decodeFlowModTableId(_v: number, body: Uint8Array): FlowModTableId {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'flow mod table id');
  const enable = r.u8() !== 0; r.skip(7); r.end();
  return { enable };
}
export const encodeFlowModTableId = (_v: number, m: FlowModTableId): Uint8Array =>
  new Writer().u8(m.enable ? 1 : 0).pad(7).finish();
