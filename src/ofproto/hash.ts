/**
 * Flow hashes for multipath, bundle and select groups, and the link/member choices made from
 * them. multipath and bundle are OVS's, bit for bit (ovs-hash.ts, lib/multipath.c, lib/bundle.c):
 * for one packet bvs picks the link or member OVS would, which tests/ofproto/ovs-trace.test.ts
 * checks against ofproto/trace. Select groups keep bvs's own symmetric hash (groups.ts), built
 * from mix/finish below.
 *
 * Fields per nx_hash_fields (ovs-actions(7) "multipath"):
 *   eth_src             Ethernet source
 *   symmetric_l4        Ethernet src^dst, dl_type, VLAN id, IP src^dst, nw_proto, TCP/SCTP ports src^dst
 *   symmetric_l3l4      IP src^dst, nw_proto, TCP/SCTP ports src^dst (not fragments); L2 when not IP
 *   symmetric_l3l4+udp  as symmetric_l3l4, with UDP ports too
 *   nw_src / nw_dst     the IPv4 or IPv6 source / destination
 *   symmetric_l3        IP src^dst, dl_type
 * Every field read is un-wildcarded, so a megaflow never mixes packets that would choose
 * differently.
 */
import type { HashFields } from './actions.ts';
import type { Words } from './flow.ts';
import { hash2Words, ovsFlowHashWords } from './ovs-hash.ts';

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

/** OVS's flow_hash_fields of the flow (ovs-hash.ts); every bit read is ORed into `wc`. */
export function flowHash(flow: Words, fields: HashFields, basis: number, wc: Words): number {
  return ovsFlowHashWords(flow, wc, fields, basis);
}

/**
 * bundle's hrw (OVS bundle.c execute_hrw): the live member whose hash_2words(index, hash) is
 * largest, ties to the first; `live(i)` tells whether member i may be chosen.
 */
export function bundleHrw(hash: number, n: number, live: (i: number) => boolean): number | undefined {
  let best: number | undefined, bestHash = 0;
  for (let i = 0; i < n; i++) {
    if (!live(i)) continue;
    const h = hash2Words(i, hash);
    if (best === undefined || h > bestHash) { best = i; bestHash = h; }
  }
  return best;
}

/** multipath's link (0..maxLink) for `hash` (OVS multipath_algorithm). */
export function multipathLink(alg: 'modulo_n' | 'hash_threshold' | 'hrw' | 'iter_hash', hash: number, maxLink: number, arg: number): number {
  const n = maxLink + 1;
  switch (alg) {
    case 'modulo_n': return hash % n;
    case 'hash_threshold': return n === 1 ? 0 : Math.floor(hash / (Math.floor(0xffffffff / n) + 1));
    // Above 64 links OVS switches to iter_hash, whose cost does not grow with n.
    case 'hrw': {
      if (n > 64) return iterHash(hash, n, 0);
      let best = 0, bestWeight = hash2Words(hash, 0);
      for (let l = 1; l < n; l++) {
        const w = hash2Words(hash, l);
        if (w > bestWeight) { best = l; bestWeight = w; }
      }
      return best;
    }
    case 'iter_hash': return iterHash(hash, n, arg);
  }
}

/** Rehash until the value modulo `modulo` is a link; `modulo` is `arg` when it is in
 *  [n, 2n], else the next power of two (OVS algorithm_iter_hash). */
function iterHash(hash: number, n: number, modulo: number): number {
  if (modulo < n || modulo / 2 > n) modulo = 2 ** Math.ceil(Math.log2(n));
  let i = 0, link: number;
  do { link = hash2Words(hash, i++) % modulo; } while (link >= n);
  return link;
}
