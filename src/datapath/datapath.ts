/**
 * Datapath: one bvs datapath, as pinned maps + a pinned program + pinned tcx links.
 *
 * Pin layout (the root is $BVS_PIN_DIR, default /sys/fs/bpf/bvs):
 *   <root>/<dp>/<map>         every map of bvs.bpf.o, pinned by name (LIBBPF_PIN_BY_NAME)
 *   <root>/<dp>/prog          the TC program
 *   <root>/<dp>/link_<port>   the tcx link of each port
 * Everything the datapath needs to forward is pinned, so packets keep flowing with no process,
 * and any process (the daemon, `bvs dpctl`) can open the datapath by name.
 *
 * Megaflows and masks (see bpf/lib/lookup.h for the kernel side): a flow is stored under
 * {mask slot, key & mask}. Userspace owns the mask slots: a slot is allocated (lowest free)
 * when the first flow with that mask arrives, its refcnt counts the flows using it, and it is
 * freed when the last one goes. config.n_mask_slots bounds the kernel's walk. Invariants:
 *   - a slot's mask never changes while its refcnt > 0;
 *   - a flow is inserted only after its mask slot is written, and its slot is freed only after
 *     the flow is deleted, so the kernel never sees a flow whose mask is missing;
 *   - a failed insert rolls back a slot it created, so nothing is left half-made.
 * The Datapath object mirrors the mask slots in memory; the daemon is the one writer of a
 * datapath in normal operation. A refcount change of a slot in use is written at the end of
 * the current synchronous burst (a microtask; close() and reloadMasks() flush it first), not
 * once per flow: the kernel never reads refcnt. `repairMasks()` recomputes refcounts from the
 * flows after a crash between a flow write and its refcount write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ABI, DROP_REASONS, LAYOUT, MAP_NAMES, MAP_SHAPES, type MapName } from './abi.ts';
import { addon, BPF_OBJECT_PATH, type UpcallRing } from './addon.ts';
import {
  decodeFlow, decodeFlowId, decodeFlowStats, decodeMask, decodePort, decodeUpcall, encodeFlow, encodeFlowId,
  encodeMask, encodePort, type FlowStats, type MaskSlot, type PortEntry, readU32, sumPerCpu, u32,
  type Upcall,
} from './codec.ts';
import { DatapathError, errnoCode } from './errors.ts';
import { type DpAction, emptyKey, type FlowKey, type FlowMask, keysEqual, maskKey } from './flow.ts';
import { netdevInfo } from '../netdev/index.ts';
import { applyActions } from './packet.ts';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/bvs';
const BPF_ANY = 0;
const BPF_NOEXIST = 1;
const BPF_EXIST = 2;
// bpffs refuses any name with a dot in it; names starting with '_' are reserved for bvs itself.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const TMP_PREFIX = '_creating-';
const PORT_CACHE_MS = 1000;

/**
 * Remove a file or directory tree in bpffs. (fs.rmSync's recursive mode trips over bpffs: it
 * answers readdir of a missing path with EPERM.) Missing paths are fine.
 */
export function removePins(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p)) removePins(path.join(p, e));
    fs.rmdirSync(p);
  } else {
    fs.unlinkSync(p);
  }
}

export function pinRoot(): string {
  return process.env.BVS_PIN_DIR || DEFAULT_PIN_ROOT;
}

export interface Port extends PortEntry {
  portNo: number;
}

export interface DpFlow {
  key: FlowKey;       // already masked
  mask: FlowMask;
  actions: DpAction[];
  stats: FlowStats;
}

/**
 * A dumped flow before decoding: `id` is the flows-map key (mask slot + masked key) as a latin1
 * string, the same string putFlow returned when it installed the flow; `flow()` decodes key,
 * mask and actions (undefined when the flow's mask slot was freed meanwhile).
 */
export interface FlowEntry {
  id: string;
  stats: FlowStats;
  flow(): DpFlow;
}

