/**
 * The mask slots' invariants (src/datapath/masks.ts, flows.ts), without a kernel: MaskTable and
 * FlowTable run over in-memory maps that log every write of the masks, config and flows maps in
 * one ordered list and, after each single write, check what the kernel could see at that moment:
 * every flow's slot is live, inside n_mask_slots, and holds the mask the flow was inserted under.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ABI, LAYOUT } from '../../src/datapath/abi.ts';
import { decodeFlowId, decodeMask, encodeFlowId, readU32 } from '../../src/datapath/codec.ts';
import { DatapathError } from '../../src/datapath/errors.ts';
import { emptyKey, type FlowKey, type FlowMask, keysEqual, maskKey } from '../../src/datapath/flow.ts';
import { FlowTable, type PutMode } from '../../src/datapath/flows.ts';
import { BPF_EXIST, BPF_NOEXIST, type MapIO } from '../../src/datapath/mapio.ts';
import { MaskTable } from '../../src/datapath/masks.ts';

const FD = { flows: 3, masks: 4, config: 5 } as const;
type MapName = keyof typeof FD;
const NAMES: Record<number, MapName> = { 3: 'flows', 4: 'masks', 5: 'config' };

interface Write { map: MapName; op: 'update' | 'delete'; key: Uint8Array; value?: Uint8Array }

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const errno = (code: string): Error => Object.assign(new Error(code), { code, errno: 0, op: 'fake' });
const MASK_KEY_BYTES = LAYOUT.bvs_mask.members.key[1];

/** Hash maps in memory (insertion order), with the addon's flags and errors, and a write log. */
class FakeMaps implements MapIO {
  readonly maps = new Map<number, Map<string, { key: Uint8Array; value: Uint8Array }>>(
    Object.values(FD).map((fd) => [fd, new Map()]));
  readonly log: Write[] = [];
  maxFlows = 1 << 20;
  /** errno code thrown by the next insert of a new flow (as a full or out-of-memory map would). */
  failNextInsert: string | undefined;
  /** Mask bytes of each flow's slot when the flow went in (the kernel would match with them). */
  private readonly maskAtInsert = new Map<string, string>();

  private map(fd: number) { return this.maps.get(fd)!; }

  mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean {
    const e = this.map(fd).get(hex(key));
    if (e) value.set(e.value);
    return !!e;
  }

  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void {
    const m = this.map(fd), k = hex(key), had = m.has(k);
    if (flags === BPF_NOEXIST && had) throw errno('EEXIST');
    if (flags === BPF_EXIST && !had) throw errno('ENOENT');
    if (!had && fd === FD.flows) {
      const fail = this.failNextInsert;
      this.failNextInsert = undefined;
      if (fail) throw errno(fail);
      if (m.size >= this.maxFlows) throw errno('E2BIG');
      this.maskAtInsert.set(k, this.slotMaskHex(readU32(key)));
    }
    m.set(k, { key: Uint8Array.from(key), value: Uint8Array.from(value) });
    this.log.push({ map: NAMES[fd]!, op: 'update', key: Uint8Array.from(key), value: Uint8Array.from(value) });
    this.checkKernelView();
  }

  mapDelete(fd: number, key: Uint8Array): boolean {
    if (!this.map(fd).delete(hex(key))) return false;
    this.maskAtInsert.delete(hex(key));
    this.log.push({ map: NAMES[fd]!, op: 'delete', key: Uint8Array.from(key) });
    this.checkKernelView();
    return true;
  }

  mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean {
    const keys = [...this.map(fd).values()].map((e) => e.key);
    // Like a kernel hash map: an absent key restarts from the first.
    const i = key === null ? 0 : keys.findIndex((k) => hex(k) === hex(key)) + 1;
    if (i >= keys.length) return false;
    next.set(keys[i]!);
    return true;
  }

  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array,
    values: Uint8Array, count: number): { count: number; done: boolean } {
    const all = [...this.map(fd).values()];
    const from = inBatch ? readU32(inBatch) : 0;
    const part = all.slice(from, from + count);
    part.forEach((e, i) => { keys.set(e.key, i * e.key.length); values.set(e.value, i * e.value.length); });
    new DataView(outBatch.buffer, outBatch.byteOffset).setUint32(0, from + part.length, true);
    return { count: part.length, done: from + part.length >= all.length };
  }

  mapInfo(fd: number) {
    return { id: fd, name: NAMES[fd]!, type: 1, keySize: 0, valueSize: 0, maxEntries: this.maxFlows, flags: 0 };
  }

  /** Slot i as stored: undefined when never written. */
  slot(i: number) {
    const e = this.map(FD.masks).get(hex(u32le(i)));
    return e && decodeMask(e.value);
  }

  nMaskSlots(): number {
    const e = this.map(FD.config).get(hex(u32le(0)));
    return e ? readU32(e.value, LAYOUT.bvs_config.members.n_mask_slots[0]) : 0;
  }

  liveSlots(): number[] {
    const out: number[] = [];
    for (let i = 0; i < ABI.MAX_MASKS; i++) if (this.slot(i)?.used) out.push(i);
    return out;
  }

  flowIds(): { maskId: number; key: FlowKey }[] {
    return [...this.map(FD.flows).values()].map((e) => decodeFlowId(e.key));
  }

  private slotMaskHex(i: number): string {
    const e = this.map(FD.masks).get(hex(u32le(i)));
    return e ? hex(e.value.subarray(0, MASK_KEY_BYTES)) : 'none';
  }

  /** What lookup.h relies on, true after every single write. */
  private checkKernelView(): void {
    const n = this.nMaskSlots();
    for (const [k, e] of this.map(FD.flows)) {
      const { maskId, key } = decodeFlowId(e.key);
      const s = this.slot(maskId);
      if (!s?.used) throw new Error(`flow under slot ${maskId} whose mask is not live`);
      if (maskId >= n) throw new Error(`flow under slot ${maskId}, outside n_mask_slots ${n}`);
      if (this.slotMaskHex(maskId) !== this.maskAtInsert.get(k)) throw new Error(`slot ${maskId}'s mask changed under a flow`);
      if (!keysEqual(maskKey(key, s.mask), key)) throw new Error('stored key is not masked by its slot');
    }
  }
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** A table pair over fake maps, with the deferred flush in the test's hands. */
function setup(maps = new FakeMaps()) {
  const scheduled: (() => void)[] = [];
  const masks = new MaskTable(maps, FD, { name: 'fake', schedule: (fn) => scheduled.push(fn) });
  const flows = new FlowTable(maps, FD.flows, masks, 'fake');
  /** End the burst: run what the table scheduled. */
  const endBurst = () => { for (const f of scheduled.splice(0)) f(); };
  return { maps, masks, flows, scheduled, endBurst };
}

const ETH = { ...emptyKey(), ethType: 0xffff };
const MASKS: FlowMask[] = [
  ETH,
  { ...ETH, ipv4Dst: 0xffffffff },
  { ...ETH, tpDst: 0xffff },
  { ...ETH, inPort: 0xffffffff, ipv4Dst: 0xffffff00 },
];
const key = (i: number): FlowKey =>
  ({ ...emptyKey(), inPort: 1 + (i % 3), ethType: 0x0800, ipv4Dst: 0x0a000000 + i, tpDst: 1000 + i });

const isMaskWrite = (w: Write, slot: number) => w.map === 'masks' && readU32(w.key) === slot;
const isFlowWrite = (w: Write, op: Write['op'], slot: number) => w.map === 'flows' && w.op === op && readU32(w.key) === slot;
const usedOf = (w: Write) => decodeMask(w.value!).used;
const codeOf = (fn: () => unknown): string | undefined => {
  try { fn(); return undefined; } catch (err) {
    if (err instanceof DatapathError) return err.code;
    throw err;
  }
};

const t = suite('datapath-masks');

t('a new mask slot is written (USED) before the first flow under it goes in', () => {
  const { maps, flows } = setup();
  flows.put(key(1), MASKS[1]!, []);
  const slotW = maps.log.findIndex((w) => isMaskWrite(w, 0));
  const flowW = maps.log.findIndex((w) => isFlowWrite(w, 'update', 0));
  assert.ok(slotW >= 0 && flowW >= 0);
  assert.ok(slotW < flowW, 'mask before flow');
  assert.ok(usedOf(maps.log[slotW]!));
  const cfgW = maps.log.findIndex((w) => w.map === 'config');
  assert.ok(slotW < cfgW && cfgW < flowW, 'n_mask_slots grows after the slot is written, before the flow');
  assert.is(maps.nMaskSlots(), 1);
});

