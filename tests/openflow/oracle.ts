/**
 * The oracles of the codec tests: Debian's ovs-ofctl. `ofpPrint` decodes a whole message we
 * encoded; `ofctlParseFlow` is what ovs-ofctl's own parser makes of a flow text (the line its
 * parse-flow prints for the message it would send); `captureOfctl` (ofctl-capture.ts) records
 * what it really sends. Messages are framed here: ofp_header (+ Nicira vendor header).
 */
import { spawnSync } from 'node:child_process';
import { decodeFlowMod, decodeNxFlowMod, type FlowModMsg } from '../../src/openflow/flow-msgs.ts';
import type { OfpVersion } from '../../src/openflow/version.ts';
import { captureOfctl } from './ofctl-capture.ts';
import type { FlowMod } from '../../src/ofproto/index.ts';
import type { SubField } from '../../src/ofproto/actions.ts';
import type { FieldDef } from '../../src/ofproto/fields.ts';

export const VERSION_NAME = new Map<number, string>([[1, 'OpenFlow10'], [4, 'OpenFlow13'], [5, 'OpenFlow14'], [6, 'OpenFlow15']]);

export function frame(version: number, type: number, body: Uint8Array, xid = 1): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, version); dv.setUint8(1, type); dv.setUint16(2, out.length); dv.setUint32(4, xid);
  out.set(body, 8);
  return out;
}

/** A Nicira message: OFPT_VENDOR/EXPERIMENTER (4), vendor 0x2320, subtype. */
export function nxFrame(version: number, subtype: number, body: Uint8Array, xid = 1): Uint8Array {
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, 0x2320); dv.setUint32(4, subtype);
  return frame(version, 4, concat(head, body), xid);
}

/** A stats/multipart request or reply: type 16/17 (1.0) or 18/19 (1.1+), stats type, flags. */
export function statsFrame(version: number, reply: boolean, statsType: number, body: Uint8Array, nxSubtype?: number): Uint8Array {
  const base = version === 1 ? 16 : 18;
  const head = new Uint8Array(version === 1 ? 4 : 8);
  new DataView(head.buffer).setUint16(0, statsType);
  let b = concat(head, new Uint8Array(0));
  if (nxSubtype !== undefined) {
    const nx = new Uint8Array(12);
    const dv = new DataView(nx.buffer);
    dv.setUint32(0, 0x2320); dv.setUint32(4, nxSubtype);
    b = concat(head.subarray(0, 4), nx);
  }
  return frame(version, base + (reply ? 1 : 0), concat(b, body));
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a); out.set(b, a.length);
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** ovs-ofctl ofp-print of a message, without the "(xid=...)" and OF version noise: the text after "): ". */
export function ofpPrint(msg: Uint8Array, verbosity?: number): string {
  const args = ['ofp-print', hex(msg)];
  if (verbosity !== undefined) args.push(String(verbosity));
  const r = spawnSync('ovs-ofctl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ovs-ofctl ofp-print failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The body of a printed message: everything after the first "): " (the header part). */
export function printedBody(s: string): string {
  const i = s.indexOf('): ');
  return (i < 0 ? s : s.slice(i + 3)).trim();
}

/** ovs-ofctl -O VERSION parse-flow TEXT: the printed flow-mod it would send, and its protocol. */
export function ofctlParseFlow(version: number, text: string): { protocol: string; line: string } {
  const r = spawnSync('ovs-ofctl', ['-O', VERSION_NAME.get(version)!, 'parse-flow', text], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ovs-ofctl parse-flow ${text}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const protocol = (lines.find((l) => l.startsWith('chosen protocol: ')) ?? '').slice('chosen protocol: '.length);
  return { protocol, line: printedBody(lines[lines.length - 1]!) };
}

/** A parsed ovs-ofctl flow (parse.ts) as an add flow-mod message. */
export function addMsg(fm: FlowMod): FlowModMsg {
  return {
    command: 'add', cookie: fm.cookie, cookieMask: 0n, table: fm.table ?? 0, idleTimeout: fm.idleTimeout, hardTimeout: fm.hardTimeout,
    priority: fm.priority, bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, flags: fm.sendFlowRem ? 1 : 0,
    importance: 0, match: fm.match, actions: fm.actions,
  };
}

/**
 * What a match or action list means, as comparable text: spellings dropped, a field by where
 * its bits are (tp_src and tcp_src are the same bits; NXM_OF_TCP_SRC parses as either).
 */
export function meaning(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => {
    if (k === 'spelling') return undefined;
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint32Array || x instanceof Uint8Array) return Array.from(x);
    if (x !== null && typeof x === 'object' && 'nBits' in x && 'field' in x) {
      const sf = x as SubField;
      return `bits ${sf.field.word}/${sf.field.nWords}:${sf.field.shift + sf.ofs}+${sf.nBits}`;
    }
    if (x !== null && typeof x === 'object' && 'nxm' in x) {
      const d = x as FieldDef;
      return `field ${d.word}/${d.nWords}:${d.shift}+${d.bits}`;
    }
    // Key order is no part of the meaning (a decoder sets keys in wire order).
    if (x !== null && typeof x === 'object' && !Array.isArray(x) && !('value' in x && 'mask' in x && x.value instanceof Uint32Array)) {
      return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return x;
  });
}

/** What ovs-ofctl -O v add-flow sends for `text`, decoded (NXT_FLOW_MOD or OFPT_FLOW_MOD). */
export async function capturedAdd(v: OfpVersion, text: string, cmd = 'add-flow'): Promise<FlowModMsg> {
  const msgs = await captureOfctl(v, [cmd, 'SOCK', text]);
  const fm = msgs.find((m) => m.type === 14 || (m.type === 4 && new DataView(m.bytes.buffer).getUint32(12) === 13));
  if (!fm) throw new Error(`no flow-mod among ${msgs.map((m) => m.type).join(',')}`);
  return fm.type === 14 ? decodeFlowMod(v, fm.bytes.subarray(8)) : decodeNxFlowMod(v, fm.bytes.subarray(16));
}