const idString = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export interface DpStats {
  hit: bigint;
  missed: bigint;
  lost: bigint;
  maskHit: bigint;
  maskCacheHit: bigint;
  flows: number;
  masks: number;
}

export interface PortStats {
  rxPackets: bigint; rxBytes: bigint; rxDropped: bigint;
  txPackets: bigint; txBytes: bigint; txDropped: bigint;
}

export type PutMode = 'add' | 'modify' | 'put';

export interface CreateOptions {
  maxFlows?: number;
}

type Fds = Record<MapName, number>;

export class Datapath {
  private masks: (MaskSlot | undefined)[] = [];
  /** The last value written for each slot in use (refcount bumps patch it), and slot keys. */
  private maskBytes: (Uint8Array | undefined)[] = [];
  private readonly maskIdx: Uint8Array[] = [];
  /** Slots whose refcount changed since it was last written (see flushMaskRefcounts). */
  private readonly dirtyMasks = new Set<number>();
  private flushQueued = false;
  /** putFlow's value buffer (one flow value, rewritten by each call). */
  private readonly flowScratch = new Uint8Array(LAYOUT.bvs_flow.size);
  /** n_mask_slots last written to the config map (-1: unknown, write on the next change). */
  private nSlotsWritten = -1;
  private readonly nCpus = addon().numPossibleCpus();
  private closed = false;

  private constructor(readonly name: string, readonly dir: string, private readonly fds: Fds,
    private readonly progFd: number) {
    this.reloadMasks();
  }

  // ---- datapath lifecycle ------------------------------------------------------------------

  static dirOf(name: string): string {
    return path.join(pinRoot(), name);
  }

  static exists(name: string): boolean {
    return fs.existsSync(path.join(Datapath.dirOf(name), 'flows'));
  }

  /** Names of the datapaths pinned under the pin root. */
  static list(): string[] {
    const root = pinRoot();
    if (!fs.existsSync(root)) return [];
    return fs.readdirSync(root).filter((n) => NAME_RE.test(n) && Datapath.exists(n)).sort();
  }