t('a slot is freed only after its last flow is deleted', () => {
  const { maps, flows, masks, endBurst } = setup();
  flows.put(key(1), MASKS[1]!, []);
  flows.put(key(2), MASKS[1]!, []);
  endBurst();
  const mark = maps.log.length;
  flows.del(key(1), MASKS[1]!);
  assert.ok(maps.slot(0)!.used, 'one flow left: the slot stays');
  assert.is(masks.count(), 1);
  flows.del(key(2), MASKS[1]!);
  const tail = maps.log.slice(mark);
  const lastDel = tail.findLastIndex((w) => isFlowWrite(w, 'delete', 0));
  const freeW = tail.findIndex((w) => isMaskWrite(w, 0) && !usedOf(w));
  assert.ok(lastDel >= 0 && freeW > lastDel, 'freed after the last delete');
  assert.is(tail.filter((w) => isMaskWrite(w, 0) && !usedOf(w)).length, 1, 'freed once');
  assert.is(maps.nMaskSlots(), 0);
  assert.is(masks.count(), 0);
});

t('a failed insert rolls back the slot it created, and only that', () => {
  const { maps, flows, masks, endBurst } = setup();
  maps.maxFlows = 1;
  flows.put(key(1), MASKS[1]!, []);
  endBurst();
  const before = maps.log.length;
  assert.is(codeOf(() => flows.put(key(2), MASKS[2]!, [])), 'FLOW_TABLE_FULL');
  const tail = maps.log.slice(before);
  assert.equal(tail.map((w) => [w.map, w.map === 'masks' ? usedOf(w) : readU32(w.value!)]),
    [['masks', true], ['config', 2], ['masks', false], ['config', 1]], 'slot 1 made, then unmade');
  assert.is(masks.count(), 1);
  maps.failNextInsert = 'ENOMEM';
  assert.is(codeOf(() => flows.put(key(3), MASKS[1]!, [])), 'FLOW_TABLE_FULL');
  endBurst();
  assert.equal(maps.liveSlots(), [0], 'a failed insert under an existing slot leaves it');
  assert.is(maps.slot(0)!.refcnt, 1);
  assert.is(codeOf(() => flows.put(key(1), MASKS[1]!, [], 'add')), 'FLOW_EXISTS');
  assert.is(codeOf(() => flows.put(key(5), MASKS[2]!, [], 'modify')), 'NO_SUCH_FLOW');
  assert.equal(maps.liveSlots(), [0]);
});

t('the lowest free slot is reused, and n_mask_slots follows the highest live slot', () => {
  const { maps, flows } = setup();
  for (let m = 0; m < 3; m++) flows.put(key(m), MASKS[m]!, []);
  assert.equal(maps.liveSlots(), [0, 1, 2]);
  assert.is(maps.nMaskSlots(), 3);
  flows.del(key(0), MASKS[0]!);
  assert.equal(maps.liveSlots(), [1, 2]);
  assert.is(maps.nMaskSlots(), 3, 'a hole below the highest slot leaves the walk as is');
  flows.put(key(3), MASKS[3]!, []);
  assert.ok(keysEqual(maps.slot(0)!.mask, MASKS[3]!), 'slot 0 reused for the new mask');
  flows.del(key(2), MASKS[2]!);
  assert.equal(maps.liveSlots(), [0, 1]);
  assert.is(maps.nMaskSlots(), 2, 'the walk shrinks with the highest slot');
});

t('MASKS_FULL leaves the maps untouched', () => {
  const { maps, flows } = setup();
  for (let i = 0; i < ABI.MAX_MASKS; i++) flows.put(key(0), { ...ETH, tpSrc: i + 1 }, []);
  const before = maps.log.length;
  assert.is(codeOf(() => flows.put(key(0), { ...ETH, tpSrc: 0xffff }, [])), 'MASKS_FULL');
  assert.is(maps.log.length, before);
});

