/**
 * Flow and aggregate statistics bodies. A request/reply body is what follows the stats header:
 * OpenFlow 1.0's 12-byte ofp_stats_request/reply header, 1.1+'s 16-byte multipart header, or
 * Nicira's 24-byte nicira10_stats_msg (header, stats type 0xffff, flags, vendor, subtype, pad)
 * for NXST_FLOW / NXST_AGGREGATE. A reply body may hold several flow entries; the framing
 * splits multipart replies, these codecs handle one body each.
 *
 *   OFPST_FLOW request       decodeFlowStatsRequest(v, body)    encodeFlowStatsRequest(v, req)
 *   NXST_FLOW request        decodeNxFlowStatsRequest(v, body)  encodeNxFlowStatsRequest(v, req)
 *   OFPST_AGGREGATE request  the same two pairs (the bodies are identical)
 *   OFPST_FLOW reply         decodeFlowStatsReply(v, body)      encodeFlowStatsReply(v, entries)
 *   NXST_FLOW reply          decodeNxFlowStatsReply(v, body)    encodeNxFlowStatsReply(v, entries)
 *   OFPST_AGGREGATE reply    decodeAggregateReply(v, body)      encodeAggregateReply(v, agg)  (NX: same as 1.0)
 *
 * OpenFlow 1.5 reports statistics as OXS TLVs (class 0x8002: duration 0, idle_time 1,
 * flow_count 3, packet_count 4, byte_count 5) after ofp15_flow_desc and the match.
 */
import type { OfAction } from '../ofproto/actions.ts';
import type { Match } from '../ofproto/match.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP14, OFP15, type OfpVersion } from './version.ts';
import { Reader, Writer } from './bytes.ts';
import { decodeActions, encodeActions } from './actions.ts';
import { decodeInstructions, encodeInstructions } from './instructions.ts';
import { decodeNxMatch, decodeOf10Match, decodeOxmMatch, encodeNxMatch, encodeOf10Match, encodeOxmMatch } from './match.ts';
import { of11Flags, port11 } from './flow-msgs.ts';
import { portToOf11 } from './oxm.ts';

