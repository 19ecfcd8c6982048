/**
 * Fuzz targets of the OpenFlow codec (src/openflow): matches, action lists and instructions,
 * and the flow message bodies. An input is bytes whose first byte (and, for messages, second)
 * picks the format and version, so mutations also move between decoders.
 *
 * Beyond "a result or an OfpError": whatever decodes must encode in the same format and decode
 * back to the same meaning (decode-encode-decode). Meaning is compared as the codec promises
 * it: a field by where its bits are, spellings aside, and a set of one field's bits as one
 * masked set however many reg_loads carried it (OVS splits a masked set into reg_loads).
 */
import { parseFlow, type OfAction } from '../../../src/ofproto/index.ts';
import { allFields, fieldFullMask } from '../../../src/ofproto/fields.ts';
import { Match } from '../../../src/ofproto/match.ts';
import { OfpError } from '../../../src/openflow/errors.ts';
import { OXM_FIELDS } from '../../../src/openflow/oxm.ts';
import {
  decodeNxMatch, decodeOf10Match, decodeOxmMatch, encodeNxMatch, encodeOf10Match, encodeOxmMatch,
} from '../../../src/openflow/match.ts';
import { decodeActions, encodeActions } from '../../../src/openflow/actions.ts';
import { decodeInstructions, encodeInstructions } from '../../../src/openflow/instructions.ts';
import { loadAsSetField } from '../../../src/openflow/set-field.ts';
import * as fm from '../../../src/openflow/flow-msgs.ts';
import * as fs from '../../../src/openflow/flow-stats.ts';
import * as pk from '../../../src/openflow/packet-msgs.ts';
import type { OfpVersion } from '../../../src/openflow/version.ts';
import { byteInputs } from '../mutate.ts';
import { PropertyViolation, prototypeState, type Target } from '../target.ts';

const VERSIONS: readonly OfpVersion[] = [1, 4, 5, 6];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Flows whose encodings seed every target. */
const FLOWS = [
  'priority=0,actions=NORMAL', 'tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2,mod_tp_dst:8080',
  'in_port=3,dl_vlan=10,dl_vlan_pcp=3,actions=strip_vlan,mod_dl_src:00:11:22:33:44:55,output:1',
  'dl_vlan=0xffff,dl_src=01:00:00:00:00:00/01:00:00:00:00:00,actions=mod_vlan_vid:7,mod_vlan_pcp:2,output:4',
  'reg0=5,reg3=0x10/0xf0,metadata=0x5/0xff,actions=load:3->NXM_NX_REG1[0..7],move:NXM_NX_REG0[]->NXM_NX_REG2[],resubmit(,3)',
  'arp,arp_tpa=10.0.0.1,arp_op=1,arp_sha=00:00:00:00:00:01,actions=controller(reason=no_match,max_len=100,id=3),resubmit:4',
  'udp6,ipv6_src=fe80::1/64,udp_src=53,actions=set_field:0x5/0x5->reg1,group:5,dec_ttl',
  'icmp,icmp_type=8,nw_tos=16,nw_ecn=1,nw_ttl=9,actions=CONTROLLER:200,set_field:::1->ipv6_src,mod_nw_tos:4',
  'sctp,tp_src=9,actions=FLOOD,set_field:10.0.0.1->nw_dst,push_vlan:0x8100',
  // Nicira actions and the register views (actions-nx.ts, nx-*.ts)
  'reg9=5,xreg3=0x1/0xff,actions=load:1->NXM_NX_REG9[],note:01.02,clone(output:1,clone(note:ff)),multipath(eth_src,50,modulo_n,2,0,NXM_NX_REG10[0..1])',
  'xxreg1=0x10,conj_id=4,actions=output:NXM_NX_REG12[0..15],push:OXM_OF_PKT_REG5[8..23],pop:NXM_NX_XXREG3[],dec_ttl(1,2)',
  'actions=controller(userdata=01.02.03,pause,reason=no_match,id=2,max_len=9),bundle_load(symmetric_l4,5,active_backup,ofport,NXM_NX_REG11[],members:4,8)',
  'actions=bundle(eth_src,0,hrw,ofport,members:1,2),enqueue:1:2,set_queue:5,output(port=2,max_len=100),write_metadata:0x5/0xff',
  'actions=conjunction(7,1/2),note:aa,conjunction(8,2/2)',
  'actions=learn(table=2,idle_timeout=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],NXM_OF_VLAN_TCI[0..11],load:NXM_OF_IN_PORT[]->NXM_NX_REG14[0..15],output:NXM_OF_IN_PORT[])',
  'actions=learn(eth_type=0x800,nw_proto=6,tcp_dst=80,load:0xabcdef012345->OXM_OF_PKT_REG7[0..47],send_flow_rem,delete_learned),load:0x3->NXM_NX_XXREG1[64..127]',
];

