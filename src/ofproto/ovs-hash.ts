/**
 * OVS's own flow hashes for multipath and bundle, bit for bit (lib/jhash.c lookup3, lib/hash.h
 * mhash, lib/flow.c flow_hash_fields), so that bvs picks the link or member OVS would pick for
 * the same packet: controllers that precompute a choice, and tests against ofproto/trace
 * (tests/ofproto/ovs-trace.test.ts), see the same answer.
 *
 * OVS hashes C structs in memory on a little-endian host (x86-64): network-order fields are
 * laid out as their bytes, and words are read back little-endian; padding is zero. Debian's
 * build uses the portable mhash (no SSE4.2 crc32), which is what is reproduced here.
 */
import type { HashFields } from './actions.ts';
import { ETH, PROTO, W, type Words } from './flow.ts';

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** lookup3's jhash_bytes over `b`, little-endian words. */
export function jhashBytes(b: Uint8Array, basis: number): number {
  let a = (0xdeadbeef + b.length + basis) >>> 0, bb = a, c = a;
  const word = (i: number): number => ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
  let p = 0, n = b.length;
  while (n >= 12) {
    a = (a + word(p)) >>> 0; bb = (bb + word(p + 4)) >>> 0; c = (c + word(p + 8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + bb) >>> 0;
    bb = (bb - a) >>> 0; bb = (bb ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - bb) >>> 0; c = (c ^ rot(bb, 8)) >>> 0; bb = (bb + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + bb) >>> 0;
    bb = (bb - a) >>> 0; bb = (bb ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - bb) >>> 0; c = (c ^ rot(bb, 4)) >>> 0; bb = (bb + a) >>> 0;
    n -= 12; p += 12;
  }
  if (n) {
    // The tail is zero-padded to three words (word() reads 0 past the end).
    const tail = new Uint8Array(12);
    tail.set(b.subarray(p));
    const t = (i: number): number => (tail[i]! | (tail[i + 1]! << 8) | (tail[i + 2]! << 16) | (tail[i + 3]! << 24)) >>> 0;
    a = (a + t(0)) >>> 0; bb = (bb + t(4)) >>> 0; c = (c + t(8)) >>> 0;
    c = (c ^ bb) >>> 0; c = (c - rot(bb, 14)) >>> 0;
    a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
    bb = (bb ^ a) >>> 0; bb = (bb - rot(a, 25)) >>> 0;
    c = (c ^ bb) >>> 0; c = (c - rot(bb, 16)) >>> 0;
    a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
    bb = (bb ^ a) >>> 0; bb = (bb - rot(a, 14)) >>> 0;
    c = (c ^ bb) >>> 0; c = (c - rot(bb, 24)) >>> 0;
  }
  return c;
}

/** mhash_add (hash_add without SSE4.2). */
export function hashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51);
    d = rot(d >>> 0, 15);
    d = Math.imul(d, 0x1b873593);
    hash = (hash ^ d) >>> 0;
  }
  hash = rot(hash >>> 0, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

/** hash_finish: mhash_finish(hash ^ final). */
export function hashFinish(hash: number, final: number): number {
  let h = (hash ^ final) >>> 0;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash2Words(x: number, y: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), y), 8);
}

const bswap32 = (x: number): number => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
const le32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

function put16(b: Uint8Array, at: number, v: number): void { b[at] = (v >>> 8) & 0xff; b[at + 1] = v & 0xff; }
function put32(b: Uint8Array, at: number, v: number): void { put16(b, at, v >>> 16); put16(b, at + 2, v & 0xffff); }

/**
 * flow_hash_fields(flow, fields, basis). `read(i, m)` returns flow word i under mask m and
 * un-wildcards it (the caller's megaflow bookkeeping); the words read are those OVS's
 * flow_mask_hash_fields un-wildcards, or more.
 */
