/**
 * The pipeline's flow: a packet's header fields plus the pipeline metadata (metadata, reg0-reg15,
 * conj_id),
 * as a fixed array of unsigned 32-bit words. This is the one representation the classifier,
 * the matches, the actions and xlate share, because hashing and masking a Uint32Array is what
 * makes a million lookups a second possible in JS (no bigints, no 48-bit arithmetic).
 *
 * Layout (word index -> content), grouped in the classifier's lookup stages in the order OVS uses
 * (lib/flow.h FLOW_SEGMENT_*): metadata, L2, L3, L4. A stage is consulted only when the earlier
 * stages matched, so a miss early un-wildcards only the early bits.
 *
 * Conventions shared with src/datapath/flow.ts (FlowKey): ARP op lives in nw_proto and ARP
 * spa/tpa in nw_src/nw_dst; ICMP type/code live in tp_src/tp_dst; vlan_tci carries VLAN_CFI
 * when the frame is tagged. Multi-word fields are most significant word first.
 *
 * Metadata and registers are not packet fields: every translation starts them at 0, so they
 * never appear in a datapath megaflow (their bits are pipeline-derived from packet bits that are).
 */
import { emptyKey, type FlowKey, type FlowMask } from '../datapath/index.ts';

export const W = {
  METADATA: 0,        // 2 words: hi, lo
  REG0: 2,            // reg0..reg15: words 2..17; xregN = words 2+2N (high), 3+2N; xxregN = 2+4N..5+4N
  CONJ_ID: 18,        // conj_id: set only while the classifier resolves a conjunctive match (conj.ts)
  IN_PORT: 19,        // OpenFlow port number
  // ---- L2
  DL_SRC: 20,         // 2 words: hi16, lo32
  DL_DST: 22,         // 2 words
  DL_TYPE: 24,
  VLAN_TCI: 25,
  // ---- L3
  NW_SRC: 26,         // IPv4 source / ARP spa
  NW_DST: 27,         // IPv4 destination / ARP tpa
  NW_PROTO: 28,       // IP protocol / ARP op
  NW_TOS: 29,         // DSCP << 2 | ECN
  NW_TTL: 30,
  NW_FRAG: 31,
  ARP_SHA: 32,        // 2 words
  ARP_THA: 34,        // 2 words
  IPV6_SRC: 36,       // 4 words
  IPV6_DST: 40,       // 4 words
  IPV6_LABEL: 44,
  // ---- L4
  TP_SRC: 45,         // TCP/UDP/SCTP port / ICMP type
  TP_DST: 46,         // TCP/UDP/SCTP port / ICMP code
  TCP_FLAGS: 47,
} as const;

export const N_WORDS = 48;
/** Registers reg0..reg15 (OVS FLOW_N_REGS). */
export const N_REGS = 16;

/** First word index of each stage after the first; a stage ends where the next begins. */
export const STAGE_ENDS = [W.DL_SRC, W.NW_SRC, W.TP_SRC, N_WORDS] as const;
export const N_STAGES = STAGE_ENDS.length;

export function stageOf(word: number): number {
  for (let s = 0; s < N_STAGES; s++) if (word < STAGE_ENDS[s]!) return s;
  throw new RangeError(`word ${word} out of range`);
}

/** Flow words: values or, with the same layout, a mask (1-bits matter). */
export type Words = Uint32Array;

export function newWords(): Words {
  return new Uint32Array(N_WORDS);
}

const TWO32 = 2 ** 32;

export function split48(v: number): [number, number] {
  return [Math.floor(v / TWO32) & 0xffff, v >>> 0];
}

export function join48(hi: number, lo: number): number {
  return (hi & 0xffff) * TWO32 + (lo >>> 0);
}

export function split128(v: bigint): [number, number, number, number] {
  return [
    Number((v >> 96n) & 0xffffffffn), Number((v >> 64n) & 0xffffffffn),
    Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn),
  ];
}

export function join128(w: Words, at: number): bigint {
  return (BigInt(w[at]!) << 96n) | (BigInt(w[at + 1]!) << 64n) | (BigInt(w[at + 2]!) << 32n) | BigInt(w[at + 3]!);
}

/**
 * Datapath FlowKey (or FlowMask, same shape) -> words. `inPort` is the OpenFlow port the caller
 * already mapped from the datapath port. Metadata and registers start at 0: `into`, when given,
 * must be a fresh (all-zero) array, since only the packet words are written.
 */
