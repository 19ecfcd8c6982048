/**
 * A hash map from 32-bit integer keys (already well mixed: the classifier's murmur hashes) to
 * values, with open addressing and linear probing over typed arrays. It exists because the
 * classifier probes one or two of these per subtable per lookup, and V8's Map costs several
 * times more per probe. Deletion shifts later entries back (no tombstones), so probe chains
 * stay short under churn. Load factor is kept at or below 1/2. Key 0 marks an empty slot, so a
 * caller's key 0 is stored as ZERO_ALIAS (and ZERO_ALIAS itself is not a valid key).
 */
const ZERO_ALIAS = 0x7fffffff;
const norm = (k: number): number => (k === 0 ? ZERO_ALIAS : k | 0);
export class IntMap<V> {
  private keys: Int32Array;
  private vals: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor(capacity = 8) {
    let n = 8;
    while (n < capacity * 2) n *= 2;
    this.keys = new Int32Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
  }

  get(k: number): V | undefined {
    const keys = this.keys, mask = this.mask, key = norm(k);
    for (let i = key & mask, x = keys[i]!; x !== 0; i = (i + 1) & mask, x = keys[i]!) {
      if (x === key) return this.vals[i];
    }
    return undefined;
  }

  has(k: number): boolean {
    const keys = this.keys, mask = this.mask, key = norm(k);
    for (let i = key & mask, x = keys[i]!; x !== 0; i = (i + 1) & mask, x = keys[i]!) if (x === key) return true;
    return false;
  }

  set(k: number, v: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.mask, key = norm(k);
    let i = key & mask;
    for (; this.keys[i] !== 0; i = (i + 1) & mask) {
      if (this.keys[i] === key) { this.vals[i] = v; return; }
    }
    this.keys[i] = key;
    this.vals[i] = v;
    this.size++;
  }

  delete(k: number): boolean {
    const mask = this.mask, keys = this.keys, key = norm(k);
    let i = key & mask;
    for (; keys[i] !== 0; i = (i + 1) & mask) if (keys[i] === key) break;
    if (keys[i] === 0) return false;
    // Backward-shift deletion: move later members of the chain into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = keys[j]! & mask;
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        keys[hole] = keys[j]!;
        this.vals[hole] = this.vals[j];
        hole = j;
      }
    }
    keys[hole] = 0;
    this.vals[hole] = undefined;
    this.size--;
    return true;
  }

  *values(): IterableIterator<V> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) yield this.vals[i] as V;
  }

  private grow(): void {
    const { keys, vals } = this;
    const n = keys.length * 2;
    this.keys = new Int32Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
    this.size = 0;
    // Stored keys are already normalized, and norm() leaves non-zero keys alone.
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]!, vals[i] as V);
  }
}
