/**
 * MaskTable: userspace's half of the megaflow cache's mask slots (the kernel half, and why the
 * walk is correct, is bpf/lib/lookup.h).
 *
 * What it is. A megaflow is stored in the flows map under {mask slot, key & mask}; the masks map
 * holds the ABI.MAX_MASKS slots, and config.n_mask_slots bounds the kernel's walk over them.
 * Userspace owns the slots: a slot is allocated (the lowest free one) when the first flow with
 * its mask arrives, its refcnt counts the flows using it, and it is freed when the last one
 * goes. This class mirrors the slots in memory and is the only code that writes the masks and
 * config maps; the daemon is the one writer of a datapath in normal operation (`bvs dpctl` may
 * write too; see repair()).
 *
 * Invariants (the kernel reads the maps at any moment, so each holds after every single write):
 *   - a slot is live iff MASK_F_USED is set; a live slot's mask never changes while its
 *     refcnt > 0 (a freed slot may be reused for another mask);
 *   - n_mask_slots is 1 + the highest live slot (0 when none). A new slot's mask is written
 *     before n_mask_slots grows to cover it, and a freed slot is cleared before it shrinks;
 *   - refcnt is userspace's only: the kernel never reads it.
 *
 * What callers (flows.ts) must do, in this order, so the kernel never sees a flow whose mask
 * is missing and nothing is left half-made:
 *   - insert a flow only after allocate() has returned its slot (allocate writes the slot);
 *   - ref() the slot once the flow is in; if the insert fails, free() a slot they allocated
 *     for it (rollback);
 *   - unref() the slot only after the flow is deleted (the last unref frees the slot).
 *
 * Deferred refcounts. A refcount change of a slot that stays live (every putFlow on an existing
 * mask) only patches the cached encoding; the slot is written once at the end of the current
 * synchronous burst (a scheduled microtask: after one upcall batch), not once per flow.
 * Allocation and release are written at once. close() and reload() flush first, so another
 * opener (dpctl) sees the right counts once this object is closed or the burst is over; the map
 * lags the flows only for the same gap a crash between a flow write and its refcount write
 * leaves, and repair() closes that gap from the flows themselves.
 */
import { ABI, LAYOUT } from './abi.ts';
import { decodeMask, encodeConfig, encodeMask, type MaskSlot, u32 } from './codec.ts';
import { DatapathError } from './errors.ts';
import { emptyKey, type FlowMask, keysEqual } from './flow.ts';
import { BPF_ANY, type MapIO } from './mapio.ts';

export interface MaskTableOptions {
  /** Names the datapath in errors. */
  name: string;
  /** Runs the deferred refcount flush after the current burst (default: queueMicrotask). */
  schedule?: (fn: () => void) => void;
}

export class MaskTable {
  private slots: (MaskSlot | undefined)[] = [];
  /** The last value written for each live slot (refcount bumps patch it); undefined after a
   *  reload until the slot's next full write. */
  private bytes: (Uint8Array | undefined)[] = [];
  /** Each slot's map key, encoded once. */
  private readonly keys: Uint8Array[] = [];
  /** Slots whose refcount changed since it was last written (see flush). */
  private readonly dirty = new Set<number>();
  private flushQueued = false;
  /** n_mask_slots last written to the config map (-1: unknown, write on the next change). */
  private nSlotsWritten = -1;
  private closed = false;
  private readonly name: string;
  private readonly schedule: (fn: () => void) => void;
  private readonly flushBound = (): void => this.flush();

  constructor(private readonly io: MapIO, private readonly fds: { masks: number; config: number },
    opts: MaskTableOptions) {
    this.name = opts.name;
    this.schedule = opts.schedule ?? queueMicrotask;
    this.reload();
  }

  /** Re-read the slots from the map (after flushing deferred refcounts). */
  reload(): void {
    this.flush();
    const val = new Uint8Array(LAYOUT.bvs_mask.size);
    this.slots = [];
    this.bytes = [];
    this.nSlotsWritten = -1;
    for (let i = 0; i < ABI.MAX_MASKS; i++) {
      if (this.io.mapLookup(this.fds.masks, this.key(i), val)) {
        const slot = decodeMask(val);
        this.slots[i] = slot.used ? slot : undefined;
      }
    }
  }

  /** The live slot holding exactly this mask, or -1. */
  find(mask: FlowMask): number {
    return this.slots.findIndex((s) => s !== undefined && keysEqual(s.mask, mask));
  }

  /** The mask of a live slot (undefined when the slot is free). The object is never mutated. */
  mask(slot: number): FlowMask | undefined {
    return this.slots[slot]?.mask;
  }

  /** 1 + the highest live slot: the slots a lookup walks. */
  get limit(): number {
    return this.slots.length;
  }

