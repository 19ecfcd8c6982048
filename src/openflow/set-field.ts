/**
 * The OXM TLV inside OFPAT_SET_FIELD (OpenFlow 1.2+ §7.2.5) and NXAST_REG_LOAD2, to and from
 * bvs's set_field action. Errors are the action kind (OFPBAC_BAD_SET_*), as OVS answers them:
 * an unknown or unsupported field is OFPBAC_BAD_SET_TYPE naming it, a read-only field, a value
 * the field cannot hold or non-zero padding OFPBAC_BAD_SET_ARGUMENT.
 *
 * Encoding needs the flow's match for one case: bvs's tp_src/tp_dst (mod_tp_src) has no OXM
 * of its own; the match's nw_proto chooses tcp_src, udp_src or sctp_src, as OVS does.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { PROTO, W } from '../ofproto/flow.ts';
import { fieldByName, fieldFullMask, type FieldDef } from '../ofproto/fields.ts';
import type { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import type { Reader } from './bytes.ts';
import { entryFieldValue } from './match.ts';
import { OXM_FIELDS, describeHeader, oxmEntryBytes, oxmFieldByName, portToOf11, readOxmEntry, type OxmField } from './oxm.ts';

/** Reads the TLV in [off, end) (the rest must be zero padding) as a set_field action. */
export function decodeSetFieldTlv(r: Reader, off: number, end: number, what: string, allowMask = true): OfAction {
  let e;
  try {
    e = readOxmEntry(r.b, off, end);
  } catch (err) {
    if (err instanceof OfpError && err.ofperr === 'OFPBMC_BAD_LEN') throw new OfpError('OFPBAC_BAD_SET_LEN', `${what}: ${err.message}`);
    if (err instanceof OfpError && err.ofperr === 'OFPBMC_BAD_WILDCARDS') throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `${what}: ${err.message}`);
    throw err;
  }
  for (let i = e.next; i < end; i++) {
    if (r.b[i] !== 0) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `${what}: padding after the field is not zero`);
  }
  const f = e.field;
  if (!f) throw new OfpError('OFPBAC_BAD_SET_TYPE', `${what}: unknown field: ${describeHeader(e.header)}`);
  if (!f.def) throw new OfpError('OFPBAC_BAD_SET_TYPE', `${what}: ${f.name} (${f.ovsName}) is not supported by bvs yet`);
  const d = f.def;
  if (!d.writable) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `${what}: ${f.name} is read-only`);
  const wireFull = (1n << BigInt(8 * f.len)) - 1n;
  let mask = e.mask === wireFull ? undefined : e.mask;
  if (mask !== undefined && (!allowMask || !f.maskable)) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `${what}: ${f.name} takes no mask here`);
  const value = entryFieldValue(f, e.value, 'OFPBAC_BAD_SET_ARGUMENT');
  const full = fieldFullMask(d);
  if (mask !== undefined) {
    mask &= full;
    if (mask === full) mask = undefined;
  }
  // set_field vlan_vid/vlan_pcp stay set_field: unlike mod_vlan_* (OpenFlow 1.0), they do not
  // push a tag onto an untagged packet (xlate skips them there).
  if (d.name === 'ip_dscp' && mask === undefined) {
    // OVS sends mod_nw_tos as set_field ip_dscp: held as parse.ts holds mod_nw_tos (TOS byte).
    return { type: 'set_field', field: fieldByName('nw_tos')!, value: value << 2n, spelling: 'set_field' };
  }
  const a: OfAction = { type: 'set_field', field: d, value: mask === undefined ? value : value & mask, spelling: 'set_field' };
  if (mask !== undefined) a.mask = mask;
  return a;
}

/** Preferred TLV per bvs field for set_field: an OXM_OF_ name where there is one. */
const SET_FIELD_ENTRY = new Map<string, OxmField>();
for (const e of OXM_FIELDS) {
  if (!e.def || e.kind === 'port16') continue;
  const prev = SET_FIELD_ENTRY.get(e.def.name);
  if (!prev || (!prev.name.startsWith('OXM_OF_') && e.name.startsWith('OXM_OF_'))) SET_FIELD_ENTRY.set(e.def.name, e);
}

function entryFor(d: FieldDef, match: Match | undefined): OxmField {
  if (d.name === 'tp_src' || d.name === 'tp_dst') {
    const proto = match && match.mask[W.NW_PROTO] === 0xff ? match.value[W.NW_PROTO]! : -1;
    const l4 = new Map<number, string>([[PROTO.TCP, 'TCP'], [PROTO.UDP, 'UDP'], [PROTO.SCTP, 'SCTP']]).get(proto);
    if (!l4) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', `mod_${d.name} needs a match on tcp, udp or sctp to be encoded`);
    return oxmFieldByName(`OXM_OF_${l4}_${d.name === 'tp_src' ? 'SRC' : 'DST'}`)!;
  }
  // in_port is written through NXM_OF_IN_PORT, as OVS does: its OXM_OF_IN_PORT is for
  // matching only (OVS refuses a set_field of it with OFPBAC_BAD_SET_ARGUMENT).
  if (d.name === 'in_port') return oxmFieldByName('NXM_OF_IN_PORT')!;
  const e = SET_FIELD_ENTRY.get(d.name === 'nw_tos' ? 'ip_dscp' : d.name);
  if (!e) throw new OfpError('OFPBAC_BAD_SET_TYPE', `${d.name} has no OXM form`);
  return e;
}

/** The OXM TLV for a set_field action (masked when the action has a mask). */
export function setFieldTlv(a: Extract<OfAction, { type: 'set_field' }>, match: Match | undefined): Uint8Array {
  const e = entryFor(a.field, match);
  const d = e.def!;
  // An entry may name the same bits at another shift (none today) or width: convert by place.
  const sh = BigInt(a.field.shift - d.shift);
  let value = a.value << sh;
  let mask = a.mask === undefined ? undefined : a.mask << sh;
  if (e.kind === 'port32') value = BigInt(portToOf11(Number(value)));
  if (mask !== undefined && mask === fieldFullMask(d)) mask = undefined;
  return oxmEntryBytes(e, value, mask);
}

/** A load of a whole field: the same thing as a set_field (OpenFlow 1.5 sends loads so). */
export function loadAsSetField(a: Extract<OfAction, { type: 'load' }>): Extract<OfAction, { type: 'set_field' }> {
  const d = a.dst.field;
  const m = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.ofs);
  const full = (1n << BigInt(d.bits)) - 1n;
  const out: Extract<OfAction, { type: 'set_field' }> = { type: 'set_field', field: d, value: a.value << BigInt(a.dst.ofs), spelling: 'set_field' };
  if (m !== full && !(d.name === 'nw_tos' && m === fieldFullMask(d))) out.mask = m;
  return out;
}
