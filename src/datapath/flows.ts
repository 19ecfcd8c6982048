/**
 * FlowTable: the megaflows of one datapath, in its flows map (a hash keyed by bvs_flow_id =
 * {mask slot, key & mask}; the value is stats + actions). See masks.ts for the mask slots and
 * bpf/lib/lookup.h for how the kernel matches a packet against them.
 *
 * Invariants, with the order of calls that keeps them (the kernel reads at any moment):
 *   - a flow is inserted only after its mask slot is written: putFlow allocates (and so writes)
 *     a new slot before the insert, and counts the flow on the slot (ref) after it;
 *   - a slot is freed only after its last flow is deleted: delFlow deletes, then unrefs;
 *     flushFlows deletes every flow, then clears every slot;
 *   - a failed insert frees the slot it allocated, so nothing is left half-made;
 *   - the stored key is already masked, and a flow's id (the flows-map key as a latin1 string)
 *     is the same string putFlow returns and dumpFlowEntries reports.
 *
 * Dumps re-read the mask slots first (another process may have changed them) and skip a flow
 * whose slot is free: it is racing with its mask's removal.
 */
import { LAYOUT } from './abi.ts';
import {
  decodeFlow, decodeFlowId, decodeFlowStats, encodeFlow, encodeFlowId, type FlowStats, readU32,
} from './codec.ts';
import { DatapathError, errnoCode } from './errors.ts';
import { type DpAction, type FlowKey, type FlowMask, maskKey } from './flow.ts';
import { BPF_EXIST, BPF_NOEXIST, type MapIO } from './mapio.ts';
import type { MaskTable } from './masks.ts';

export interface DpFlow {
  key: FlowKey;       // already masked
  mask: FlowMask;
  actions: DpAction[];
  stats: FlowStats;
}

/**
 * A dumped flow before decoding: `id` is the flows-map key (mask slot + masked key) as a latin1
 * string, the same string putFlow returned when it installed the flow; `flow()` decodes key,
 * mask and actions (the mask as of the dump, even if its slot was freed meanwhile).
 */
export interface FlowEntry {
  id: string;
  stats: FlowStats;
  flow(): DpFlow;
}

export type PutMode = 'add' | 'modify' | 'put';

const idString = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

const KS = LAYOUT.bvs_flow_id.size;
const VS = LAYOUT.bvs_flow.size;

export class FlowTable {
  /** put()'s value buffer (one flow value, rewritten by each call). */
  private readonly scratch = new Uint8Array(VS);

  /** `name` names the datapath in errors. */
  constructor(private readonly io: MapIO, private readonly fd: number, private readonly masks: MaskTable,
    private readonly name: string) {}

  /**
   * Install a megaflow. mode 'add' fails if it exists, 'modify' fails if it does not (and keeps
   * its stats unless clearStats), 'put' does either. Returns the flow's id (see FlowEntry).
   */
  put(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode: PutMode = 'put', clearStats = false): string {
    const io = this.io;
    // The value buffer is reused: mapUpdate copies it into the kernel before returning.
    const value = encodeFlow(actions, undefined, this.scratch);
    let slot = this.masks.find(mask);
    let created = false;
    if (slot < 0) {
      if (mode === 'modify') throw new DatapathError('NO_SUCH_FLOW', 'no such flow (no flow has this mask)');
      slot = this.masks.allocate(mask);
      created = true;
    }
    const id = encodeFlowId(slot, maskKey(key, mask));
    // 'add' needs no lookup: the NOEXIST insert below fails with EEXIST when the flow exists.
    const old = created || mode === 'add' ? undefined : new Uint8Array(VS);
    const exists = old !== undefined && io.mapLookup(this.fd, id, old);
    try {
      if (exists) {
        const v = clearStats ? value : encodeFlow(actions, decodeFlow(old!).stats);
        io.mapUpdate(this.fd, id, v, BPF_EXIST);
        return idString(id);
      }
      if (mode === 'modify') throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
      try {
        io.mapUpdate(this.fd, id, value, BPF_NOEXIST);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EEXIST') throw new DatapathError('FLOW_EXISTS', 'flow already exists', { cause: err });
        if (code === 'E2BIG' || code === 'ENOSPC' || code === 'ENOMEM') {
          throw new DatapathError('FLOW_TABLE_FULL', `flow table of ${this.name} is full (${this.max()} flows)`, { cause: err });
        }
        throw err;
      }
    } catch (err) {
      if (created) this.masks.free(slot);
      throw err;
    }
    this.masks.ref(slot);
    return idString(id);
  }

  /** Delete the megaflow (key & mask, mask). */
  del(key: FlowKey, mask: FlowMask): void {
    const slot = this.masks.find(mask);
    if (slot < 0 || !this.io.mapDelete(this.fd, encodeFlowId(slot, maskKey(key, mask)))) {
      throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
    }
    this.masks.unref(slot);
  }

  /** Delete every flow and free every mask. Returns the number of flows deleted. */
  flush(): number {
    let n = 0;
    for (const id of this.idBuffers()) if (this.io.mapDelete(this.fd, id)) n++;
    this.masks.clear();
    return n;
  }