  /** Live slots. */
  count(): number {
    return this.slots.filter((s) => s !== undefined).length;
  }

  /**
   * Take the lowest free slot for `mask` and write it (USED, refcnt 0) before returning, so a
   * flow may be inserted under it. MASKS_FULL when every slot is live.
   */
  allocate(mask: FlowMask): number {
    let slot = this.slots.findIndex((s) => s === undefined);
    if (slot < 0) slot = this.slots.length;
    if (slot >= ABI.MAX_MASKS) {
      throw new DatapathError('MASKS_FULL', `datapath ${this.name} has ${ABI.MAX_MASKS} masks in use; no room for a new mask`);
    }
    this.write(slot, { mask: { ...mask }, refcnt: 0, used: true });
    return slot;
  }

  /** One more flow uses the live slot (written at the end of the burst). */
  ref(slot: number): void {
    this.setRefcnt(slot, this.slots[slot]!.refcnt + 1);
  }

  /** One flow fewer uses the live slot; the last one frees it (written at once). Call only
   *  after the flow is deleted. */
  unref(slot: number): void {
    const s = this.slots[slot]!;
    this.setRefcnt(slot, s.refcnt <= 1 ? 0 : s.refcnt - 1);
  }

  /** Free a slot at once (the rollback of an allocate whose flow insert failed). */
  free(slot: number): void {
    this.write(slot, undefined);
  }

  /** Free every slot (the flows are gone already). Slot 0 is written even when free, so the
   *  config map is rewritten when its value is unknown. */
  clear(): void {
    for (let i = 0; i < ABI.MAX_MASKS; i++) {
      if (this.slots[i] !== undefined) this.write(i, undefined);
    }
    this.write(0, undefined);
  }

  /**
   * Set every live slot's refcnt to the number of flows using it (`flowsPerSlot`, counted from
   * the flows map after the reload this does first), freeing the slots no flow uses. For a
   * datapath adopted after a crash between a flow write and its refcount write, or after an
   * allocate whose flow never went in.
   */
  repair(countFlows: () => Map<number, number>): void {
    this.reload();
    const counts = countFlows();
    this.slots.forEach((slot, i) => {
      if (!slot) return;
      const n = counts.get(i) ?? 0;
      if (n === 0) this.write(i, undefined);
      else if (n !== slot.refcnt) this.setRefcnt(i, n);
    });
  }

  /**
   * Write the refcounts deferred since the last flush. A microtask must not throw: a failed
   * write stays wrong in the map until repair(). Nothing is written once closed (the fds are).
   */
  flush(): void {
    this.flushQueued = false;
    if (this.dirty.size === 0 || this.closed) { this.dirty.clear(); return; }
    for (const i of this.dirty) {
      const bytes = this.bytes[i];
      if (bytes !== undefined) try { this.io.mapUpdate(this.fds.masks, this.key(i), bytes, BPF_ANY); } catch { /* see above */ }
    }
    this.dirty.clear();
  }

  /** Flush, then write nothing more (the caller closes the fds). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  private key(i: number): Uint8Array {
    let k = this.keys[i];
    if (k === undefined) { k = u32(i); this.keys[i] = k; }
    return k;
  }

  private setRefcnt(i: number, n: number): void {
    if (n === 0) { this.write(i, undefined); return; }
    const s = this.slots[i]!;
    const bytes = this.bytes[i];
    if (bytes === undefined) { this.write(i, { ...s, refcnt: n }); return; }
    // A slot that stays live (every putFlow): patch the cached encoding, and write it once at
    // the end of the current burst (flush), not per flow.
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(LAYOUT.bvs_mask.members.refcnt[0], n, true);
    this.slots[i] = { ...s, refcnt: n };
    this.dirty.add(i);
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.schedule(this.flushBound);
    }
  }

  /** Write a slot now (undefined: free it), then n_mask_slots if that changed. */
  private write(i: number, slot: MaskSlot | undefined): void {
    const bytes = encodeMask(slot ?? { mask: emptyKey(), refcnt: 0, used: false });
    this.dirty.delete(i);
    this.io.mapUpdate(this.fds.masks, this.key(i), bytes, BPF_ANY);
    this.bytes[i] = slot === undefined ? undefined : bytes;
    this.slots[i] = slot;
    let n = this.slots.length;
    while (n > 0 && this.slots[n - 1] === undefined) n--;
    this.slots.length = n;
    // The kernel walks n_mask_slots slots: rewrite it only when it changes. Written after the
    // slot, so a growing walk never reaches an unwritten slot and a shrinking one has already
    // lost its last flow.
    if (n === this.nSlotsWritten) return;
    this.nSlotsWritten = n;
    this.io.mapUpdate(this.fds.config, u32(0), encodeConfig(n), BPF_ANY);
  }
}