t('refcounts of a live slot are written once per burst; allocation and release at once', () => {
  const { maps, flows, scheduled, endBurst } = setup();
  for (let i = 0; i < 5; i++) flows.put(key(i), MASKS[1]!, []);
  assert.is(scheduled.length, 1, 'one flush scheduled for the burst');
  assert.is(maps.log.filter((w) => w.map === 'masks').length, 1, 'only the allocation so far');
  assert.is(maps.slot(0)!.refcnt, 0);
  endBurst();
  assert.is(maps.log.filter((w) => w.map === 'masks').length, 2, 'one refcount write');
  assert.is(maps.slot(0)!.refcnt, 5);
  for (let i = 5; i < 8; i++) flows.put(key(i), MASKS[1]!, []);
  flows.del(key(0), MASKS[1]!);
  assert.is(scheduled.length, 1);
  endBurst();
  assert.is(maps.slot(0)!.refcnt, 7);
  assert.is(maps.log.filter((w) => w.map === 'masks').length, 3);
  endBurst();
  assert.is(maps.log.filter((w) => w.map === 'masks').length, 3, 'nothing left to write');
});

t('the default schedule flushes after the burst (a microtask)', async () => {
  const maps = new FakeMaps();
  const flows = new FlowTable(maps, FD.flows, new MaskTable(maps, FD, { name: 'fake' }), 'fake');
  flows.put(key(1), MASKS[1]!, []);
  flows.put(key(2), MASKS[1]!, []);
  assert.is(maps.slot(0)!.refcnt, 0, 'not yet: the burst is running');
  await Promise.resolve();
  assert.is(maps.slot(0)!.refcnt, 2);
});

t('reload() and close() flush deferred refcounts first; nothing is written after close', () => {
  const { maps, masks, flows, endBurst } = setup();
  flows.put(key(1), MASKS[1]!, []);
  flows.put(key(2), MASKS[1]!, []);
  assert.is(maps.slot(0)!.refcnt, 0, 'deferred');
  masks.reload();
  assert.is(maps.slot(0)!.refcnt, 2, 'reload flushed');
  assert.is(masks.count(), 1);
  flows.put(key(3), MASKS[1]!, []);
  flows.put(key(4), MASKS[1]!, []);
  assert.is(maps.slot(0)!.refcnt, 3, 'the first change after a reload is written at once, the next deferred');
  masks.close();
  assert.is(maps.slot(0)!.refcnt, 4, 'close flushed');
  const n = maps.log.length;
  endBurst();
  masks.flush();
  assert.is(maps.log.length, n, 'nothing after close');
});

t('repair() recounts from the flows and frees slots no flow uses', () => {
  const { maps, flows } = setup();
  flows.put(key(1), MASKS[1]!, []);
  flows.put(key(2), MASKS[1]!, []);
  flows.put(key(3), MASKS[2]!, []);
  // A crash: the refcounts were never flushed, and a slot was written for a flow that never went in.
  const dead = setup(maps).masks;
  dead.allocate(MASKS[3]!);
  assert.equal(maps.liveSlots(), [0, 1, 2]);
  const next = setup(maps);
  next.masks.repair(() => next.flows.countBySlot());
  assert.equal(maps.liveSlots(), [0, 1]);
  assert.is(maps.slot(0)!.refcnt, 2);
  assert.is(maps.slot(1)!.refcnt, 1);
  assert.is(maps.nMaskSlots(), 2);
  next.flows.del(key(3), MASKS[2]!);
  assert.equal(maps.liveSlots(), [0]);
});

t('flush() deletes every flow, then frees every slot', () => {
  const { maps, flows, masks } = setup();
  for (let m = 0; m < 4; m++) flows.put(key(m), MASKS[m]!, []);
  const mark = maps.log.length;
  assert.is(flows.flush(), 4);
  const tail = maps.log.slice(mark);
  const lastDel = tail.findLastIndex((w) => w.map === 'flows');
  const firstFree = tail.findIndex((w) => w.map === 'masks');
  assert.ok(lastDel < firstFree);
  assert.equal(maps.liveSlots(), []);
  assert.is(maps.nMaskSlots(), 0);
  assert.is(masks.count(), 0);
});

// ---- random operation sequences against a model ----------------------------------------------

