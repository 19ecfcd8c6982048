/**
 * Datapath: one bvs datapath, as pinned maps + a pinned program + pinned tcx links. This class
 * is the facade the rest of bvs uses; each concern has its own module, which states its
 * invariants:
 *   pins.ts    the pin layout, names, create (all or nothing) / open (shape checks) / destroy
 *   masks.ts   the mask slots of the megaflow cache (MaskTable), the one writer of masks/config
 *   flows.ts   the megaflows (FlowTable): put/del/get/lookup/dump, in the order the mask slots
 *              require (a slot is written before its first flow, freed after its last)
 *   ports.ts   ports, their tcx links, port stats and the port -> ifindex cache (PortTable)
 *   stats.ts   datapath-wide and drop counters
 *   execute.ts running actions on a frame in the kernel (bvs_exec)
 *   meters.ts  the meters map: token buckets by datapath meter id, and their counters
 * This file composes them over one set of pinned fds, and keeps the upcall ring.
 *
 * One Datapath object per process and datapath: it mirrors the mask slots in memory, and the
 * daemon is the one writer of a datapath in normal operation. close() flushes deferred mask
 * refcounts before it closes the fds.
 */
import { ABI } from './abi.ts';
import { addon, type UpcallRing } from './addon.ts';
import { decodeUpcall, type Upcall } from './records.ts';
import { EXEC_SCRATCH_SIZE, executeInKernel, type ExecResult } from './execute.ts';
import type { DpAction, FlowKey, FlowMask } from './flow.ts';
import { type DpFlow, type FlowEntry, FlowTable, type PutMode } from './flows.ts';
import { MaskTable } from './masks.ts';
import { type DpMeterConfig, type DpMeterStats, MeterMap } from './meters.ts';
import * as pins from './pins.ts';
import { type Port, type PortStats, PortTable } from './ports.ts';
import { type DpStats, readDpStats, readDropStats } from './stats.ts';

export { DEFAULT_PIN_ROOT, pinRoot, removePins, type CreateOptions } from './pins.ts';
export type { DpFlow, FlowEntry, PutMode } from './flows.ts';
export type { Port, PortStats } from './ports.ts';
export type { DpStats } from './stats.ts';
export type { DpMeterBand, DpMeterConfig, DpMeterStats } from './meters.ts';

export class Datapath {
  private readonly masks: MaskTable;
  private readonly flows: FlowTable;
  private readonly ports: PortTable;
  private readonly meterMap: MeterMap;
  private readonly nCpus = addon().numPossibleCpus();
  /** execute's request buffer, reused call after call (this object runs on one thread). */
  private readonly execScratch = new Uint8Array(EXEC_SCRATCH_SIZE);
  private closed = false;

  private constructor(readonly name: string, readonly dir: string, private readonly fds: pins.Fds,
    private readonly progFd: number, private readonly execFd: number) {
    const a = addon();
    this.masks = new MaskTable(a, fds, { name });
    this.flows = new FlowTable(a, fds.flows, this.masks, name);
    this.ports = new PortTable(name, dir, fds, progFd, this.nCpus);
    this.meterMap = new MeterMap(a, fds.meters, () => a.monotonicNs());
  }

  // ---- datapath lifecycle (pins.ts) --------------------------------------------------------

  static dirOf(name: string): string {
    return pins.dirOf(name);
  }

  static exists(name: string): boolean {
    return pins.exists(name);
  }

  /** Names of the datapaths pinned under the pin root. */
  static list(): string[] {
    return pins.list();
  }

  /** Load the program and create the maps, pinned under <root>/<name>. All or nothing. */
  static create(name: string, opts: pins.CreateOptions = {}): Datapath {
    pins.createPins(name, opts);
    return Datapath.open(name);
  }

  /** Open a pinned datapath. */
  static open(name: string): Datapath {
    const { dir, fds, progFd, execFd } = pins.openPins(name);
    return new Datapath(name, dir, fds, progFd, execFd);
  }

  /** Detach every port and remove every pin of the datapath. Works on a half-made one too. */
  static destroy(name: string): void {
    pins.destroyPins(name);
  }

  close(): void {
    if (this.closed) return;
    this.masks.close();
    this.closed = true;
    pins.closePins({ fds: this.fds, progFd: this.progFd, execFd: this.execFd });
  }

  // ---- ports (ports.ts) --------------------------------------------------------------------

  listPorts(): Port[] {
    return this.ports.list();
  }

  findPort(nameOrNo: string | number): Port | undefined {
    return this.ports.find(nameOrNo);
  }

  /** Add a network device as a port and attach the program to it. Returns the port number. */
  addPort(ifname: string, opts: { portNo?: number; internal?: boolean } = {}): number {
    return this.ports.add(ifname, opts);
  }

