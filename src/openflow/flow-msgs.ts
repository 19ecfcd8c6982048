/**
 * Flow-mod bodies: OpenFlow 1.0 ofp_flow_mod (§5.3.3), OpenFlow 1.1+ ofp_flow_mod (1.3 §7.3.4.1;
 * 1.4 adds importance) and Nicira's NXT_FLOW_MOD (an nx_match instead of ofp_match). A body is
 * the bytes after the 8-byte ofp_header (for NXT_FLOW_MOD: after the 16-byte nicira_header,
 * i.e. after vendor and subtype). The framing layer picks the decoder by message type:
 *
 *   OFPT_FLOW_MOD (1.0: 14, 1.1+: 14)  decodeFlowMod(version, body)   encodeFlowMod(version, msg)
 *   NXT_FLOW_MOD (vendor, subtype 13)  decodeNxFlowMod(version, body) encodeNxFlowMod(version, msg)
 *
 * bvs numbering throughout: ports are OpenFlow 1.0's 16-bit numbers (OFPP.NONE is "any" for
 * out_port); 1.1+ ports are converted. Flags use OpenFlow 1.3's bits (FLOW_MOD_FLAGS); 1.0's
 * emergency flag is refused (bvs has no emergency cache). In 1.0 and NXT_FLOW_MOD the high byte
 * of `command` is a table id only when the connection enabled NXT_FLOW_MOD_TABLE_ID
 * (`opts.tableIdExt`); otherwise `table` is 0xff (unspecified: adds go to table 0, deletes and
 * modifies look at every table, as OVS).
 */
import type { OfAction } from '../ofproto/actions.ts';
import type { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP14, type OfpVersion } from './version.ts';
import { Reader, Writer } from './bytes.ts';
import { decodeActions, encodeActions } from './actions.ts';
import { decodeInstructions, encodeInstructions } from './instructions.ts';
import { decodeNxMatch, decodeOf10Match, decodeOxmMatch, encodeNxMatch, encodeOf10Match, encodeOxmMatch } from './match.ts';
import { portFromOf11, portToOf11 } from './oxm.ts';

export const FLOW_MOD_COMMAND = { add: 0, modify: 1, modify_strict: 2, delete: 3, delete_strict: 4 } as const;
export type FlowModCommand = keyof typeof FLOW_MOD_COMMAND;
const COMMAND_BY_NUMBER = new Map<number, FlowModCommand>(
  (Object.entries(FLOW_MOD_COMMAND) as [FlowModCommand, number][]).map(([k, v]) => [v, k]));

/** OpenFlow 1.3 ofp_flow_mod_flags. */
export const FLOW_MOD_FLAGS = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 } as const;
const OF10_EMERG = 4;

export const OFP_NO_BUFFER = 0xffffffff;
export const OFPG_ANY = 0xffffffff;
/** table_id "all tables" / unspecified. */
export const OFPTT_ALL = 0xff;

export interface FlowModMsg {
  command: FlowModCommand;
  cookie: bigint;
  /** 1.1+ and NXM's NXM_NX_COOKIE_W: which cookie bits select flows (modify/delete). */
  cookieMask: bigint;
  table: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  /** Out-port filter of delete/modify (bvs numbering); OFPP.NONE (0xffff) = any. */
  outPort: number;
  outGroup: number;
  /** FLOW_MOD_FLAGS bits. */
  flags: number;
  /** OpenFlow 1.4+ eviction importance; 0 before. */
  importance: number;
  match: Match;
  actions: OfAction[];
}

export interface FlowModOptions {
  /** NXT_FLOW_MOD_TABLE_ID is on: the high byte of a 1.0/NX command is the table id. */
  tableIdExt?: boolean;
}

function command(n: number): FlowModCommand {
  const c = COMMAND_BY_NUMBER.get(n);
  if (c === undefined) throw new OfpError('OFPFMFC_BAD_COMMAND', `flow-mod command ${n}`);
  return c;
}

function of10Command(raw: number, opts: FlowModOptions): { command: FlowModCommand; table: number } {
  if (opts.tableIdExt) return { command: command(raw & 0xff), table: raw >> 8 };
  return { command: command(raw), table: OFPTT_ALL };
}

function of10Flags(raw: number): number {
  if (raw & OF10_EMERG) throw new OfpError('OFPFMFC_BAD_FLAGS', 'emergency flows (OFPFF_EMERG) are not supported');
  if (raw & ~(FLOW_MOD_FLAGS.SEND_FLOW_REM | FLOW_MOD_FLAGS.CHECK_OVERLAP)) throw new OfpError('OFPFMFC_BAD_FLAGS', `flow-mod flags 0x${raw.toString(16)}`);
  return raw;
}

/** 1.1+ flags, checked against what the version defines. */
export function of11Flags(version: OfpVersion, raw: number): number {
  const allowed = 0x1f;
  if (raw & ~allowed) throw new OfpError('OFPFMFC_BAD_FLAGS', `flow-mod flags 0x${raw.toString(16)} (OpenFlow 0x0${version})`);
  return raw;
}

/** A 1.1+ port field (out_port, in_port) in bvs numbering. */
export function port11(raw: number, what: string): number {
  const p = portFromOf11(raw);
  if (p === undefined) throw new OfpError('OFPBRC_BAD_PORT', `${what} 0x${raw.toString(16)}`);
  return p;
}

