/**
 * A match: value and mask words over the flow layout of flow.ts.
 * Invariant: value & mask === value (callers build matches through setMasked or normalize()).
 */
import { N_WORDS, newWords, type Words } from './flow.ts';
import { fieldFullMask, orFieldMask, setFieldMasked, type FieldDef } from './fields.ts';

export class Match {
  constructor(readonly value: Words = newWords(), readonly mask: Words = newWords()) {}

  /** Adds `field == value` under `mask` (field-relative) to the match. */
  setMasked(d: FieldDef, value: bigint, mask: bigint = fieldFullMask(d)): this {
    orFieldMask(this.mask, d, mask);
    setFieldMasked(this.value, d, value & mask, mask);
    return this;
  }

  normalize(): this {
    for (let i = 0; i < N_WORDS; i++) this.value[i] = (this.value[i]! & this.mask[i]!) >>> 0;
    return this;
  }

  matches(flow: Words): boolean {
    const v = this.value, m = this.mask;
    for (let i = 0; i < N_WORDS; i++) if (((flow[i]! & m[i]!) >>> 0) !== v[i]) return false;
    return true;
  }

  equals(o: Match): boolean {
    for (let i = 0; i < N_WORDS; i++) if (this.value[i] !== o.value[i] || this.mask[i] !== o.mask[i]) return false;
    return true;
  }

  /**
   * True when every packet this match accepts is accepted by `wider` too: the non-strict
   * selection rule of OpenFlow delete/modify (OpenFlow 1.3 §6.4).
   */
  isSubsetOf(wider: Match): boolean {
    for (let i = 0; i < N_WORDS; i++) {
      const wm = wider.mask[i]!;
      if (((this.mask[i]! & wm) >>> 0) !== wm) return false;
      if (((this.value[i]! & wm) >>> 0) !== wider.value[i]) return false;
    }
    return true;
  }

  /** Matches every packet (no bit is masked). */
  isCatchall(): boolean {
    for (let i = 0; i < this.mask.length; i++) if (this.mask[i] !== 0) return false;
    return true;
  }

  clone(): Match {
    return new Match(this.value.slice(), this.mask.slice());
  }

  /** A string identifying (mask, value): equal strings iff equal matches. */
  key(): string {
    return `${this.mask.join(',')}|${this.value.join(',')}`;
  }
}

export function emptyWords(): Words {
  return newWords();
}
