/**
 * A hash map from 32-bit integer keys (already well mixed: the classifier's murmur hashes) to
 * values, with open addressing and linear probing over typed arrays. It exists because the
 * classifier probes one or two of these per subtable per lookup, and V8's Map costs several
 * times more per probe. Deletion shifts later entries back (no tombstones), so probe chains
 * stay short under churn. Load factor is kept at or below 1/2.
 */
export class IntMap<V> {
  private keys: Int32Array;
  private used: Uint8Array;
  private vals: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor(capacity = 8) {
    let n = 8;
    while (n < capacity * 2) n *= 2;
    this.keys = new Int32Array(n);
    this.used = new Uint8Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
  }

  get(k: number): V | undefined {
    const keys = this.keys, used = this.used, mask = this.mask;
    for (let i = k & mask; used[i] !== 0; i = (i + 1) & mask) {
      if (keys[i] === (k | 0)) return this.vals[i];
    }
    return undefined;
  }

  has(k: number): boolean {
    const keys = this.keys, used = this.used, mask = this.mask;
    for (let i = k & mask; used[i] !== 0; i = (i + 1) & mask) if (keys[i] === (k | 0)) return true;
    return false;
  }

  set(k: number, v: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.mask;
    let i = k & mask;
    for (; this.used[i] !== 0; i = (i + 1) & mask) {
      if (this.keys[i] === (k | 0)) { this.vals[i] = v; return; }
    }
    this.used[i] = 1;
    this.keys[i] = k;
    this.vals[i] = v;
    this.size++;
  }

  delete(k: number): boolean {
    const mask = this.mask, keys = this.keys, used = this.used;
    let i = k & mask;
    for (; used[i] !== 0; i = (i + 1) & mask) if (keys[i] === (k | 0)) break;
    if (used[i] === 0) return false;
    // Backward-shift deletion: move later members of the chain into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; used[j] !== 0; j = (j + 1) & mask) {
      const home = keys[j]! & mask;
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        keys[hole] = keys[j]!;
        this.vals[hole] = this.vals[j];
        hole = j;
      }
    }
    used[hole] = 0;
    this.vals[hole] = undefined;
    this.size--;
    return true;
  }

  *values(): IterableIterator<V> {
    for (let i = 0; i < this.used.length; i++) if (this.used[i]) yield this.vals[i] as V;
  }

  private grow(): void {
    const { keys, used, vals } = this;
    const n = keys.length * 2;
    this.keys = new Int32Array(n);
    this.used = new Uint8Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (used[i]) this.set(keys[i]!, vals[i] as V);
  }
}