export function decodeFlowMod(version: OfpVersion, body: Uint8Array, opts: FlowModOptions = {}): FlowModMsg {
  const r = new Reader(body);
  if (version === OFP10) {
    r.needAt(0, 64, 'ofp_flow_mod');
    const match = decodeOf10Match(body, 0);
    const { command: cmd, table } = of10Command(r.u16(48), opts);
    return {
      // OpenFlow 1.0 selects no flows by cookie (OVS: cookie_mask 0; the cookie is the new one).
      command: cmd, cookie: r.u64(40), cookieMask: 0n, table,
      idleTimeout: r.u16(50), hardTimeout: r.u16(52), priority: r.u16(54), bufferId: r.u32(56), outPort: r.u16(60),
      outGroup: OFPG_ANY, flags: of10Flags(r.u16(62)), importance: 0, match,
      actions: decodeActions(version, body, 64),
    };
  }
  r.needAt(0, 40, 'ofp_flow_mod');
  const { match, size } = decodeOxmMatch(body, 40);
  return {
    command: command(r.u8(17)), cookie: r.u64(0), cookieMask: r.u64(8), table: r.u8(16),
    idleTimeout: r.u16(18), hardTimeout: r.u16(20), priority: r.u16(22), bufferId: r.u32(24),
    outPort: port11(r.u32(28), 'out_port'), outGroup: r.u32(32), flags: of11Flags(version, r.u16(36)),
    importance: version >= OFP14 ? r.u16(38) : 0, match,
    actions: decodeInstructions(version, body, 40 + size),
  };
}

export function encodeFlowMod(version: OfpVersion, m: FlowModMsg, opts: FlowModOptions = {}): Uint8Array {
  const w = new Writer();
  if (version === OFP10) {
    w.bytes(encodeOf10Match(m.match)).u64(m.cookie).u16(of10CommandOut(m, opts)).u16(m.idleTimeout).u16(m.hardTimeout)
      .u16(m.priority).u32(m.bufferId).u16(m.outPort).u16(of10Flags(m.flags));
    return concat(w.finish(), encodeActions(version, m.actions, { match: m.match }));
  }
  w.u64(m.cookie).u64(m.cookieMask).u8(m.table).u8(FLOW_MOD_COMMAND[m.command]).u16(m.idleTimeout).u16(m.hardTimeout)
    .u16(m.priority).u32(m.bufferId).u32(portToOf11(m.outPort)).u32(m.outGroup).u16(of11Flags(version, m.flags))
    .u16(version >= OFP14 ? m.importance : 0);
  w.bytes(encodeOxmMatch(m.match, version)).bytes(encodeInstructions(version, m.actions, { match: m.match }));
  return w.finish();
}

function of10CommandOut(m: FlowModMsg, opts: FlowModOptions): number {
  const c = FLOW_MOD_COMMAND[m.command];
  if (!opts.tableIdExt) return c;
  return ((m.table & 0xff) << 8) | c;
}

/**
 * NXT_FLOW_MOD body: cookie, command, idle, hard, priority, buffer_id, out_port (16-bit),
 * flags, match_len, pad[6], nx_match padded to 8, then actions in the connection's numbering.
 * The cookie mask rides in the nx_match as NXM_NX_COOKIE(_W).
 */
export function decodeNxFlowMod(version: OfpVersion, body: Uint8Array, opts: FlowModOptions = {}): FlowModMsg {
  const r = new Reader(body);
  r.needAt(0, 32, 'nx_flow_mod');
  const matchLen = r.u16(24);
  const padded = (matchLen + 7) & ~7;
  r.needAt(32, padded, 'nx_flow_mod match');
  const { match, cookie: mCookie, cookieMask } = decodeNxMatch(body, 32, matchLen);
  const { command: cmd, table } = of10Command(r.u16(8), opts);
  if (cmd === 'add' && cookieMask !== 0n) throw new OfpError('NXBRC_NXM_INVALID', 'a cookie mask in an add');
  return {
    command: cmd, cookie: cmd === 'add' ? r.u64(0) : mCookie, cookieMask, table,
    idleTimeout: r.u16(10), hardTimeout: r.u16(12), priority: r.u16(14), bufferId: r.u32(16), outPort: r.u16(20),
    outGroup: OFPG_ANY, flags: of10Flags(r.u16(22)), importance: 0, match,
    actions: decodeActions(version, body, 32 + padded),
  };
}

export function encodeNxFlowMod(version: OfpVersion, m: FlowModMsg, opts: FlowModOptions = {}): Uint8Array {
  const isAdd = m.command === 'add';
  const nxm = encodeNxMatch(m.match, isAdd ? 0n : m.cookie, isAdd ? 0n : m.cookieMask);
  const w = new Writer();
  w.u64(isAdd ? m.cookie : 0n).u16(of10CommandOut(m, opts)).u16(m.idleTimeout).u16(m.hardTimeout).u16(m.priority)
    .u32(m.bufferId).u16(m.outPort).u16(of10Flags(m.flags)).u16(nxm.length).pad(6).bytes(nxm).align8();
  return concat(w.finish(), encodeActions(version, m.actions, { match: m.match }));
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