export function ovsFlowHash(read: (i: number, m: number) => number, fields: HashFields, basis: number): number {
  const t = read(W.DL_TYPE, 0xffff);
  const ip4 = t === ETH.IP, ip6 = t === ETH.IPV6;
  const ethXor = (b: Uint8Array, at: number): void => {
    put16(b, at, read(W.DL_SRC, 0xffff) ^ read(W.DL_DST, 0xffff));
    put32(b, at + 2, read(W.DL_SRC + 1, 0xffffffff) ^ read(W.DL_DST + 1, 0xffffffff));
  };
  const addrXor = (b: Uint8Array): void => {
    if (ip4) put32(b, 0, read(W.NW_SRC, 0xffffffff) ^ read(W.NW_DST, 0xffffffff));
    else if (ip6) for (let i = 0; i < 4; i++) put32(b, 4 * i, read(W.IPV6_SRC + i, 0xffffffff) ^ read(W.IPV6_DST + i, 0xffffffff));
  };
  switch (fields) {
    case 'eth_src': {
      const b = new Uint8Array(6);
      put16(b, 0, read(W.DL_SRC, 0xffff));
      put32(b, 2, read(W.DL_SRC + 1, 0xffffffff));
      return jhashBytes(b, basis);
    }
    case 'nw_src': case 'nw_dst': {
      const src = fields === 'nw_src';
      if (ip4) { const b = new Uint8Array(4); put32(b, 0, read(src ? W.NW_SRC : W.NW_DST, 0xffffffff)); return jhashBytes(b, basis); }
      if (ip6) {
        const b = new Uint8Array(16);
        for (let i = 0; i < 4; i++) put32(b, 4 * i, read((src ? W.IPV6_SRC : W.IPV6_DST) + i, 0xffffffff));
        return jhashBytes(b, basis);
      }
      return basis;
    }
    case 'symmetric_l3': { // struct { union { be32; in6_addr }; be16 eth_type; } = 20 bytes
      const b = new Uint8Array(20);
      put16(b, 16, t);
      addrXor(b);
      return jhashBytes(b, basis);
    }
    case 'symmetric_l4': { // 16 addr, 2 eth_type, 2 vlan vid, 2 tp_port, 6 eth_addr, 1 ip_proto: 29 -> 32
      const b = new Uint8Array(32);
      ethXor(b, 22);
      put16(b, 18, read(W.VLAN_TCI, 0x0fff));
      put16(b, 16, t);
      if (ip4 || ip6) {
        addrXor(b);
        const p = read(W.NW_PROTO, 0xff);
        b[28] = p;
        if (p === PROTO.TCP || p === PROTO.SCTP) put16(b, 20, read(W.TP_SRC, 0xffff) ^ read(W.TP_DST, 0xffff));
      }
      return jhashBytes(b, basis);
    }
    case 'symmetric_l3l4': case 'symmetric_l3l4+udp': {
      let h = basis;
      if (ip4) h = hashAdd(h, bswap32(read(W.NW_SRC, 0xffffffff) ^ read(W.NW_DST, 0xffffffff)));
      else if (ip6) {
        const b = new Uint8Array(16);
        addrXor(b);
        for (let i = 0; i < 16; i += 4) h = hashAdd(h, le32(b, i));
      } else {
        // flow_hash_symmetric_l2: words of { be16 eth_type; be16 vid; eth_addr xor; be16 pad }
        const b = new Uint8Array(12);
        put16(b, 0, t);
        put16(b, 2, read(W.VLAN_TCI, 0x0fff));
        ethXor(b, 4);
        for (let i = 0; i < 12; i += 4) h = hashAdd(h, le32(b, i));
        return hashFinish(h, basis);
      }
      const p = read(W.NW_PROTO, 0xff);
      h = hashAdd(h, p);
      const udp = fields === 'symmetric_l3l4+udp' && p === PROTO.UDP;
      if (read(W.NW_FRAG, 0xff) === 0 && (p === PROTO.TCP || p === PROTO.SCTP || udp)) {
        h = hashAdd(h, bswap16(read(W.TP_SRC, 0xffff) ^ read(W.TP_DST, 0xffff)));
      }
      return hashFinish(h, basis);
    }
  }
}

/** Flow words version: reads `flow`, un-wildcarding each word read in `wc`. */
export function ovsFlowHashWords(flow: Words, wc: Words, fields: HashFields, basis: number): number {
  return ovsFlowHash((i, m) => { wc[i] |= m; return (flow[i]! & m) >>> 0; }, fields, basis);
}
