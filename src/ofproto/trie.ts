/**
 * Prefix tracking for one 32-bit field (nw_src or nw_dst), after OVS's classifier tries.
 *
 * The trie holds the prefix (value, plen) of every rule, of every subtable whose mask on the
 * field is a CIDR prefix of length plen > 0, with a reference count per node. A lookup walks the
 * packet's address from the most significant bit and reports
 *   - plens: bit (L-1) set when some rule's prefix of length L lies on the packet's path, and
 *   - maskbits: how many leading bits of the address the walk needed to reach that answer.
 * A subtable whose prefix length L is not in plens cannot match, and every packet that agrees
 * with this one on the first `maskbits` bits gets the same answer, so the caller may skip the
 * subtable after un-wildcarding only those bits (when maskbits <= L, so the megaflow is never
 * narrower than the subtable lookup itself would have made it).
 *
 * Unlike OVS the trie is not path-compressed: IPv4 depth is at most 32, cheap enough in JS.
 */

interface Node {
  n: number;           // rules whose prefix ends exactly here
  c0: Node | undefined;
  c1: Node | undefined;
}

function node(): Node {
  return { n: 0, c0: undefined, c1: undefined };
}

export class PrefixTrie {
  private root: Node = node();

  insert(value: number, plen: number): void {
    let cur = this.root;
    for (let d = 0; d < plen; d++) {
      const bit = (value >>> (31 - d)) & 1;
      let next = bit ? cur.c1 : cur.c0;
      if (!next) {
        next = node();
        if (bit) cur.c1 = next; else cur.c0 = next;
      }
      cur = next;
    }
    cur.n++;
  }

  /** Removes one reference to (value, plen); prunes empty branches. */
  remove(value: number, plen: number): void {
    const path: Node[] = [this.root];
    let cur = this.root;
    for (let d = 0; d < plen; d++) {
      const next = ((value >>> (31 - d)) & 1) ? cur.c1 : cur.c0;
      if (!next) return;
      cur = next;
      path.push(cur);
    }
    if (cur.n === 0) return;
    cur.n--;
    for (let d = plen; d > 0; d--) {
      const nd = path[d]!;
      if (nd.n > 0 || nd.c0 || nd.c1) break;
      const parent = path[d - 1]!;
      if ((value >>> (32 - d)) & 1) parent.c1 = undefined; else parent.c0 = undefined;
    }
  }

  /** Walks `value`; see the module note. Returns plens in `out[0]` and maskbits in `out[1]`. */
  lookup(value: number, out: Int32Array): void {
    let cur = this.root;
    let plens = 0;
    let d = 0;
    for (;;) {
      if (cur.n > 0 && d > 0) plens |= 1 << (d - 1);
      if (d === 32) break;
      const next = ((value >>> (31 - d)) & 1) ? cur.c1 : cur.c0;
      if (!next) {
        // The packet's bit at depth d was needed only if some other branch exists here.
        if (cur.c0 || cur.c1) d++;
        break;
      }
      cur = next;
      d++;
    }
    out[0] = plens;
    out[1] = d;
  }
}

/** The CIDR prefix length of a 32-bit mask, or -1 when the mask is not a prefix. */
export function prefixLen(mask: number): number {
  const m = mask >>> 0;
  if (m === 0) return 0;
  const inv = (~m) >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return Math.clz32(inv);
}

export function prefixMask(plen: number): number {
  return plen <= 0 ? 0 : plen >= 32 ? 0xffffffff : (0xffffffff << (32 - plen)) >>> 0;
}