function flows(): ReturnType<typeof parseFlow>[] {
  return FLOWS.map((f) => parseFlow(f));
}

function tryEnc(f: () => Uint8Array): Uint8Array[] {
  try { return [f()]; } catch (e) { if (e instanceof OfpError) return []; throw e; }
}

/** The canonical meaning of a decoded value (see the note at the top). */
export function meaning(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => {
    if (k === 'spelling') return undefined;
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint32Array || x instanceof Uint8Array) return Array.from(x);
    if (Array.isArray(x) && x.every((a) => a !== null && typeof a === 'object' && 'type' in a)) return mergeSets(x as OfAction[]);
    if (x !== null && typeof x === 'object' && 'nBits' in x && 'field' in x) {
      const sf = x as { field: { word: number; shift: number }; ofs: number; nBits: number };
      return `bits ${sf.field.word}:${sf.field.shift + sf.ofs}+${sf.nBits}`;
    }
    if (x !== null && typeof x === 'object' && 'nxm' in x) {
      const d = x as unknown as { word: number; nWords: number; shift: number; bits: number };
      return `field ${d.word}/${d.nWords}:${d.shift}+${d.bits}`;
    }
    // Key order is no part of the meaning: a decoder may set optional keys in wire order.
    if (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Match)) {
      return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return x;
  });
}

/** loads as masked set_fields, and consecutive sets of one field's disjoint bits as one. */
function mergeSets(acts: readonly OfAction[]): unknown[] {
  const out: OfAction[] = [];
  for (const a0 of acts) {
    const a = a0.type === 'load' ? loadAsSetField(a0) : a0;
    const prev = out[out.length - 1];
    if (a.type === 'set_field' && prev?.type === 'set_field' && prev.field === a.field) {
      const full = fieldFullMask(a.field), pm = prev.mask ?? full, am = a.mask ?? full;
      if ((pm & am) === 0n) {
        const mask = pm | am;
        out[out.length - 1] = { ...prev, value: (prev.value & pm) | (a.value & am), mask: mask === full ? undefined : mask };
        continue;
      }
    }
    out.push(a.type === 'set_field' ? { ...a, mask: a.mask === fieldFullMask(a.field) ? undefined : a.mask } : a);
  }
  return out;
}

/** decode; if it decoded, encode and decode again: any failure past the first decode is a defect. */
export function roundTrip<T>(what: string, decode: () => T, encode: (v: T) => Uint8Array, decodeAgain: (b: Uint8Array) => T): void {
  let first: T;
  try { first = decode(); } catch (e) { if (e instanceof OfpError) return; throw e; }
  let again: T;
  try {
    again = decodeAgain(encode(first));
  } catch (e) {
    throw new PropertyViolation(`${what} decoded as ${meaning(first)} but does not encode and decode back: ${(e as Error).message}`);
  }
  if (meaning(again) !== meaning(first)) throw new PropertyViolation(`${what}: ${meaning(first)} came back as ${meaning(again)}`);
}

function state(): unknown[] {
  return [...prototypeState(), ...allFields(), ...OXM_FIELDS];
}

export const bytesTarget = {
  encode: hex,
  decode: (j: unknown) => Uint8Array.from(Buffer.from(j as string, 'hex')),
  inputs: byteInputs,
  isNamed: (e: unknown) => e instanceof OfpError,
  state,
};

