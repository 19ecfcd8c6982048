/**
 * OpenFlow 1.1+ instructions (OpenFlow 1.3 §7.2.4), to and from bvs's OfAction[].
 *
 * bvs has no action set, so the instructions it takes are the ones that map onto an ordered
 * action list without changing meaning. OpenFlow runs a flow's instructions in a fixed order
 * whatever their order on the wire (§5.9: meter, apply-actions, clear-actions, write-actions,
 * write-metadata, goto-table), so:
 *   meter(M), apply_actions(A), write_metadata(V/M), goto_table(T)
 *     ==  meter:M, A, write_metadata:V/M, goto_table:T
 * which is how ovs-ofctl writes such a flow and how bvs's ofproto holds it. In OpenFlow 1.5
 * meter is an action (OFPAT_METER, actions.ts) and the instruction is unknown
 * (OFPBIC_UNKNOWN_INST, as OVS). clear_actions and write_actions are refused
 * (OFPBIC_UNSUP_INST) until action sets exist; experimenter instructions as
 * OFPBIC_BAD_EXPERIMENTER. Each type may appear once (OFPBIC_DUP_INST).
 *
 * Encoding is the reverse: before 1.5 a leading meter becomes the meter instruction; the actions
 * before a trailing write_metadata / goto_table go into apply_actions, then the write_metadata
 * and goto_table instructions.
 */
import type { OfAction } from '../ofproto/actions.ts';
import { OfpError } from './errors.ts';
import { OFP15, type OfpVersion } from './version.ts';
import { Reader, Writer } from './bytes.ts';
import { decodeActions, encodeOne, startContext, type ActionContext } from './actions.ts';

const OFPIT = { GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6, STAT_TRIGGER: 7 } as const;
const UNSUPPORTED = new Map<number, string>([
  [OFPIT.WRITE_ACTIONS, 'write_actions'], [OFPIT.CLEAR_ACTIONS, 'clear_actions'], [OFPIT.STAT_TRIGGER, 'stat_trigger'],
]);

export function decodeInstructions(version: OfpVersion, bytes: Uint8Array, off = 0, len = bytes.length - off): OfAction[] {
  const r = new Reader(bytes, 'OFPBIC_BAD_LEN', 'instructions');
  r.needAt(off, len);
  const end = off + len;
  const seen = new Set<number>();
  let apply: OfAction[] = [], goto: number | undefined, meta: { value: bigint; mask: bigint } | undefined, meter: number | undefined;
  for (let at = off; at < end;) {
    if (end - at < 4) throw new OfpError('OFPBIC_BAD_LEN', `${end - at} bytes left over after the instructions`);
    const type = r.u16(at), ilen = r.u16(at + 2);
    if (ilen < 8 || ilen % 8 !== 0 || at + ilen > end) throw new OfpError('OFPBIC_BAD_LEN', `instruction ${type} has length ${ilen} (${end - at} bytes left)`);
    if (seen.has(type)) throw new OfpError('OFPBIC_DUP_INST', `instruction ${type} appears twice`);
    seen.add(type);
    const fixed = (n: number, name: string): void => {
      if (ilen !== n) throw new OfpError('OFPBIC_BAD_LEN', `${name} instruction has length ${ilen}, wants ${n}`);
    };
    switch (type) {
      case OFPIT.GOTO_TABLE: {
        fixed(8, 'goto_table');
        goto = r.u8(at + 4);
        if (goto === 255) throw new OfpError('OFPBIC_BAD_TABLE_ID', 'goto_table 255');
        break;
      }
      case OFPIT.WRITE_METADATA:
        fixed(24, 'write_metadata');
        meta = { value: r.u64(at + 8), mask: r.u64(at + 16) };
        break;
      case OFPIT.APPLY_ACTIONS:
        apply = decodeActions(version, bytes, at + 8, ilen - 8, 'nested');
        break;
      case OFPIT.METER:
        if (version >= OFP15) throw new OfpError('OFPBIC_UNKNOWN_INST', 'meter is an action in OpenFlow 1.5, not an instruction');
        fixed(8, 'meter');
        meter = r.u32(at + 4);
        break;
      case 0xffff: throw new OfpError('OFPBIC_BAD_EXPERIMENTER', `experimenter instruction 0x${r.u32(at + 4).toString(16)} is not supported`);
      default: {
        const name = UNSUPPORTED.get(type);
        if (name) throw new OfpError('OFPBIC_UNSUP_INST', `instruction ${name} is not supported by bvs yet (no action sets or meters)`);
        throw new OfpError('OFPBIC_UNKNOWN_INST', `unknown instruction type ${type}`);
      }
    }
    at += ilen;
  }
  const out = meter === undefined ? apply : [{ type: 'meter', id: meter } as OfAction, ...apply];
  if (meta) out.push({ type: 'write_metadata', value: meta.value & meta.mask, mask: meta.mask });
  if (goto !== undefined) out.push({ type: 'goto_table', table: goto });
  return out;
}

/** apply_actions (when there are any), then write_metadata and goto_table (when the list ends with them). */
export function encodeInstructions(version: OfpVersion, actions: readonly OfAction[], ctx: ActionContext = {}): Uint8Array {
  const w = new Writer();
  let body = actions;
  const last = body[body.length - 1];
  const goto = last?.type === 'goto_table' ? last.table : undefined;
  if (goto !== undefined) body = body.slice(0, -1);
  const wm = body[body.length - 1];
  const meta = wm?.type === 'write_metadata' ? wm : undefined;
  if (meta) body = body.slice(0, -1);
  const first = body[0];
  if (first?.type === 'meter' && version < OFP15) {
    w.u16(OFPIT.METER).u16(8).u32(first.id);
    body = body.slice(1);
  }
  if (body.length > 0) {
    const at = w.len;
    w.u16(OFPIT.APPLY_ACTIONS).u16(0).pad(4);
    const c = startContext(ctx);
    for (const a of body) encodeOne(version, w, a, c);
    w.setU16(at + 2, w.len - at);
  }
  if (meta) w.u16(OFPIT.WRITE_METADATA).u16(24).pad(4).u64(meta.value).u64(meta.mask);
  if (goto !== undefined) w.u16(OFPIT.GOTO_TABLE).u16(8).u8(goto).pad(3);
  return w.finish();
}