  /** The flow with exactly this mask and masked key, if any. */
  get(key: FlowKey, mask: FlowMask): DpFlow | undefined {
    const slot = this.masks.find(mask);
    if (slot < 0) return undefined;
    return this.read(slot, maskKey(key, mask));
  }

  /** What the datapath would match for a packet with this key: first mask slot that hits. */
  lookup(key: FlowKey): DpFlow | undefined {
    for (let i = 0; i < this.masks.limit; i++) {
      const m = this.masks.mask(i);
      if (!m) continue;
      const f = this.read(i, maskKey(key, m));
      if (f) return f;
    }
    return undefined;
  }

  private read(slot: number, maskedKey: FlowKey): DpFlow | undefined {
    const val = new Uint8Array(VS);
    if (!this.io.mapLookup(this.fd, encodeFlowId(slot, maskedKey), val)) return undefined;
    const { actions, stats } = decodeFlow(val);
    return { key: maskedKey, mask: this.masks.mask(slot)!, actions, stats };
  }

  /** Every flow id, read in full before the first is returned (callers delete as they go). */
  private idBuffers(): Uint8Array[] {
    const key = new Uint8Array(KS);
    let prev: Uint8Array | null = null;
    const all: Uint8Array[] = [];
    while (this.io.mapGetNextKey(this.fd, prev, key)) {
      prev = Uint8Array.from(key);
      all.push(prev);
    }
    return all;
  }

  /** Flows per mask slot (for MaskTable.repair). */
  countBySlot(): Map<number, number> {
    const counts = new Map<number, number>();
    const off = LAYOUT.bvs_flow_id.members.mask_id[0];
    for (const id of this.idBuffers()) {
      const slot = readU32(id, off);
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
    return counts;
  }

  /** Every flow, with its mask, actions and stats. Uses batched reads. */
  dump(): DpFlow[] {
    const out: DpFlow[] = [];
    for (const chunk of this.dumpChunks()) for (const f of chunk) out.push(f);
    return out;
  }

  /**
   * The flows in chunks of at most `batch` (one batched map read each), so a caller with many
   * flows can yield to its event loop between chunks (the daemon's revalidator does). Flows
   * added or deleted while the iteration is suspended may or may not be seen; none is seen
   * twice unless re-inserted.
   */
  *dumpChunks(batch = 1024): Generator<DpFlow[]> {
    for (const { n, keys, vals } of this.batches(batch, true)) {
      const out: DpFlow[] = [];
      for (let i = 0; i < n; i++) {
        const id = decodeFlowId(keys.subarray(i * KS, (i + 1) * KS));
        const m = this.masks.mask(id.maskId);
        if (!m) continue; // a flow racing with its mask's removal
        const { actions, stats } = decodeFlow(vals.subarray(i * VS, (i + 1) * VS));
        out.push({ key: id.key, mask: m, actions, stats });
      }
      if (out.length) yield out;
    }
  }

  /**
   * The flows in chunks of at most `batch`, undecoded: id and stats only, the rest on demand.
   * For the revalidator, which needs only those for most flows (decoding a key and its actions
   * costs several times the batched read). Each chunk has its own buffers, so an entry's
   * flow() stays valid after the iteration moves on.
   */
  *dumpEntries(batch = 1024): Generator<FlowEntry[]> {
    for (const { n, keys, vals } of this.batches(batch, false)) {
      const out: FlowEntry[] = [];
      for (let i = 0; i < n; i++) {
        const kb = keys.subarray(i * KS, (i + 1) * KS);
        const vb = vals.subarray(i * VS, (i + 1) * VS);
        // The mask as of the dump: its slot could be reused before flow() is called.
        const m = this.masks.mask(readU32(kb, LAYOUT.bvs_flow_id.members.mask_id[0]));
        if (!m) continue; // a flow racing with its mask's removal
        out.push({
          id: idString(kb),
          stats: decodeFlowStats(vb),
          flow: () => {
            const { actions, stats } = decodeFlow(vb);
            return { key: decodeFlowId(kb).key, mask: m, actions, stats };
          },
        });
      }
      if (out.length) yield out;
    }
  }

  /**
   * The batched walk of the flows map behind both dumps: re-reads the mask slots, then yields
   * each batched read's entry count and buffers (the same buffers each time when `reuse`).
   */
  private *batches(batch: number, reuse: boolean): Generator<{ n: number; keys: Uint8Array; vals: Uint8Array }> {
    this.masks.reload();
    let keys = new Uint8Array(KS * batch);
    let vals = new Uint8Array(VS * batch);
    let inB: Uint8Array | null = null;
    const outB = new Uint8Array(KS);
    for (;;) {
      const r = this.io.mapLookupBatch(this.fd, inB, outB, keys, vals, batch);
      yield { n: r.count, keys, vals };
      if (r.done) return;
      inB = Uint8Array.from(outB);
      if (!reuse) { keys = new Uint8Array(KS * batch); vals = new Uint8Array(VS * batch); }
    }
  }

  count(): number {
    return this.idBuffers().length;
  }

  max(): number {
    return this.io.mapInfo(this.fd).maxEntries;
  }
}