export function wordsFromKey(k: FlowKey, inPort: number = k.inPort, into?: Words): Words {
  // Called for every upcall: no tuples, no bigint work for the (usual) all-zero IPv6 fields.
  const w = into ?? newWords();
  w[W.IN_PORT] = inPort;
  put48(w, W.DL_SRC, k.ethSrc);
  put48(w, W.DL_DST, k.ethDst);
  w[W.DL_TYPE] = k.ethType;
  w[W.VLAN_TCI] = k.vlanTci;
  w[W.NW_SRC] = k.ipv4Src;
  w[W.NW_DST] = k.ipv4Dst;
  w[W.NW_PROTO] = k.ipProto;
  w[W.NW_TOS] = k.ipTos;
  w[W.NW_TTL] = k.ipTtl;
  w[W.NW_FRAG] = k.ipFrag;
  put48(w, W.ARP_SHA, k.arpSha);
  put48(w, W.ARP_THA, k.arpTha);
  put128(w, W.IPV6_SRC, k.ipv6Src);
  put128(w, W.IPV6_DST, k.ipv6Dst);
  w[W.IPV6_LABEL] = k.ipv6Label;
  w[W.TP_SRC] = k.tpSrc;
  w[W.TP_DST] = k.tpDst;
  w[W.TCP_FLAGS] = k.tcpFlags;
  return w;
}

function put48(w: Words, at: number, v: number): void {
  w[at] = Math.floor(v / TWO32) & 0xffff;
  w[at + 1] = v >>> 0;
}

function put128(w: Words, at: number, v: bigint): void {
  if (v === 0n) { w[at] = 0; w[at + 1] = 0; w[at + 2] = 0; w[at + 3] = 0; return; }
  w.set(split128(v), at);
}

function get128(w: Words, at: number): bigint {
  return (w[at]! | w[at + 1]! | w[at + 2]! | w[at + 3]!) === 0 ? 0n : join128(w, at);
}

/** Words -> datapath FlowKey/FlowMask; metadata and registers are dropped (see the note above). */
export function keyFromWords(w: Words, inPort: number = w[W.IN_PORT]!): FlowKey | FlowMask {
  const k = emptyKey();
  k.inPort = inPort;
  k.ethSrc = join48(w[W.DL_SRC]!, w[W.DL_SRC + 1]!);
  k.ethDst = join48(w[W.DL_DST]!, w[W.DL_DST + 1]!);
  k.ethType = w[W.DL_TYPE]!;
  k.vlanTci = w[W.VLAN_TCI]!;
  k.ipv4Src = w[W.NW_SRC]!;
  k.ipv4Dst = w[W.NW_DST]!;
  k.ipProto = w[W.NW_PROTO]!;
  k.ipTos = w[W.NW_TOS]!;
  k.ipTtl = w[W.NW_TTL]!;
  k.ipFrag = w[W.NW_FRAG]!;
  k.arpSha = join48(w[W.ARP_SHA]!, w[W.ARP_SHA + 1]!);
  k.arpTha = join48(w[W.ARP_THA]!, w[W.ARP_THA + 1]!);
  k.ipv6Src = get128(w, W.IPV6_SRC);
  k.ipv6Dst = get128(w, W.IPV6_DST);
  k.ipv6Label = w[W.IPV6_LABEL]!;
  k.tpSrc = w[W.TP_SRC]!;
  k.tpDst = w[W.TP_DST]!;
  k.tcpFlags = w[W.TCP_FLAGS]!;
  return k;
}

/** Reserved OpenFlow port numbers (OpenFlow 1.0 numbering, as ovs-ofctl prints them). */
export const OFPP = {
  MAX: 0xff00,
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  NONE: 0xffff,
} as const;

const PORT_NAMES = new Map<number, string>([
  [OFPP.IN_PORT, 'IN_PORT'], [OFPP.TABLE, 'TABLE'], [OFPP.NORMAL, 'NORMAL'],
  [OFPP.FLOOD, 'FLOOD'], [OFPP.ALL, 'ALL'], [OFPP.CONTROLLER, 'CONTROLLER'],
  [OFPP.LOCAL, 'LOCAL'], [OFPP.NONE, 'NONE'],
]);
/** Name -> number: a Map, so a user's "constructor" or "__proto__" is no port name. */
const PORT_NUMBERS = new Map<string, number>([...PORT_NAMES].map(([n, name]) => [name, n]));

export function formatPort(p: number): string {
  return PORT_NAMES.get(p) ?? String(p);
}

/** A port number or reserved name (case-insensitive); undefined when not one. */
export function parsePortName(s: string): number | undefined {
  const named = PORT_NUMBERS.get(s.toUpperCase());
  if (named !== undefined) return named;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= 0xffffffff) return n;
  }
  return undefined;
}

export const ETH = { IP: 0x0800, ARP: 0x0806, RARP: 0x8035, IPV6: 0x86dd } as const;
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;
