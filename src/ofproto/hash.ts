/**
 * Flow hashes for multipath, bundle and select groups, and the link/member choices made from
 * them (after OVS lib/flow.c flow_hash_fields, lib/multipath.c and lib/bundle.c).
 *
 * Where this differs from OVS: the hash function. OVS hashes with its murmur-style hash_bytes
 * and jhash over packed structs; bvs mixes the same fields' 32-bit words with murmur3's round
 * and finisher. So for one packet bvs may pick another link than OVS would, but the contract
 * controllers rely on holds and is tested (tests/ofproto/xlate-nx.test.ts): the choice is a
 * function of the named fields and the basis only (deterministic, and every field read is
 * un-wildcarded, so a megaflow never mixes packets that would choose differently), the
 * symmetric variants give both directions of a connection the same answer, and the choices
 * spread evenly over the links.
 *
 * Fields per nx_hash_fields (ovs-actions(7) "multipath"):
 *   eth_src             Ethernet source
 *   symmetric_l4        Ethernet src^dst, dl_type, VLAN id, IP src^dst, nw_proto, L4 ports src^dst
 *   symmetric_l3l4      IP src^dst, nw_proto, TCP/SCTP ports src^dst (IP packets only)
 *   symmetric_l3l4+udp  as symmetric_l3l4, with UDP ports too
 *   nw_src / nw_dst     the IPv4 or IPv6 source / destination
 *   symmetric_l3        IP src^dst
 */
import type { HashFields } from './actions.ts';
import { ETH, PROTO, W, type Words } from './flow.ts';

/** One murmur3 round: mixes the 32-bit word `k` into `h`. */
export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finisher: every input bit reaches every output bit (for the modulo choices). */
export function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the flow's `fields`, seeded with `basis`; every bit read is ORed into `wc`. */
export function flowHash(flow: Words, fields: HashFields, basis: number, wc: Words): number {
  const read = (i: number, m: number): number => { wc[i] |= m; return (flow[i]! & m) >>> 0; };
  let h = mix(0, basis);
  const t = read(W.DL_TYPE, 0xffff);
  const ip4 = t === ETH.IP, ip6 = t === ETH.IPV6;
  const addrs = (sym: boolean, src: boolean, dst: boolean): void => {
    if (ip4) {
      const s = src ? read(W.NW_SRC, 0xffffffff) : 0, d = dst ? read(W.NW_DST, 0xffffffff) : 0;
      h = mix(h, sym ? (s ^ d) >>> 0 : s || d);
    } else if (ip6) {
      for (let i = 0; i < 4; i++) {
        const s = src ? read(W.IPV6_SRC + i, 0xffffffff) : 0, d = dst ? read(W.IPV6_DST + i, 0xffffffff) : 0;
        h = mix(h, sym ? (s ^ d) >>> 0 : s || d);
      }
    }
  };
  const ports = (udp: boolean): void => {
    if (!ip4 && !ip6) return;
    const p = read(W.NW_PROTO, 0xff);
    h = mix(h, p);
    if (p === PROTO.TCP || p === PROTO.SCTP || (udp && p === PROTO.UDP)) {
      h = mix(h, (read(W.TP_SRC, 0xffff) ^ read(W.TP_DST, 0xffff)) >>> 0);
    }
  };
  switch (fields) {
    case 'eth_src':
      h = mix(mix(h, read(W.DL_SRC, 0xffff)), read(W.DL_SRC + 1, 0xffffffff));
      break;
    case 'symmetric_l4':
      h = mix(h, (read(W.DL_SRC, 0xffff) ^ read(W.DL_DST, 0xffff)) >>> 0);
      h = mix(h, (read(W.DL_SRC + 1, 0xffffffff) ^ read(W.DL_DST + 1, 0xffffffff)) >>> 0);
      h = mix(mix(h, t), read(W.VLAN_TCI, 0x1fff));
      addrs(true, true, true);
      ports(true);
      break;
    case 'symmetric_l3l4': addrs(true, true, true); ports(false); break;
    case 'symmetric_l3l4+udp': addrs(true, true, true); ports(true); break;
    case 'symmetric_l3': addrs(true, true, true); break;
    case 'nw_src': addrs(false, true, false); break;
    case 'nw_dst': addrs(false, false, true); break;
  }
  return finish(h);
}

/** Highest random weight: the candidate whose (hash, candidate) score is largest; ties go to the first. */
export function hrw(hash: number, candidates: readonly number[]): number | undefined {
  let best: number | undefined, bestScore = -1;
  for (const c of candidates) {
    const s = finish(mix(hash, c));
    if (s > bestScore) { best = c; bestScore = s; }
  }
  return best;
}

/** multipath's link (0..maxLink) for `hash` (OVS multipath_algorithm's structure, bvs's hash). */
export function multipathLink(alg: 'modulo_n' | 'hash_threshold' | 'hrw' | 'iter_hash', hash: number, maxLink: number, arg: number): number {
  const n = maxLink + 1;
  switch (alg) {
    case 'modulo_n': return hash % n;
    case 'hash_threshold': return n === 1 ? 0 : Math.floor(hash / (Math.floor(0xffffffff / n) + 1));
    // Above 64 links OVS switches to iter_hash, whose cost does not grow with n.
    case 'hrw': return n <= 64 ? hrw(hash, Array.from({ length: n }, (_, i) => i))! : iterHash(hash, n, 0);
    case 'iter_hash': return iterHash(hash, n, arg);
  }
}

/** Rehash until the value modulo `modulo` is a link; `modulo` is `arg` when it is in
 *  [n, 2n], else the next power of two (OVS algorithm_iter_hash). */
function iterHash(hash: number, n: number, modulo: number): number {
  if (modulo < n || modulo / 2 > n) modulo = 2 ** Math.ceil(Math.log2(n));
  let i = 0, link: number;
  do { link = finish(mix(hash, i++)) % modulo; } while (link >= n);
  return link;
}