type Op =
  | { op: 'put'; m: number; k: number; mode: PutMode }
  | { op: 'fail'; m: number; k: number }
  | { op: 'del'; m: number; k: number }
  | { op: 'endBurst' } | { op: 'reload' } | { op: 'repair' } | { op: 'flush' };

const mk = fc.record({ m: fc.integer({ min: 0, max: MASKS.length - 1 }), k: fc.integer({ min: 0, max: 5 }) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(mk, fc.constantFrom<PutMode>('put', 'add', 'modify')).map(([x, mode]) => ({ op: 'put' as const, ...x, mode })) },
  { weight: 1, arbitrary: mk.map((x) => ({ op: 'fail' as const, ...x })) },
  { weight: 4, arbitrary: mk.map((x) => ({ op: 'del' as const, ...x })) },
  { weight: 2, arbitrary: fc.constantFrom<Op>({ op: 'endBurst' }, { op: 'reload' }, { op: 'repair' }, { op: 'flush' }) },
);

t('random puts and deletes keep the maps equal to a simple model', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
    const { maps, masks, flows, endBurst } = setup();
    const model = new Map<string, number>();   // flow (mask index + masked key) -> mask index
    const slotOf = new Map<number, number>();  // mask index -> slot
    const fid = (m: number, k: number) => `${m}/${hex(encodeFlowId(0, maskKey(key(k), MASKS[m]!)))}`;
    const insert = (m: number, id: string) => {
      if (!slotOf.has(m)) {
        let s = 0;
        while ([...slotOf.values()].includes(s)) s++;
        slotOf.set(m, s);
      }
      model.set(id, m);
    };
    for (const o of ops) {
      let want: string | undefined, got: string | undefined;
      if (o.op === 'put' || o.op === 'fail') {
        const id = fid(o.m, o.k), has = model.has(id);
        const mode = o.op === 'fail' ? 'add' : o.mode;
        if (o.op === 'fail') maps.failNextInsert = 'ENOMEM';
        want = has ? (mode === 'add' ? 'FLOW_EXISTS' : undefined)
          : mode === 'modify' ? 'NO_SUCH_FLOW' : o.op === 'fail' ? 'FLOW_TABLE_FULL' : undefined;
        got = codeOf(() => flows.put(key(o.k), MASKS[o.m]!, [], mode));
        maps.failNextInsert = undefined;
        if (!want && !has) insert(o.m, id);
      } else if (o.op === 'del') {
        const id = fid(o.m, o.k);
        want = model.has(id) ? undefined : 'NO_SUCH_FLOW';
        got = codeOf(() => flows.del(key(o.k), MASKS[o.m]!));
        model.delete(id);
        if (![...model.values()].includes(o.m)) slotOf.delete(o.m);
      } else if (o.op === 'endBurst') endBurst();
      else if (o.op === 'reload') masks.reload();
      else if (o.op === 'repair') masks.repair(() => flows.countBySlot());
      else { assert.is(flows.flush(), model.size); model.clear(); slotOf.clear(); }
      assert.is(got, want, `${JSON.stringify(o)}: result`);

      // The maps hold exactly the model's flows, each under its mask's slot.
      const stored = maps.flowIds().map((f) => f.maskId).sort();
      assert.equal(stored, [...model.values()].map((m) => slotOf.get(m)!).sort(), 'flows per slot');
      const live = [...slotOf.entries()].sort((a, b) => a[1] - b[1]);
      assert.equal(maps.liveSlots(), live.map(([, s]) => s), 'live slots (lowest free reused)');
      for (const [m, s] of live) assert.ok(keysEqual(maps.slot(s)!.mask, MASKS[m]!), `slot ${s} holds mask ${m}`);
      assert.is(maps.nMaskSlots(), live.length ? live[live.length - 1]![1] + 1 : 0, 'n_mask_slots');
      assert.is(masks.count(), live.length);
    }
    // Once the burst is over, every live slot's refcnt counts its flows.
    endBurst();
    for (const [m, s] of slotOf) {
      assert.is(maps.slot(s)!.refcnt, [...model.values()].filter((x) => x === m).length, `refcnt of slot ${s}`);
    }
  }), { numRuns: 300 });
});

t.run();
