/**
 * Nicira flow monitor messages (include/openflow/nicira-ext.h, "Flow Table Monitoring"), the
 * ones `ovs-ofctl monitor BR watch:` speaks in OpenFlow 1.0:
 *
 *   NXST_FLOW_MONITOR request  nx_flow_monitor_request[]: id u32, flags u16 (NXFMF_*), out_port
 *                              u16, match_len u16, table_id u8, zeros[5], NXM match padded to 8
 *   NXST_FLOW_MONITOR reply    updates, each starting length u16, event u16 (NXFME_*):
 *                              full (24 bytes: reason, priority, idle/hard timeouts, match_len,
 *                              table_id, pad, cookie; then the NXM match padded to 8, then the
 *                              actions, if any, to `length`) or abbreviated (8 bytes: the xid)
 *   NXT_FLOW_MONITOR_CANCEL    id u32
 *   NXT_FLOW_MONITOR_PAUSED / RESUMED   no body
 *
 * Flags are checked as OVS does (at least one of ADD/DELETE/MODIFY, no unknown bit:
 * OFPMOFC_BAD_FLAGS; zeros: NXBRC_MUST_BE_ZERO). `actions` undefined in an update means the
 * update carries none (NXFMF_ACTIONS not asked, or a deletion), which differs from an empty list
 * only on the wire's sending side: both read back as an empty list.
 */
import type { OfAction } from '../ofproto/actions.ts';
import type { Match } from '../ofproto/match.ts';
import { Reader, Writer } from './bytes.ts';
import { decodeActions, encodeActions } from './actions.ts';
import { OfpError } from './errors.ts';
import { decodeNxMatch, encodeNxMatch } from './match.ts';
import type { OfpVersion } from './version.ts';

export const NXFMF = { INITIAL: 1, ADD: 2, DELETE: 4, MODIFY: 8, ACTIONS: 16, OWN: 32 } as const;
export const NXFME = { ADDED: 0, DELETED: 1, MODIFIED: 2, ABBREV: 3 } as const;
const KNOWN_FLAGS = 0x3f;
const WHEN = NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY;

export interface FlowMonitorRequest { id: number; flags: number; outPort: number; table: number; match: Match }

export type FlowUpdate =
  | {
    event: 'added' | 'deleted' | 'modified';
    /** OFPRR_* for a deletion, else 0. */
    reason: number; priority: number; idleTimeout: number; hardTimeout: number; table: number; cookie: bigint;
    match: Match; actions: OfAction[];
  }
  | { event: 'abbrev'; xid: number };

const EVENTS = ['added', 'deleted', 'modified'] as const;

export function decodeFlowMonitorRequest(_v: OfpVersion, body: Uint8Array): { monitors: FlowMonitorRequest[] } {
  const r = new Reader(body);
  const monitors: FlowMonitorRequest[] = [];
  for (let at = 0; at < body.length;) {
    r.needAt(at, 16, 'nx_flow_monitor_request');
    const flags = r.u16(at + 4), mlen = r.u16(at + 8);
    if (!(flags & WHEN) || flags & ~KNOWN_FLAGS) throw new OfpError('OFPMOFC_BAD_FLAGS', `flow monitor flags 0x${flags.toString(16)}`);
    for (let i = 11; i < 16; i++) if (r.u8(at + i) !== 0) throw new OfpError('NXBRC_MUST_BE_ZERO', 'flow monitor request padding');
    const padded = (mlen + 7) & ~7;
    r.needAt(at + 16, padded, 'nx_flow_monitor_request match');
    monitors.push({ id: r.u32(at), flags, outPort: r.u16(at + 6), table: r.u8(at + 10), match: decodeNxMatch(body, at + 16, mlen).match });
    at += 16 + padded;
  }
  return { monitors };
}

export function encodeFlowMonitorRequest(_v: OfpVersion, m: { monitors: FlowMonitorRequest[] }): Uint8Array {
  const w = new Writer();
  for (const q of m.monitors) {
    const nxm = encodeNxMatch(q.match);
    w.u32(q.id).u16(q.flags).u16(q.outPort).u16(nxm.length).u8(q.table).pad(5).bytes(nxm).align8();
  }
  return w.finish();
}

export function decodeFlowUpdates(v: OfpVersion, body: Uint8Array): { updates: FlowUpdate[] } {
  const r = new Reader(body);
  const updates: FlowUpdate[] = [];
  for (let at = 0; at < body.length;) {
    const len = r.u16(at, 'flow update'), event = r.u16(at + 2, 'flow update');
    if (len % 8 !== 0 || at + len > body.length) throw new OfpError('OFPBRC_BAD_LEN', `flow update of length ${len}, ${body.length - at} left`);
    if (event === NXFME.ABBREV) {
      if (len !== 8) throw new OfpError('OFPBRC_BAD_LEN', `abbreviated flow update of length ${len}`);
      updates.push({ event: 'abbrev', xid: r.u32(at + 4) });
    } else {
      const name = EVENTS[event];
      if (!name) throw new OfpError('NXBRC_BAD_REASON', `flow update event ${event}`);
      const mlen = r.u16(at + 12), padded = (mlen + 7) & ~7;
      if (len < 24 || 24 + padded > len) throw new OfpError('OFPBRC_BAD_LEN', `flow update of length ${len} with a match of ${mlen}`);
      updates.push({
        event: name, reason: r.u16(at + 4), priority: r.u16(at + 6), idleTimeout: r.u16(at + 8), hardTimeout: r.u16(at + 10),
        table: r.u8(at + 14), cookie: r.u64(at + 16), match: decodeNxMatch(body, at + 24, mlen).match,
        actions: decodeActions(v, body, at + 24 + padded, len - 24 - padded),
      });
    }
    at += len;
  }
  return { updates };
}

/** One update's bytes (an entry of a reply: encodeReplies may split between entries). */
export function encodeFlowUpdate(v: OfpVersion, u: FlowUpdate): Uint8Array {
  const w = new Writer();
  if (u.event === 'abbrev') return w.u16(8).u16(NXFME.ABBREV).u32(u.xid).finish();
  const nxm = encodeNxMatch(u.match);
  w.u16(0).u16(NXFME[u.event.toUpperCase() as 'ADDED']).u16(u.reason).u16(u.priority).u16(u.idleTimeout).u16(u.hardTimeout)
    .u16(nxm.length).u8(u.table).u8(0).u64(u.cookie).bytes(nxm).align8().bytes(encodeActions(v, u.actions, { match: u.match }));
  w.setU16(0, w.len);
  return w.finish();
}

export function decodeFlowMonitorCancel(_v: OfpVersion, body: Uint8Array): { id: number } {
  const r = new Reader(body);
  if (body.length !== 4) throw new OfpError('OFPBRC_BAD_LEN', `flow monitor cancel of ${body.length} bytes`);
  return { id: r.u32(0) };
}

export const encodeFlowMonitorCancel = (_v: OfpVersion, m: { id: number }): Uint8Array => new Writer().u32(m.id).finish();