// ---- matches: byte 0 picks OpenFlow 1.0 (0), OXM (1) or NXM (2)

export const ofMatch: Target<Uint8Array> = {
  ...bytesTarget,
  name: 'of-match',
  builtSeeds: () => flows().flatMap((f) => [
    ...tryEnc(() => cat(Uint8Array.of(0), encodeOf10Match(f.match))),
    cat(Uint8Array.of(1), encodeOxmMatch(f.match)),
    cat(Uint8Array.of(2), encodeNxMatch(f.match, 0x1234n, 0xffn)),
  ]),
  run(input) {
    if (input.length === 0) return;
    const b = input.subarray(1);
    switch (input[0]! % 3) {
      case 0: return roundTrip('OpenFlow 1.0 match', () => decodeOf10Match(b), encodeOf10Match, (x) => decodeOf10Match(x));
      case 1: return roundTrip('OXM match', () => decodeOxmMatch(b).match, encodeOxmMatch, (x) => decodeOxmMatch(x).match);
      default: return roundTrip('nx_match', () => decodeNxMatch(b, 0, b.length),
        (m) => encodeNxMatch(m.match, m.cookie, m.cookieMask), (x) => decodeNxMatch(x, 0, x.length));
    }
  },
};

// ---- action lists (byte 0: version index, bit 2: instructions)

/** The action context of the seeds and the round trip: a TCP match (mod_tp_* needs one). */
const TCP = parseFlow('tcp,actions=drop').match;

export const ofActions: Target<Uint8Array> = {
  ...bytesTarget,
  name: 'of-actions',
  builtSeeds: () => flows().flatMap((f) => VERSIONS.flatMap((v, i) => [
    ...tryEnc(() => cat(Uint8Array.of(i), encodeActions(v, f.actions.filter((a) => a.type !== 'goto_table'), { match: f.match }))),
    ...(v === 1 ? [] : tryEnc(() => cat(Uint8Array.of(i | 4), encodeInstructions(v, [...f.actions, { type: 'goto_table', table: 3 }], { match: f.match })))),
  ])),
  run(input) {
    if (input.length === 0) return;
    const v = VERSIONS[input[0]! & 3]!, b = input.subarray(1);
    if (input[0]! & 4 && v !== 1) {
      return roundTrip('instructions', () => decodeInstructions(v, b), (a) => encodeInstructions(v, a, { match: TCP }), (x) => decodeInstructions(v, x));
    }
    roundTrip('actions', () => decodeActions(v, b), (a) => encodeActions(v, a, { match: TCP }), (x) => decodeActions(v, x));
  },
};

// ---- message bodies (byte 0: version index, byte 1: message kind)

interface Codec<T> { dec: (v: OfpVersion, b: Uint8Array) => T; enc: (v: OfpVersion, x: T) => Uint8Array }
const codec = <T>(dec: Codec<T>['dec'], enc: Codec<T>['enc']): Codec<unknown> => ({ dec, enc: enc as Codec<unknown>['enc'] });
const KINDS: readonly Codec<unknown>[] = [
  codec(fm.decodeFlowMod, fm.encodeFlowMod), codec(fm.decodeNxFlowMod, fm.encodeNxFlowMod),
  codec(fs.decodeFlowStatsRequest, fs.encodeFlowStatsRequest), codec(fs.decodeNxFlowStatsRequest, fs.encodeNxFlowStatsRequest),
  codec(fs.decodeFlowStatsReply, fs.encodeFlowStatsReply), codec(fs.decodeNxFlowStatsReply, fs.encodeNxFlowStatsReply),
  codec(fs.decodeAggregateReply, fs.encodeAggregateReply), codec(pk.decodeFlowRemoved, pk.encodeFlowRemoved),
  codec(pk.decodeNxFlowRemoved, pk.encodeNxFlowRemoved), codec(pk.decodePacketOut, pk.encodePacketOut),
  codec(pk.decodePacketIn, pk.encodePacketIn), codec(pk.decodePacketIn2, pk.encodePacketIn2),
];

function messageSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const add = (vi: number, kind: number, f: () => Uint8Array): void => { for (const b of tryEnc(f)) out.push(cat(Uint8Array.of(vi, kind), b)); };
  for (const f of flows()) {
    const msg: fm.FlowModMsg = {
      command: 'modify_strict', cookie: 5n, cookieMask: 0xffn, table: 1, idleTimeout: 3, hardTimeout: 4, priority: f.priority,
      bufferId: fm.OFP_NO_BUFFER, outPort: 0xffff, outGroup: fm.OFPG_ANY, flags: 1, importance: 0, match: f.match, actions: f.actions,
    };
    const st: fs.FlowStats = {
      table: 2, durationSec: 9, durationNsec: 10, priority: f.priority, idleTimeout: 1, hardTimeout: 2, flags: 0, importance: 0,
      cookie: 7n, packetCount: 11n, byteCount: 12n, idleAge: 0, hardAge: 0, match: f.match, actions: f.actions,
    };
    const rm: pk.FlowRemovedMsg = {
      cookie: 1n, priority: 2, reason: 2, table: 0, durationSec: 3, durationNsec: 4, idleTimeout: 5, hardTimeout: 0, packetCount: 6n, byteCount: 7n, match: f.match,
    };
    VERSIONS.forEach((v, i) => {
      add(i, 0, () => fm.encodeFlowMod(v, { ...msg, cookieMask: v === 1 ? 0n : msg.cookieMask, table: v === 1 ? 0xff : 1 }));
      add(i, 1, () => fm.encodeNxFlowMod(v, { ...msg, table: 0xff }));
      add(i, 2, () => fs.encodeFlowStatsRequest(v, { table: 0xff, outPort: 0xffff, outGroup: fm.OFPG_ANY, cookie: 0n, cookieMask: 0n, match: f.match }));
      add(i, 3, () => fs.encodeNxFlowStatsRequest(v, { table: 0xff, outPort: 2, outGroup: fm.OFPG_ANY, cookie: 3n, cookieMask: 3n, match: f.match }));
      add(i, 4, () => fs.encodeFlowStatsReply(v, [st, st]));
      add(i, 5, () => fs.encodeNxFlowStatsReply(v, [st]));
      add(i, 6, () => fs.encodeAggregateReply(v, { packetCount: 1n, byteCount: 2n, flowCount: 3 }));
      add(i, 7, () => pk.encodeFlowRemoved(v, rm));
      add(i, 8, () => pk.encodeNxFlowRemoved(v, rm));
      add(i, 9, () => pk.encodePacketOut(v, { bufferId: fm.OFP_NO_BUFFER, inPort: 1, actions: f.actions.filter((a) => a.type !== 'goto_table'), data: Uint8Array.of(1, 2, 3) }));
      const pin: pk.PacketInMsg = { bufferId: fm.OFP_NO_BUFFER, totalLen: 3, reason: 1, table: 0, cookie: 0n, match: portMatch(3), data: Uint8Array.of(9, 8, 7) };
      add(i, 10, () => pk.encodePacketIn(v, pin));
      add(i, 11, () => pk.encodePacketIn2(v, { ...pin, userdata: Uint8Array.of(1) }));
    });
  }
  return out;
}

function portMatch(p: number): Match {
  const m = new Match();
  m.mask[10] = 0xffffffff;
  m.value[10] = p;
  return m;
}

export const ofMessages: Target<Uint8Array> = {
  ...bytesTarget,
  name: 'of-flow-msgs',
  builtSeeds: messageSeeds,
  run(input) {
    if (input.length < 2) return;
    const v = VERSIONS[input[0]! & 3]!, k = KINDS[input[1]! % KINDS.length]!, b = input.subarray(2);
    roundTrip(`message kind ${input[1]! % KINDS.length} (OpenFlow 0x0${v})`, () => k.dec(v, b), (x) => k.enc(v, x), (x) => k.dec(v, x));
  },
};