  /** Load the program and create the maps, pinned under <root>/<name>. All or nothing. */
  static create(name: string, opts: CreateOptions = {}): Datapath {
    if (!NAME_RE.test(name)) {
      throw new DatapathError('NO_SUCH_DATAPATH', `invalid datapath name "${name}" (letters, digits, _ and -; bpffs allows no dots)`);
    }
    const dir = Datapath.dirOf(name);
    if (fs.existsSync(dir)) throw new DatapathError('DATAPATH_EXISTS', `datapath ${name} already exists`);
    const maxFlows = opts.maxFlows ?? ABI.DEFAULT_MAX_FLOWS;
    if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 16 * 1024 * 1024) {
      throw new DatapathError('FLOW_TABLE_FULL', `invalid flow table size ${maxFlows}`);
    }
    const a = addon();
    fs.mkdirSync(pinRoot(), { recursive: true, mode: 0o700 });
    // Build under a private name, then rename: a crash or failure never leaves a half-made
    // datapath under the real name.
    const tmp = path.join(pinRoot(), `${TMP_PREFIX}${name}-${process.pid}`);
    removePins(tmp);
    fs.mkdirSync(tmp, { mode: 0o700 });
    try {
      const loaded = a.load(BPF_OBJECT_PATH, { pinRoot: tmp, maxEntries: { flows: maxFlows } });
      try {
        a.objPin(loaded.progFd, path.join(tmp, 'prog'));
      } finally {
        a.close(loaded.progFd);
        for (const fd of Object.values(loaded.maps)) a.close(fd);
      }
      fs.renameSync(tmp, dir);
    } catch (err) {
      removePins(tmp);
      throw err;
    }
    return Datapath.open(name);
  }

  /** Open a pinned datapath. */
  static open(name: string): Datapath {
    const dir = Datapath.dirOf(name);
    if (!Datapath.exists(name)) throw new DatapathError('NO_SUCH_DATAPATH', `no datapath named ${name}`);
    const a = addon();
    const fds: Partial<Fds> = {};
    let progFd = -1;
    try {
      for (const m of MAP_NAMES) {
        fds[m] = a.objGet(path.join(dir, m));
        if (m === 'upcalls') continue;
        const info = a.mapInfo(fds[m]!);
        const want = MAP_SHAPES[m];
        if (info.keySize !== want.key || info.valueSize !== want.value) {
          throw new DatapathError('INCOMPATIBLE_PINS',
            `datapath ${name}: map ${m} has key/value ${info.keySize}/${info.valueSize} bytes, this bvs expects ${want.key}/${want.value}; delete and re-create the datapath`);
        }
      }
      progFd = a.objGet(path.join(dir, 'prog'));
    } catch (err) {
      for (const fd of Object.values(fds)) a.close(fd);
      if (err instanceof DatapathError) throw err;
      throw new DatapathError('INCOMPATIBLE_PINS', `datapath ${name} is incomplete: ${(err as Error).message}`, { cause: err });
    }
    return new Datapath(name, dir, fds as Fds, progFd);
  }

  /** Detach every port and remove every pin of the datapath. Works on a half-made one too. */
  static destroy(name: string): void {
    const dir = Datapath.dirOf(name);
    if (!fs.existsSync(dir)) throw new DatapathError('NO_SUCH_DATAPATH', `no datapath named ${name}`);
    const a = addon();
    for (const entry of fs.readdirSync(dir)) {
      const p = path.join(dir, entry);
      if (entry.startsWith('link_')) {
        try {
          const fd = a.objGet(p);
          try { a.linkDetach(fd); } catch { /* already detached (device gone) */ } finally { a.close(fd); }
        } catch { /* not a link: just unlink it */ }
      }
      removePins(p);
    }
    fs.rmdirSync(dir);
  }

  close(): void {
    if (this.closed) return;
    this.flushMaskRefcounts();
    this.closed = true;
    const a = addon();
    for (const fd of Object.values(this.fds)) a.close(fd);
    a.close(this.progFd);
  }

  // ---- ports -------------------------------------------------------------------------------

  listPorts(): Port[] {
    const a = addon();
    const out: Port[] = [];
    const key = new Uint8Array(4);
    const val = new Uint8Array(LAYOUT.bvs_port.size);
    let prev: Uint8Array | null = null;
    while (a.mapGetNextKey(this.fds.ports, prev, key)) {
      const k = Uint8Array.from(key);
      if (a.mapLookup(this.fds.ports, k, val)) out.push({ portNo: readU32(k), ...decodePort(val) });
      prev = k;
    }
    return out.sort((x, y) => x.portNo - y.portNo);
  }

  findPort(nameOrNo: string | number): Port | undefined {
    const ports = this.listPorts();
    if (typeof nameOrNo === 'number') return ports.find((p) => p.portNo === nameOrNo);
    return ports.find((p) => p.name === nameOrNo)
      ?? (/^\d+$/.test(nameOrNo) ? ports.find((p) => p.portNo === Number(nameOrNo)) : undefined);
  }

  /** Add a network device as a port and attach the program to it. Returns the port number. */
  addPort(ifname: string, opts: { portNo?: number; internal?: boolean } = {}): number {
    const a = addon();
    const info = netdevInfo(ifname);
    const ports = this.listPorts();
    const clash = ports.find((p) => p.ifindex === info.ifindex || p.name === info.name);
    if (clash) throw new DatapathError('PORT_EXISTS', `${ifname} is already port ${clash.portNo} of ${this.name}`);
    let portNo = opts.portNo;
    if (portNo !== undefined) {
      if (!Number.isInteger(portNo) || portNo < 1 || portNo > 0xfffffeff) {
        throw new DatapathError('PORT_NUMBER', `invalid port_no ${portNo}`);
      }
      if (ports.some((p) => p.portNo === portNo)) {
        throw new DatapathError('PORT_NUMBER', `port_no ${portNo} is already in use on ${this.name}`);
      }
    } else {
      const used = new Set(ports.map((p) => p.portNo));
      portNo = 1;
      while (used.has(portNo)) portNo++;
    }
    if (ports.length >= ABI.MAX_PORTS) throw new DatapathError('PORT_NUMBER', `${this.name} has ${ABI.MAX_PORTS} ports already`);
    this.portCache = undefined;
    const flags = (info.peerInOtherNetns && !opts.internal ? ABI.PORT_F_PEER : 0)
      | (opts.internal ? ABI.PORT_F_INTERNAL : 0);
    const k = u32(portNo);
    const pinPath = path.join(this.dir, `link_${portNo}`);
    const undo: (() => void)[] = [];
    try {
      a.mapUpdate(this.fds.ports, k, encodePort({ ifindex: info.ifindex, flags, name: info.name }), BPF_NOEXIST);
      undo.push(() => a.mapDelete(this.fds.ports, k));
      a.mapUpdate(this.fds.ifindex_port, u32(info.ifindex), k, BPF_NOEXIST);
      undo.push(() => a.mapDelete(this.fds.ifindex_port, u32(info.ifindex)));
      a.mapUpdate(this.fds.port_stats, k, new Uint8Array(this.perCpuSize(LAYOUT.bvs_port_stats.size)), BPF_ANY);
      undo.push(() => a.mapDelete(this.fds.port_stats, k));
      const link = a.tcxAttach(this.progFd, info.ifindex, !!opts.internal);
      try {
        a.objPin(link, pinPath);
      } catch (err) {
        a.linkDetach(link);
        throw err;
      } finally {
        a.close(link);
      }
    } catch (err) {
      for (const f of undo.reverse()) { try { f(); } catch { /* best effort */ } }
      throw err;
    }
    return portNo;
  }

  /** Detach and remove a port. */
  delPort(nameOrNo: string | number): Port {
    const a = addon();
    const port = this.findPort(nameOrNo);
    if (!port) throw new DatapathError('NO_SUCH_PORT', `no port ${nameOrNo} on ${this.name}`);
    this.portCache = undefined;
    const pinPath = path.join(this.dir, `link_${port.portNo}`);
    if (fs.existsSync(pinPath)) {
      const fd = a.objGet(pinPath);
      try { a.linkDetach(fd); } catch { /* the device is gone: the link is defunct already */ } finally { a.close(fd); }
      removePins(pinPath);
    }
    a.mapDelete(this.fds.ifindex_port, u32(port.ifindex));
    a.mapDelete(this.fds.ports, u32(port.portNo));
    a.mapDelete(this.fds.port_stats, u32(port.portNo));
    return port;
  }

  portStats(portNo: number): PortStats {
    const buf = new Uint8Array(this.perCpuSize(LAYOUT.bvs_port_stats.size));
    const zero = { rxPackets: 0n, rxBytes: 0n, rxDropped: 0n, txPackets: 0n, txBytes: 0n, txDropped: 0n };
    if (!addon().mapLookup(this.fds.port_stats, u32(portNo), buf)) return zero;
    const s = sumPerCpu(buf, this.nCpus, LAYOUT.bvs_port_stats.members, LAYOUT.bvs_port_stats.size);
    return {
      rxPackets: s.rx_packets, rxBytes: s.rx_bytes, rxDropped: s.rx_dropped,
      txPackets: s.tx_packets, txBytes: s.tx_bytes, txDropped: s.tx_dropped,
    };
  }

  // ---- masks -------------------------------------------------------------------------------

  private perCpuSize(valueSize: number): number {
    return Math.ceil(valueSize / 8) * 8 * this.nCpus;
  }

  /** Re-read the mask slots from the map. */
  reloadMasks(): void {
    this.flushMaskRefcounts();
    const a = addon();
    const val = new Uint8Array(LAYOUT.bvs_mask.size);
    this.masks = [];
    this.maskBytes = [];
    this.nSlotsWritten = -1;
    for (let i = 0; i < ABI.MAX_MASKS; i++) {
      if (a.mapLookup(this.fds.masks, u32(i), val)) {
        const slot = decodeMask(val);
        this.masks[i] = slot.used ? slot : undefined;
      }
    }
  }

  private findMask(mask: FlowMask): number {
    return this.masks.findIndex((s) => s !== undefined && keysEqual(s.mask, mask));
  }

  private writeMask(i: number, slot: MaskSlot | undefined): void {
    const a = addon();
    const prev = this.masks[i];
    let bytes = this.maskBytes[i];
    if (slot !== undefined && prev !== undefined && bytes !== undefined && prev.used && slot.used && keysEqual(prev.mask, slot.mask)) {
      // A refcount change of a slot in use (every putFlow): patch the cached encoding, and
      // write it once at the end of the current burst (flushMaskRefcounts), not per flow.
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(LAYOUT.bvs_mask.members.refcnt[0], slot.refcnt, true);
      this.masks[i] = slot;
      this.dirtyMasks.add(i);
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => this.flushMaskRefcounts());
      }
      return;
    }
    bytes = encodeMask(slot ?? { mask: emptyKey(), refcnt: 0, used: false });
    this.dirtyMasks.delete(i);
    let key = this.maskIdx[i];
    if (key === undefined) { key = u32(i); this.maskIdx[i] = key; }
    a.mapUpdate(this.fds.masks, key, bytes, BPF_ANY);
    this.maskBytes[i] = slot === undefined ? undefined : bytes;
    this.masks[i] = slot;
    let n = this.masks.length;
    while (n > 0 && this.masks[n - 1] === undefined) n--;
    this.masks.length = n;
    // The kernel walks n_mask_slots slots: rewrite it only when it changes (a refcount bump of
    // an existing slot, the common case, leaves it alone).
    if (n === this.nSlotsWritten) return;
    this.nSlotsWritten = n;
    const cfg = new Uint8Array(LAYOUT.bvs_config.size);
    new DataView(cfg.buffer).setUint32(LAYOUT.bvs_config.members.n_mask_slots[0], n, true);
    a.mapUpdate(this.fds.config, u32(0), cfg, BPF_ANY);
  }

  /**
   * Writes the refcounts writeMask deferred. The kernel never reads refcnt (only userspace
   * does, to know when a slot is free), and a slot's creation and release are always written
   * at once, so deferring the count keeps the kernel-visible invariants; the map's count lags
   * the flows only until the current synchronous burst ends (a queued microtask: after one
   * upcall batch), which is the same gap a crash leaves and repairMasks() closes. Called
   * before the slots are re-read and on close.
   */
  flushMaskRefcounts(): void {
    this.flushQueued = false;
    if (this.dirtyMasks.size === 0 || this.closed) { this.dirtyMasks.clear(); return; }
    const a = addon();
    for (const i of this.dirtyMasks) {
      const bytes = this.maskBytes[i];
      // A microtask must not throw: a failed write stays wrong in the map until repairMasks().
      if (bytes !== undefined) try { a.mapUpdate(this.fds.masks, this.maskIdx[i]!, bytes, BPF_ANY); } catch { /* see above */ }
    }
    this.dirtyMasks.clear();
  }

  maskCount(): number {
    return this.masks.filter((s) => s !== undefined).length;
  }

  /** Recompute every mask's refcnt from the flows, freeing masks no flow uses. */
  repairMasks(): void {
    this.reloadMasks();
    const counts = new Map<number, number>();
    for (const id of this.flowIds()) counts.set(id.maskId, (counts.get(id.maskId) ?? 0) + 1);
    this.masks.forEach((slot, i) => {
      if (!slot) return;
      const n = counts.get(i) ?? 0;
      if (n !== slot.refcnt) this.writeMask(i, n === 0 ? undefined : { ...slot, refcnt: n });
    });
  }

  // ---- flows -------------------------------------------------------------------------------

  /**
   * Install a megaflow. mode 'add' fails if it exists, 'modify' fails if it does not (and keeps
   * its stats unless clearStats), 'put' does either. Returns the flow's id (see FlowEntry).
   */
  putFlow(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode: PutMode = 'put',
    clearStats = false): string {
    const a = addon();
    // The value buffer is reused: mapUpdate copies it into the kernel before returning.
    const value = encodeFlow(actions, undefined, this.flowScratch);
    let slot = this.findMask(mask);
    let created = false;
    if (slot < 0) {
      if (mode === 'modify') throw new DatapathError('NO_SUCH_FLOW', 'no such flow (no flow has this mask)');
      slot = this.masks.findIndex((s) => s === undefined);
      if (slot < 0) slot = this.masks.length;
      if (slot >= ABI.MAX_MASKS) {
        throw new DatapathError('MASKS_FULL', `datapath ${this.name} has ${ABI.MAX_MASKS} masks in use; no room for a new mask`);
      }
      this.writeMask(slot, { mask: { ...mask }, refcnt: 0, used: true });
      created = true;
    }
    const id = encodeFlowId(slot, maskKey(key, mask));
    // 'add' needs no lookup: the NOEXIST insert below fails with EEXIST when the flow exists.
    const old = created || mode === 'add' ? undefined : new Uint8Array(LAYOUT.bvs_flow.size);
    const exists = old !== undefined && a.mapLookup(this.fds.flows, id, old);
    try {
      if (exists) {
        const v = clearStats ? value : encodeFlow(actions, decodeFlow(old!).stats);
        a.mapUpdate(this.fds.flows, id, v, BPF_EXIST);
        return idString(id);
      }
      if (mode === 'modify') throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
      try {
        a.mapUpdate(this.fds.flows, id, value, BPF_NOEXIST);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EEXIST') throw new DatapathError('FLOW_EXISTS', 'flow already exists', { cause: err });
        if (code === 'E2BIG' || code === 'ENOSPC' || code === 'ENOMEM') {
          const max = a.mapInfo(this.fds.flows).maxEntries;
          throw new DatapathError('FLOW_TABLE_FULL', `flow table of ${this.name} is full (${max} flows)`, { cause: err });
        }
        throw err;
      }
    } catch (err) {
      if (created) this.writeMask(slot, undefined);
      throw err;
    }
    const s = this.masks[slot]!;
    this.writeMask(slot, { ...s, refcnt: s.refcnt + 1 });
    return idString(id);
  }

  /** Delete the megaflow (key & mask, mask). */
  delFlow(key: FlowKey, mask: FlowMask): void {
    const slot = this.findMask(mask);
    if (slot < 0 || !addon().mapDelete(this.fds.flows, encodeFlowId(slot, maskKey(key, mask)))) {
      throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
    }
    const s = this.masks[slot]!;
    this.writeMask(slot, s.refcnt <= 1 ? undefined : { ...s, refcnt: s.refcnt - 1 });
  }

  /** Delete every flow and free every mask. Returns the number of flows deleted. */
  flushFlows(): number {
    const a = addon();
    let n = 0;
    const ids = [...this.flowIdBuffers()];
    for (const id of ids) if (a.mapDelete(this.fds.flows, id)) n++;
    for (let i = 0; i < ABI.MAX_MASKS; i++) {
      if (this.masks[i] !== undefined) this.writeMask(i, undefined);
    }
    this.writeMask(0, undefined);
    return n;
  }

  /** The flow with exactly this mask and masked key, if any. */
  getFlow(key: FlowKey, mask: FlowMask): DpFlow | undefined {
    const slot = this.findMask(mask);
    if (slot < 0) return undefined;
    return this.readFlow(slot, maskKey(key, mask));
  }

  /** What the datapath would match for a packet with this key: first mask slot that hits. */
  lookup(key: FlowKey): DpFlow | undefined {
    for (let i = 0; i < this.masks.length; i++) {
      const s = this.masks[i];
      if (!s) continue;
      const f = this.readFlow(i, maskKey(key, s.mask));
      if (f) return f;
    }
    return undefined;
  }

  private readFlow(slot: number, maskedKey: FlowKey): DpFlow | undefined {
    const val = new Uint8Array(LAYOUT.bvs_flow.size);
    if (!addon().mapLookup(this.fds.flows, encodeFlowId(slot, maskedKey), val)) return undefined;
    const { actions, stats } = decodeFlow(val);
    return { key: maskedKey, mask: this.masks[slot]!.mask, actions, stats };
  }

  private *flowIdBuffers(): Generator<Uint8Array> {
    const a = addon();
    const key = new Uint8Array(LAYOUT.bvs_flow_id.size);
    let prev: Uint8Array | null = null;
    const all: Uint8Array[] = [];
    while (a.mapGetNextKey(this.fds.flows, prev, key)) {
      prev = Uint8Array.from(key);
      all.push(prev);
    }
    yield* all;
  }

  private *flowIds(): Generator<{ maskId: number; key: FlowKey }> {
    for (const b of this.flowIdBuffers()) yield decodeFlowId(b);
  }

  /** Every flow, with its mask, actions and stats. Uses batched reads. */
  dumpFlows(): DpFlow[] {
    const out: DpFlow[] = [];
    for (const chunk of this.dumpFlowChunks()) for (const f of chunk) out.push(f);
    return out;
  }

  /**
   * The flows in chunks of at most `batch` (one batched map read each), so a caller with many
   * flows can yield to its event loop between chunks (the daemon's revalidator does). Flows
   * added or deleted while the iteration is suspended may or may not be seen; none is seen
   * twice unless re-inserted.
   */
  *dumpFlowChunks(batch = 1024): Generator<DpFlow[]> {
    const a = addon();
    this.reloadMasks();
    const KS = LAYOUT.bvs_flow_id.size;
    const VS = LAYOUT.bvs_flow.size;
    const keys = new Uint8Array(KS * batch);
    const vals = new Uint8Array(VS * batch);
    let inB: Uint8Array | null = null;
    const outB = new Uint8Array(KS);
    for (;;) {
      const out: DpFlow[] = [];
      const r = a.mapLookupBatch(this.fds.flows, inB, outB, keys, vals, batch);
      for (let i = 0; i < r.count; i++) {
        const id = decodeFlowId(keys.subarray(i * KS, (i + 1) * KS));
        const { actions, stats } = decodeFlow(vals.subarray(i * VS, (i + 1) * VS));
        const m = this.masks[id.maskId];
        if (!m) continue; // a flow racing with its mask's removal
        out.push({ key: id.key, mask: m.mask, actions, stats });
      }
      if (out.length) yield out;
      if (r.done) return;
      inB = Uint8Array.from(outB);
    }
  }

  /**
   * The flows in chunks of at most `batch`, undecoded: id and stats only, the rest on demand.
   * For the revalidator, which needs only those for most flows (decoding a key and its actions
   * costs several times the batched read). Each chunk has its own buffers, so an entry's
   * flow() stays valid after the iteration moves on.
   */
  *dumpFlowEntries(batch = 1024): Generator<FlowEntry[]> {
    const a = addon();
    this.reloadMasks();
    const KS = LAYOUT.bvs_flow_id.size;
    const VS = LAYOUT.bvs_flow.size;
    let inB: Uint8Array | null = null;
    const outB = new Uint8Array(KS);
    for (;;) {
      const keys = new Uint8Array(KS * batch);
      const vals = new Uint8Array(VS * batch);
      const r = a.mapLookupBatch(this.fds.flows, inB, outB, keys, vals, batch);
      const out: FlowEntry[] = [];
      for (let i = 0; i < r.count; i++) {
        const kb = keys.subarray(i * KS, (i + 1) * KS);
        const vb = vals.subarray(i * VS, (i + 1) * VS);
        // The mask as of the dump: its slot could be reused before flow() is called.
        const m = this.masks[readU32(kb, LAYOUT.bvs_flow_id.members.mask_id[0])];
        if (!m) continue; // a flow racing with its mask's removal
        out.push({
          id: idString(kb),
          stats: decodeFlowStats(vb),
          flow: () => {
            const { actions, stats } = decodeFlow(vb);
            return { key: decodeFlowId(kb).key, mask: m.mask, actions, stats };
          },
        });
      }
      if (out.length) yield out;
      if (r.done) return;
      inB = Uint8Array.from(outB);
    }
  }

  countFlows(): number {
    let n = 0;
    for (const _ of this.flowIdBuffers()) n++;
    return n;
  }

  maxFlows(): number {
    return addon().mapInfo(this.fds.flows).maxEntries;
  }

  stats(): DpStats {
    const buf = new Uint8Array(this.perCpuSize(LAYOUT.bvs_dp_stats.size));
    addon().mapLookup(this.fds.dp_stats, u32(0), buf);
    const s = sumPerCpu(buf, this.nCpus, LAYOUT.bvs_dp_stats.members, LAYOUT.bvs_dp_stats.size);
    return {
      hit: s.hit, missed: s.missed, lost: s.lost, maskHit: s.mask_hit, maskCacheHit: s.mask_cache_hit,
      flows: this.countFlows(), masks: this.maskCount(),
    };
  }

  /** Drop counters by reason name. */
  dropStats(): Record<string, bigint> {
    const a = addon();
    const out: Record<string, bigint> = {};
    const buf = new Uint8Array(this.perCpuSize(8));
    for (let i = 1; i < ABI.DROP_MAX; i++) {
      if (!a.mapLookup(this.fds.drop_stats, u32(i), buf)) continue;
      let t = 0n;
      const dv = new DataView(buf.buffer);
      for (let c = 0; c < this.nCpus; c++) t += dv.getBigUint64(c * 8, true);
      out[DROP_REASONS[i] ?? `reason_${i}`] = t;
    }
    return out;
  }

  // ---- execute and upcalls -----------------------------------------------------------------

  /** Run actions on a frame in userspace and send the results out of their ports. */
  execute(frame: Uint8Array, actions: readonly DpAction[]): void {
    if (frame.length < 14) throw new DatapathError('BAD_PACKET', `packet too short (${frame.length} bytes)`);
    const a = addon();
    const { outputs } = applyActions(frame, actions);
    const ports = this.portIfindexes();
    for (const o of outputs) {
      const ifindex = ports.get(o.port);
      if (ifindex === undefined) continue; // like the datapath: output to a missing port drops
      a.packetSend(ifindex, o.frame);
    }
  }

  /**
   * port number -> ifindex, for execute (the daemon's upcall handler executes every first
   * packet; reading the ports map each time cost more than the send). Dropped by this object's
   * addPort/delPort and re-read after PORT_CACHE_MS, so a port changed by another process
   * (dpctl) is seen within that time.
   */
  private portCache: { at: number; map: Map<number, number> } | undefined;
  private portIfindexes(): Map<number, number> {
    const now = performance.now();
    if (!this.portCache || now - this.portCache.at > PORT_CACHE_MS) {
      this.portCache = { at: now, map: new Map(this.listPorts().map((p) => [p.portNo, p.ifindex])) };
    }
    return this.portCache.map;
  }

  /** Deliver upcalls in batches (at most maxBatch each) until the returned ring is closed.
   *  `onError` gets a ring consume/poll failure (a poll failure also stops the ring); without
   *  it such failures are uncaught exceptions. */
  openUpcalls(onBatch: (batch: Upcall[]) => void, maxBatch = 64, onError?: (err: Error) => void): UpcallRing {
    return addon().ringOpen(this.fds.upcalls, maxBatch, (recs) => onBatch(recs.map(decodeUpcall)), onError);
  }
}