  /** Detach and remove a port. */
  delPort(nameOrNo: string | number): Port {
    return this.ports.del(nameOrNo);
  }

  portStats(portNo: number): PortStats {
    return this.ports.stats(portNo);
  }

  // ---- masks (masks.ts) --------------------------------------------------------------------

  /** Re-read the mask slots from the map. */
  reloadMasks(): void {
    this.masks.reload();
  }

  /** Write the mask refcounts deferred until the end of the current burst now. */
  flushMaskRefcounts(): void {
    this.masks.flush();
  }

  maskCount(): number {
    return this.masks.count();
  }

  /** Recompute every mask's refcnt from the flows, freeing masks no flow uses. */
  repairMasks(): void {
    this.masks.repair(() => this.flows.countBySlot());
  }

  // ---- flows (flows.ts) --------------------------------------------------------------------

  /**
   * Install a megaflow. mode 'add' fails if it exists, 'modify' fails if it does not (and keeps
   * its stats unless clearStats), 'put' does either. Returns the flow's id (see FlowEntry).
   */
  putFlow(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode: PutMode = 'put',
    clearStats = false): string {
    return this.flows.put(key, mask, actions, mode, clearStats);
  }

  /** Delete the megaflow (key & mask, mask). */
  delFlow(key: FlowKey, mask: FlowMask): void {
    this.flows.del(key, mask);
  }

  /** Delete every flow and free every mask. Returns the number of flows deleted. */
  flushFlows(): number {
    return this.flows.flush();
  }

  /** The flow with exactly this mask and masked key, if any. */
  getFlow(key: FlowKey, mask: FlowMask): DpFlow | undefined {
    return this.flows.get(key, mask);
  }

  /** What the datapath would match for a packet with this key: first mask slot that hits. */
  lookup(key: FlowKey): DpFlow | undefined {
    return this.flows.lookup(key);
  }

  /** Every flow, with its mask, actions and stats. Uses batched reads. */
  dumpFlows(): DpFlow[] {
    return this.flows.dump();
  }

  /** The flows in chunks of at most `batch` (see FlowTable.dumpChunks). */
  dumpFlowChunks(batch = 1024): Generator<DpFlow[]> {
    return this.flows.dumpChunks(batch);
  }

  /** The flows in chunks of at most `batch`, undecoded (see FlowTable.dumpEntries). */
  dumpFlowEntries(batch = 1024): Generator<FlowEntry[]> {
    return this.flows.dumpEntries(batch);
  }

  countFlows(): number {
    return this.flows.count();
  }

  maxFlows(): number {
    return this.flows.max();
  }

  // ---- stats (stats.ts) --------------------------------------------------------------------

  stats(): DpStats {
    return { ...readDpStats(addon(), this.fds.dp_stats, this.nCpus), flows: this.countFlows(), masks: this.maskCount() };
  }

  /** Drop counters by reason name. */
  dropStats(): Record<string, bigint> {
    return readDropStats(addon(), this.fds.drop_stats, this.nCpus);
  }

  // ---- meters (meters.ts) -------------------------------------------------------------------

  /** Datapath meter ids are 0..maxMeters()-1. */
  maxMeters(): number {
    return ABI.MAX_METERS;
  }

  /** Writes meter `id` whole (full buckets, zero counters); on failure the old one stays. */
  setMeter(id: number, config: DpMeterConfig): void {
    this.meterMap.set(id, config);
  }

  /** Empties meter `id`: packets pass it. */
  delMeter(id: number): void {
    this.meterMap.delete(id);
  }

  meterStats(id: number): DpMeterStats {
    return this.meterMap.stats(id);
  }

  // ---- execute and upcalls -----------------------------------------------------------------

  /**
   * Runs `actions` on `frame` in the kernel, by the datapath's own action code, as if it had
   * arrived on port `inPort` (0: no port), and sends what they output (execute.ts).
   */
  execute(frame: Uint8Array, actions: readonly DpAction[], inPort = 0): ExecResult {
    return executeInKernel(this.execFd, frame, actions, inPort, this.execScratch);
  }

  /** Deliver upcalls in batches (at most maxBatch each) until the returned ring is closed.
   *  `onError` gets a ring consume/poll failure (a poll failure also stops the ring); without
   *  it such failures are uncaught exceptions. */
  openUpcalls(onBatch: (batch: Upcall[]) => void, maxBatch = 64, onError?: (err: Error) => void): UpcallRing {
    return addon().ringOpen(this.fds.upcalls, maxBatch, (recs) => onBatch(recs.map(decodeUpcall)), onError);
  }
}