export interface FlowStatsRequest {
  table: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export interface FlowStats {
  table: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  importance: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  /** NXST_FLOW idle_age/hard_age (seconds + 1; 0 = unknown) and 1.5's idle_time; 0 when absent. */
  idleAge: number;
  hardAge: number;
  match: Match;
  actions: OfAction[];
}

export interface AggregateStats { packetCount: bigint; byteCount: bigint; flowCount: number }

// ---- Requests

export function decodeFlowStatsRequest(version: OfpVersion, body: Uint8Array): FlowStatsRequest {
  const r = new Reader(body);
  if (version === OFP10) {
    r.needAt(0, 44, 'ofp_flow_stats_request');
    const cookie = 0n;
    return { match: decodeOf10Match(body, 0), table: r.u8(40), outPort: r.u16(42), outGroup: 0xffffffff, cookie, cookieMask: 0n };
  }
  r.needAt(0, 32, 'ofp_flow_stats_request');
  const { match, size } = decodeOxmMatch(body, 32);
  if (32 + size !== body.length) throw new OfpError('OFPBRC_BAD_LEN', 'bytes after the flow stats request match');
  return { table: r.u8(0), outPort: port11(r.u32(4), 'out_port'), outGroup: r.u32(8), cookie: r.u64(16), cookieMask: r.u64(24), match };
}

export function encodeFlowStatsRequest(version: OfpVersion, q: FlowStatsRequest): Uint8Array {
  const w = new Writer();
  if (version === OFP10) return w.bytes(encodeOf10Match(q.match)).u8(q.table).u8(0).u16(q.outPort).finish();
  return w.u8(q.table).pad(3).u32(portToOf11(q.outPort)).u32(q.outGroup).pad(4).u64(q.cookie).u64(q.cookieMask)
    .bytes(encodeOxmMatch(q.match, version)).finish();
}

/** nx_flow_stats_request: out_port, match_len, table_id, pad[3], nx_match (cookie inside). */
export function decodeNxFlowStatsRequest(_version: OfpVersion, body: Uint8Array): FlowStatsRequest {
  const r = new Reader(body);
  r.needAt(0, 8, 'nx_flow_stats_request');
  const len = r.u16(2);
  r.needAt(8, (len + 7) & ~7, 'nx_flow_stats_request match');
  const { match, cookie, cookieMask } = decodeNxMatch(body, 8, len);
  return { outPort: r.u16(0), table: r.u8(4), outGroup: 0xffffffff, cookie, cookieMask, match };
}

export function encodeNxFlowStatsRequest(_version: OfpVersion, q: FlowStatsRequest): Uint8Array {
  const nxm = encodeNxMatch(q.match, q.cookie, q.cookieMask);
  return new Writer().u16(q.outPort).u16(nxm.length).u8(q.table).pad(3).bytes(nxm).align8().finish();
}

// ---- Replies

function entryLen(r: Reader, at: number, min: number, what: string): number {
  const len = r.u16(at, what);
  if (len < min || at + len > r.b.length) throw new OfpError('OFPBRC_BAD_LEN', `${what} entry of length ${len} (at least ${min}, ${r.b.length - at} left)`);
  return len;
}

export function decodeFlowStatsReply(version: OfpVersion, body: Uint8Array): FlowStats[] {
  const r = new Reader(body);
  const out: FlowStats[] = [];
  for (let at = 0; at < body.length;) {
    if (version === OFP10) {
      const len = entryLen(r, at, 88, 'ofp_flow_stats');
      out.push({
        table: r.u8(at + 2), match: decodeOf10Match(body, at + 4), durationSec: r.u32(at + 44), durationNsec: r.u32(at + 48),
        priority: r.u16(at + 52), idleTimeout: r.u16(at + 54), hardTimeout: r.u16(at + 56), flags: 0, importance: 0,
        cookie: r.u64(at + 64), packetCount: r.u64(at + 72), byteCount: r.u64(at + 80), idleAge: 0, hardAge: 0,
        actions: decodeActions(version, body, at + 88, len - 88),
      });
      at += len;
    } else if (version >= OFP15) {
      const len = entryLen(r, at, 24, 'ofp15_flow_desc');
      const { match, size } = decodeOxmMatch(body.subarray(0, at + len), at + 24);
      const oxs = decodeOxs(r, at + 24 + size, at + len);
      out.push({
        table: r.u8(at + 4), priority: r.u16(at + 6), idleTimeout: r.u16(at + 8), hardTimeout: r.u16(at + 10),
        flags: of11Flags(version, r.u16(at + 12)), importance: r.u16(at + 14), cookie: r.u64(at + 16), match,
        durationSec: oxs.durationSec, durationNsec: oxs.durationNsec, packetCount: oxs.packetCount, byteCount: oxs.byteCount,
        idleAge: oxs.idleSec, hardAge: 0, actions: decodeInstructions(version, body, oxs.end, at + len - oxs.end),
      });
      at += len;
    } else {
      const len = entryLen(r, at, 56, 'ofp_flow_stats');
      const { match, size } = decodeOxmMatch(body.subarray(0, at + len), at + 48);
      out.push({
        table: r.u8(at + 2), durationSec: r.u32(at + 4), durationNsec: r.u32(at + 8), priority: r.u16(at + 12),
        idleTimeout: r.u16(at + 14), hardTimeout: r.u16(at + 16), flags: of11Flags(version, r.u16(at + 18)),
        importance: version >= OFP14 ? r.u16(at + 20) : 0, cookie: r.u64(at + 24), packetCount: r.u64(at + 32),
        byteCount: r.u64(at + 40), idleAge: 0, hardAge: 0, match,
        actions: decodeInstructions(version, body, at + 48 + size, len - 48 - size),
      });
      at += len;
    }
  }
  return out;
}

export function encodeFlowStatsReply(version: OfpVersion, entries: readonly FlowStats[]): Uint8Array {
  const w = new Writer();
  for (const s of entries) {
    const at = w.len;
    const ctx = { match: s.match };
    if (version === OFP10) {
      w.u16(0).u8(s.table).u8(0).bytes(encodeOf10Match(s.match)).u32(s.durationSec).u32(s.durationNsec).u16(s.priority)
        .u16(s.idleTimeout).u16(s.hardTimeout).pad(6).u64(s.cookie).u64(s.packetCount).u64(s.byteCount)
        .bytes(encodeActions(version, s.actions, ctx));
    } else if (version >= OFP15) {
      w.u16(0).pad(2).u8(s.table).u8(0).u16(s.priority).u16(s.idleTimeout).u16(s.hardTimeout).u16(s.flags)
        .u16(s.importance).u64(s.cookie).bytes(encodeOxmMatch(s.match, version));
      encodeOxs(w, { durationSec: s.durationSec, durationNsec: s.durationNsec, idleSec: s.idleAge, packetCount: s.packetCount, byteCount: s.byteCount });
      w.bytes(encodeInstructions(version, s.actions, ctx));
    } else {
      w.u16(0).u8(s.table).u8(0).u32(s.durationSec).u32(s.durationNsec).u16(s.priority).u16(s.idleTimeout)
        .u16(s.hardTimeout).u16(s.flags).u16(version >= OFP14 ? s.importance : 0).pad(2).u64(s.cookie)
        .u64(s.packetCount).u64(s.byteCount).bytes(encodeOxmMatch(s.match, version)).bytes(encodeInstructions(version, s.actions, ctx));
    }
    w.setU16(at, w.len - at);
  }
  return w.finish();
}

/** nx_flow_stats entries: NXM match and actions in the connection's numbering. */
export function decodeNxFlowStatsReply(version: OfpVersion, body: Uint8Array): FlowStats[] {
  const r = new Reader(body);
  const out: FlowStats[] = [];
  for (let at = 0; at < body.length;) {
    const len = entryLen(r, at, 48, 'nx_flow_stats');
    const mlen = r.u16(at + 18), padded = (mlen + 7) & ~7;
    if (48 + padded > len) throw new OfpError('OFPBRC_BAD_LEN', `nx_flow_stats match_len ${mlen} overruns its entry of ${len}`);
    out.push({
      table: r.u8(at + 2), durationSec: r.u32(at + 4), durationNsec: r.u32(at + 8), priority: r.u16(at + 12),
      idleTimeout: r.u16(at + 14), hardTimeout: r.u16(at + 16), idleAge: r.u16(at + 20), hardAge: r.u16(at + 22),
      cookie: r.u64(at + 24), packetCount: r.u64(at + 32), byteCount: r.u64(at + 40), flags: 0, importance: 0,
      match: decodeNxMatch(body, at + 48, mlen).match, actions: decodeActions(version, body, at + 48 + padded, len - 48 - padded),
    });
    at += len;
  }
  return out;
}

export function encodeNxFlowStatsReply(version: OfpVersion, entries: readonly FlowStats[]): Uint8Array {
  const w = new Writer();
  for (const s of entries) {
    const at = w.len;
    const nxm = encodeNxMatch(s.match);
    w.u16(0).u8(s.table).u8(0).u32(s.durationSec).u32(s.durationNsec).u16(s.priority).u16(s.idleTimeout).u16(s.hardTimeout)
      .u16(nxm.length).u16(s.idleAge).u16(s.hardAge).u64(s.cookie).u64(s.packetCount).u64(s.byteCount).bytes(nxm).align8()
      .bytes(encodeActions(version, s.actions, { match: s.match }));
    w.setU16(at, w.len - at);
  }
  return w.finish();
}

export function decodeAggregateReply(version: OfpVersion, body: Uint8Array): AggregateStats {
  const r = new Reader(body);
  if (version >= OFP15) {
    const o = decodeOxs(r, 0, body.length);
    return { packetCount: o.packetCount, byteCount: o.byteCount, flowCount: o.flowCount };
  }
  r.needAt(0, 24, 'ofp_aggregate_stats_reply');
  return { packetCount: r.u64(0), byteCount: r.u64(8), flowCount: r.u32(16) };
}

export function encodeAggregateReply(version: OfpVersion, a: AggregateStats): Uint8Array {
  const w = new Writer();
  if (version >= OFP15) encodeOxs(w, { packetCount: a.packetCount, byteCount: a.byteCount, flowCount: a.flowCount });
  else w.u64(a.packetCount).u64(a.byteCount).u32(a.flowCount).pad(4);
  return w.finish();
}

// ---- OXS (OpenFlow 1.5 §7.2.4): ofp_oxs_stat { reserved u16, length u16 } then TLVs, padded to 8

export interface OxsStats {
  durationSec: number; durationNsec: number; idleSec: number; packetCount: bigint; byteCount: bigint; flowCount: number;
}
const OXS_CLASS = 0x8002;
const OXS = { DURATION: 0, IDLE_TIME: 1, FLOW_COUNT: 3, PACKET_COUNT: 4, BYTE_COUNT: 5 } as const;

/** Reads an OXS block at `off` (within `end`); `end` in the result is past its padding. */
export function decodeOxs(r: Reader, off: number, end: number): OxsStats & { end: number } {
  const len = r.u16(off + 2, 'ofp_oxs_stat');
  if (len < 4 || off + ((len + 7) & ~7) > end) throw new OfpError('OFPBRC_BAD_LEN', `OXS block of length ${len}`);
  const s = { durationSec: 0, durationNsec: 0, idleSec: 0, packetCount: 0n, byteCount: 0n, flowCount: 0, end: off + ((len + 7) & ~7) };
  const seen = new Set<number>();
  for (let at = off + 4; at < off + len;) {
    const h = r.u32(at, 'OXS header');
    const cls = h >>> 16, field = (h >>> 9) & 0x7f, flen = h & 0xff;
    if (at + 4 + flen > off + len) throw new OfpError('OFPBRC_BAD_LEN', `OXS entry of length ${flen} overruns its block`);
    if (cls !== OXS_CLASS) throw new OfpError('OFPBRC_BAD_LEN', `OXS class 0x${cls.toString(16)} is unknown`);
    const want = field === OXS.FLOW_COUNT ? 4 : 8;
    if (flen !== want || field === 2 || field > 5) throw new OfpError('OFPBRC_BAD_LEN', `OXS field ${field} with length ${flen}`);
    if (seen.has(field)) throw new OfpError('OFPBRC_BAD_LEN', `OXS field ${field} appears twice`);
    seen.add(field);
    if (field === OXS.DURATION) { s.durationSec = r.u32(at + 4); s.durationNsec = r.u32(at + 8); }
    else if (field === OXS.IDLE_TIME) s.idleSec = r.u32(at + 4);
    else if (field === OXS.FLOW_COUNT) s.flowCount = r.u32(at + 4);
    else if (field === OXS.PACKET_COUNT) s.packetCount = r.u64(at + 4);
    else s.byteCount = r.u64(at + 4);
    at += 4 + flen;
  }
  return s;
}

export function encodeOxs(w: Writer, s: Partial<OxsStats>): void {
  const at = w.len;
  w.u16(0).u16(0);
  const hdr = (field: number, len: number): Writer => w.u32(((OXS_CLASS << 16) | (field << 9) | len) >>> 0);
  if (s.durationSec !== undefined) hdr(OXS.DURATION, 8).u32(s.durationSec).u32(s.durationNsec ?? 0);
  if (s.idleSec !== undefined) hdr(OXS.IDLE_TIME, 8).u32(s.idleSec).u32(0);
  if (s.packetCount !== undefined) hdr(OXS.PACKET_COUNT, 8).u64(s.packetCount);
  if (s.byteCount !== undefined) hdr(OXS.BYTE_COUNT, 8).u64(s.byteCount);
  if (s.flowCount !== undefined) hdr(OXS.FLOW_COUNT, 4).u32(s.flowCount);
  w.setU16(at + 2, w.len - at);
  w.align8();
}
