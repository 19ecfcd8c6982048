/** Seeded random rule sets and packets shared by the ofproto property tests. */
import { emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { Match, N_WORDS, W, type Words } from '../../src/ofproto/index.ts';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const ADDRS = [0x0a000000, 0x0a000100, 0x0a010000, 0xc0a80000, 0x0a000001, 0xc0a80101, 0x80000000];
const PLENS = [0, 1, 8, 16, 24, 32];

function prefix(p: number): number {
  return p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
}

/** A random match over a few fields, with mixed masks, prerequisites respected. */
export function randomMatch(r: () => number): Match {
  const m = new Match();
  const set = (i: number, v: number, mask: number): void => { m.mask[i] = mask >>> 0; m.value[i] = (v & mask) >>> 0; };
  if (r() < 0.3) set(W.IN_PORT, 1 + Math.floor(r() * 3), 0xffffffff);
  if (r() < 0.2) set(W.REG0, Math.floor(r() * 3), r() < 0.5 ? 0xffffffff : 1);
  if (r() < 0.2) set(W.DL_SRC + 1, 1 + Math.floor(r() * 3), r() < 0.7 ? 0xffffffff : 1);
  if (r() < 0.2) set(W.VLAN_TCI, pick(r, [0, 0x100a, 0x1014]), r() < 0.7 ? 0x1fff : 0xffff);
  if (r() < 0.7) {
    const arp = r() < 0.2;
    set(W.DL_TYPE, arp ? 0x0806 : 0x0800, 0xffff);
    for (const w of [W.NW_SRC, W.NW_DST]) {
      if (r() < 0.5) set(w, pick(r, ADDRS), r() < 0.85 ? prefix(pick(r, PLENS)) : 0xff00ff00);
    }
    if (!arp && r() < 0.5) {
      set(W.NW_PROTO, pick(r, [6, 17]), 0xff);
      if (r() < 0.6) set(W.TP_DST, pick(r, [80, 443, 53]), r() < 0.8 ? 0xffff : 0xff00);
    }
  }
  return m;
}

/** A random packet (flow words) drawn near the values randomMatch uses. */
export function randomFlow(r: () => number): Words {
  const w = new Uint32Array(N_WORDS);
  w[W.IN_PORT] = 1 + Math.floor(r() * 4);
  w[W.REG0] = Math.floor(r() * 3);
  w[W.DL_SRC + 1] = 1 + Math.floor(r() * 4);
  w[W.VLAN_TCI] = pick(r, [0, 0x100a, 0x1014, 0x101e]);
  w[W.DL_TYPE] = pick(r, [0x0800, 0x0800, 0x0806, 0x86dd]);
  w[W.NW_SRC] = (pick(r, ADDRS) | (r() < 0.5 ? Math.floor(r() * 256) : 0)) >>> 0;
  w[W.NW_DST] = (pick(r, ADDRS) ^ (r() < 0.3 ? Math.floor(r() * 2 ** 32) : 0)) >>> 0;
  w[W.NW_PROTO] = pick(r, [6, 17, 1]);
  w[W.TP_DST] = pick(r, [80, 443, 53, 0x50 | 0x100]);
  return w;
}

/** A random datapath key for xlate tests. */
export function randomKey(r: () => number, ports: number[]): FlowKey {
  const k = emptyKey();
  k.inPort = pick(r, ports);
  k.ethSrc = pick(r, [0x020000000001, 0x020000000002, 0x020000000003, 0x030000000001]);
  k.ethDst = pick(r, [0x020000000001, 0x020000000002, 0x020000000004, 0xffffffffffff]);
  k.vlanTci = pick(r, [0, 0, 0x100a, 0x1014, 0x301e]);
  const t = pick(r, ['tcp', 'udp', 'icmp', 'arp', 'ipv6'] as const);
  k.ethType = t === 'arp' ? 0x0806 : t === 'ipv6' ? 0x86dd : 0x0800;
  k.ipProto = t === 'tcp' ? 6 : t === 'udp' || t === 'ipv6' ? 17 : t === 'icmp' ? 1 : 1;
  k.ipv4Src = (pick(r, ADDRS) | Math.floor(r() * 4)) >>> 0;
  k.ipv4Dst = (pick(r, ADDRS) | Math.floor(r() * 4)) >>> 0;
  k.ipTtl = pick(r, [0, 1, 2, 64]);
  k.ipTos = pick(r, [0, 4, 0x10]);
  k.tpSrc = pick(r, [1000, 2000]);
  k.tpDst = pick(r, [80, 443, 53]);
  if (t === 'ipv6') k.ipv6Src = 0xfe800000000000000000000000000001n;
  return k;
}

/** `q` = `p` on the bits of `mask`, random elsewhere (a packet inside the megaflow). */
export function randomInside(r: () => number, p: FlowKey, mask: FlowKey): FlowKey {
  const q = { ...p };
  const rnd = (bits: number): number => {
    let v = 0;
    for (let b = 0; b < bits; b += 16) v = v * 65536 + Math.floor(r() * 65536);
    return bits >= 48 ? v % 2 ** 48 : v % 2 ** bits;
  };
  const mixNum = (pv: number, mv: number, bits: number): number => {
    if (bits <= 32) {
      const rv = rnd(bits);
      return ((pv & mv) | (rv & ~mv & (bits === 32 ? 0xffffffff : (1 << bits) - 1))) >>> 0;
    }
    const hi = (x: number): number => Math.floor(x / 2 ** 32), lo = (x: number): number => x >>> 0;
    const rv = rnd(48);
    return ((hi(pv) & hi(mv)) | (hi(rv) & ~hi(mv) & 0xffff)) * 2 ** 32 + (((lo(pv) & lo(mv)) | (lo(rv) & ~lo(mv))) >>> 0);
  };
  const sizes: [keyof FlowKey, number][] = [
    ['ethSrc', 48], ['ethDst', 48], ['vlanTci', 16], ['ipProto', 8], ['ipTos', 8], ['ipTtl', 8],
    ['ipv4Src', 32], ['ipv4Dst', 32], ['arpSha', 48], ['arpTha', 48], ['tpSrc', 16], ['tpDst', 16],
  ];
  for (const [f, bits] of sizes) (q as Record<string, unknown>)[f] = mixNum(p[f] as number, mask[f] as number, bits);
  return q;
}
