/**
 * The hashing Nicira actions: NXAST_MULTIPATH and NXAST_BUNDLE / NXAST_BUNDLE_LOAD
 * (OVS nicira-ext.h, ofp-actions.c decode_bundle, multipath.c).
 *
 *   multipath (32 bytes): fields, basis, pad, algorithm, max_link, arg (u32), pad, ofs_nbits, dst
 *   bundle (32 + 2n, padded): algorithm, fields, basis, member_type (NXM_OF_IN_PORT's header),
 *     n_members, ofs_nbits, dst, 4 zero bytes, then n_members u16 ports. NXAST_BUNDLE has
 *     ofs_nbits and dst zero; NXAST_BUNDLE_LOAD writes the chosen port there (16 bits at least).
 *
 * The numbers are OVS's: nx_hash_fields (eth_src 0 ... symmetric_l3 6), nx_mp_algorithm
 * (modulo_n 0, hash_threshold 1, hrw 2, iter_hash 3), nx_bd_algorithm (active_backup 0, hrw 1).
 * A bad argument is OFPBAC_BAD_ARGUMENT, as OVS answers it.
 */
import type { BundleAction, HashFields, MultipathAction, OfAction } from '../ofproto/actions.ts';
import { OFPP } from '../ofproto/flow.ts';
import type { Match } from '../ofproto/match.ts';
import type { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { checkOutputPort, checkZero, headerOfSubField, splitOfsNbits, writableSubField } from './action-wire.ts';

const HASH_FIELDS: readonly HashFields[] = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'];
const MP_ALGS: readonly MultipathAction['algorithm'][] = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];
const BD_ALGS: readonly BundleAction['algorithm'][] = ['active_backup', 'hrw'];
/** NXM_OF_IN_PORT: the only member type (2-byte OpenFlow ports). */
const MEMBER_TYPE = 0x00000002;
/** OVS BUNDLE_MAX_MEMBERS. */
const MAX_MEMBERS = 2048;

function pick<T>(table: readonly T[], n: number, what: string): T {
  const v = table[n];
  if (v === undefined) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what} ${n} is unknown`);
  return v;
}

export function decodeMultipath(r: Reader, o: number): OfAction {
  const fields = pick(HASH_FIELDS, r.u16(o + 10), 'multipath: fields');
  const algorithm = pick(MP_ALGS, r.u16(o + 16), 'multipath: algorithm');
  const maxLink = r.u16(o + 18);
  const { ofs, nBits } = splitOfsNbits(r.u16(o + 26));
  const dst = writableSubField(r.u32(o + 28), ofs, nBits, 'multipath');
  // OVS: the destination must hold every link number (log2ceil(max_link + 1) bits).
  if (nBits < 16 && maxLink >= 2 ** nBits) throw new OfpError('OFPBAC_BAD_ARGUMENT', `multipath: ${nBits} bits cannot hold link ${maxLink}`);
  return { type: 'multipath', fields, basis: r.u16(o + 12), algorithm, maxLink, arg: r.u32(o + 20), dst };
}

export function encodeMultipath(w: Writer, a: MultipathAction, match: Match | undefined): void {
  const { header, ofs } = headerOfSubField(a.dst, match);
  w.u16(HASH_FIELDS.indexOf(a.fields)).u16(a.basis).pad(2).u16(MP_ALGS.indexOf(a.algorithm)).u16(a.maxLink).u32(a.arg)
    .pad(2).u16((ofs << 6) | (a.dst.nBits - 1)).u32(header);
}

export function decodeBundle(r: Reader, o: number, len: number, load: boolean): OfAction {
  const what = load ? 'bundle_load' : 'bundle';
  const algorithm = pick(BD_ALGS, r.u16(o + 10), `${what}: algorithm`);
  const fields = pick(HASH_FIELDS, r.u16(o + 12), `${what}: fields`);
  if (r.u32(o + 16) !== MEMBER_TYPE) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: member type 0x${r.u32(o + 16).toString(16)} is not NXM_OF_IN_PORT`);
  const n = r.u16(o + 20);
  if (n > MAX_MEMBERS) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: ${n} members (at most ${MAX_MEMBERS})`);
  checkZero(r, o + 28, 4, what, 'OFPBAC_BAD_ARGUMENT');
  const a: BundleAction = { type: 'bundle', fields, basis: r.u16(o + 14), algorithm, members: [] };
  if (load) {
    const { ofs, nBits } = splitOfsNbits(r.u16(o + 22));
    a.dst = writableSubField(r.u32(o + 24), ofs, nBits, what);
    if (nBits < 16) throw new OfpError('OFPBAC_BAD_ARGUMENT', `${what}: the destination needs at least 16 bits, has ${nBits}`);
  } else {
    checkZero(r, o + 22, 6, `${what} (ofs_nbits and dst)`, 'OFPBAC_BAD_ARGUMENT');
  }
  if (len - 32 < 2 * n) throw new OfpError('OFPBAC_BAD_LEN', `${what}: ${n} members need ${2 * n} bytes, the action has ${len - 32}`);
  for (let i = 0; i < n; i++) {
    const p = r.u16(o + 32 + 2 * i);
    // OVS bundle_check: NONE is allowed (never live); CONTROLLER is not (no max_len).
    if (p !== OFPP.NONE) checkOutputPort(p);
    if (p === OFPP.CONTROLLER) throw new OfpError('OFPBAC_BAD_OUT_PORT', `${what}: member CONTROLLER`);
    a.members.push(p);
  }
  return a;
}

export function encodeBundle(w: Writer, a: BundleAction, match: Match | undefined): void {
  w.u16(BD_ALGS.indexOf(a.algorithm)).u16(HASH_FIELDS.indexOf(a.fields)).u16(a.basis).u32(MEMBER_TYPE).u16(a.members.length);
  if (a.dst) {
    const { header, ofs } = headerOfSubField(a.dst, match);
    w.u16((ofs << 6) | (a.dst.nBits - 1)).u32(header);
  } else {
    w.pad(6);
  }
  w.pad(4);
  for (const p of a.members) w.u16(p);
}
