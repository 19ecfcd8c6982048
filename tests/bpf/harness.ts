/**
 * A harness for the datapath program alone, without the Datapath class: bpf/.output/bvs.bpf.o is
 * loaded through the addon with a pin root of its own, its maps are written and read with the ABI
 * codecs of src/datapath/codec.ts (typed FlowKey / DpAction values in, LAYOUT offsets only, so a
 * change of bvs_abi.h reaches these tests through abi.ts and never leaves them behind), frames
 * run through BPF_PROG_TEST_RUN (progTestRun), and upcalls are read from the ring on the event
 * loop and decoded with decodeUpcall.
 *
 * The device. A test run executes the program with skb->dev = `dev` (progTestRun's ifindex): the
 * host end of a veth pair of this harness, whose peer sits in a private, empty netns. Tests point
 * their ports at it. A test run performs no redirect verdict, but bpf_clone_redirect really
 * transmits its copy: an egress copy lands in the empty netns; an ingress copy (an internal port,
 * BPF_F_INGRESS) enters this netns's stack addressed to another MAC (PACKET_OTHERHOST) and is
 * dropped there. Nothing is sent through a device anyone else uses.
 *
 * Upcalls reach JS asynchronously, in ring order. `fence()` runs a marker frame that always
 * misses and waits for its record: every record of an earlier run is then in hand, so a test can
 * assert exactly which upcalls its runs made (none included) without sleeping.
 *
 * Everything it makes (fds, ring, pins, veth, netns) is removed by destroy(), which callers run
 * in `after` even when a test fails; it is safe after a partial start and runs again at process
 * exit as a last resort. Names carry the pid and a random suffix.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { DROP_REASONS, LAYOUT, type MapName, type Member } from '../../src/datapath/abi.ts';
import { addon, BPF_OBJECT_PATH, type UpcallRing } from '../../src/datapath/addon.ts';
import {
  decodeFlow, encodeConfig, encodeFlow, encodeFlowId, encodeMask, encodePort,
  type FlowStats, type PortEntry, sumPerCpu, u32,
} from '../../src/datapath/codec.ts';
import { decodeUpcall, type Upcall } from '../../src/datapath/records.ts';
import { type DpAction, FLOW_FIELDS, type FlowKey } from '../../src/datapath/flow.ts';
import { waitFor } from '../helpers/wait.ts';
import { eth } from './frames.ts';

export const OBJ = BPF_OBJECT_PATH;

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

const A = addon();
const BPF_ANY = 0;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd: string, args: string[]) => { try { sh(cmd, args); } catch { /* not made, or gone */ } };
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** The drop_stats index of a drop reason, by its name in DROP_REASONS. */
export function dropCode(name: string): number {
  const code = Object.entries(DROP_REASONS).find(([, n]) => n === name)?.[0];
  if (code === undefined) throw new Error(`no drop reason named ${name}`);
  return Number(code);
}

/** The fields where two keys differ, as "field: got != want" (hex), for assertion messages. */
export function keyDiff(got: FlowKey, want: FlowKey): string[] {
  const hex = (v: number | bigint) => `0x${v.toString(16)}`;
  return FLOW_FIELDS.filter((f) => got[f] !== want[f]).map((f) => `${f}: ${hex(got[f])} != ${hex(want[f])}`);
}

type Counters<T extends { members: Readonly<Record<string, Member>> }> = Record<keyof T['members'], bigint>;
export type DpStats = Counters<typeof LAYOUT.bvs_dp_stats>;
export type PortStats = Counters<typeof LAYOUT.bvs_port_stats>;

export class ProgHarness {
  readonly tag = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  readonly root = `/sys/fs/bpf/bvs-prog-${this.tag}`;
  readonly ns = `bvsprog${this.tag}`;
  /** The device test runs execute on (host end of the veth); its peer is in `ns`. */
  readonly dev = `bvp${this.tag}`;
  ifindex = 0;
  progFd = -1;
  maps = {} as Record<MapName, number>;
  private ring: UpcallRing | undefined;
  /** Upcalls delivered by the ring and not yet taken by a test, in ring order. */
  private inHand: Upcall[] = [];
  private marks = 0;
  private readonly nCpus = A.numPossibleCpus();
  private readonly atExit = () => this.destroy();

  start(): void {
    process.once('exit', this.atExit);
    try { sh('mountpoint', ['-q', '/sys/fs/bpf']); } catch { sh('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']); }
    fs.mkdirSync(this.root);
    sh('ip', ['netns', 'add', this.ns]);
    sh('ip', ['link', 'add', this.dev, 'type', 'veth', 'peer', 'name', `${this.dev}q`, 'netns', this.ns]);
    sh('sysctl', ['-qw', `net.ipv6.conf.${this.dev}.disable_ipv6=1`]);
    sh('ip', ['link', 'set', this.dev, 'up']);
    sh('ip', ['-n', this.ns, 'link', 'set', `${this.dev}q`, 'up']);
    this.ifindex = A.ifNameToIndex(this.dev);
    if (!this.ifindex) throw new Error(`no ifindex for ${this.dev}`);
    const r = A.load(OBJ, { pinRoot: this.root, program: 'bvs_ingress' });
    this.progFd = r.progFd;
    this.maps = r.maps as Record<MapName, number>;
    this.ring = A.ringOpen(this.maps.upcalls, 256, (recs) => { for (const b of recs) this.inHand.push(decodeUpcall(b)); });
  }

  destroy(): void {
    process.off('exit', this.atExit);
    this.ring?.close();
    this.ring = undefined;
    for (const fd of [this.progFd, ...Object.values(this.maps)]) {
      if (fd >= 0) { try { A.close(fd); } catch { /* closed */ } }
    }
    this.progFd = -1;
    this.maps = {} as Record<MapName, number>;
    fs.rmSync(this.root, { recursive: true, force: true });
    quiet('ip', ['link', 'del', this.dev]);
    quiet('ip', ['netns', 'del', this.ns]);
  }

  /** Pins the program (for a tcx attach from another netns: tests/bpf/tcx-attach.mjs). */
  pinProgram(): string {
    const pin = `${this.root}/prog`;
    if (!fs.existsSync(pin)) A.objPin(this.progFd, pin);
    return pin;
  }

  // ---- map writes, through the codecs -------------------------------------------------------

  setPort(portNo: number, entry: PortEntry): void {
    A.mapUpdate(this.maps.ports, u32(portNo), encodePort(entry), BPF_ANY);
  }

  mapIfindex(ifindex: number, portNo: number): void {
    A.mapUpdate(this.maps.ifindex_port, u32(ifindex), u32(portNo), BPF_ANY);
  }

  unmapIfindex(ifindex: number): void {
    A.mapDelete(this.maps.ifindex_port, u32(ifindex));
  }

  /** Mask slot `slot` in use with `mask`; the kernel walks `nSlots` slots. */
  setMask(slot: number, mask: FlowKey, nSlots = slot + 1): void {
    A.mapUpdate(this.maps.masks, u32(slot), encodeMask({ mask, refcnt: 1, used: true }), BPF_ANY);
    A.mapUpdate(this.maps.config, u32(0), encodeConfig(nSlots), BPF_ANY);
  }

  /** A flow of mask slot `slot`: `key` must already be masked with the slot's mask. */
  putFlow(slot: number, key: FlowKey, actions: DpAction[]): void {
    A.mapUpdate(this.maps.flows, encodeFlowId(slot, key), encodeFlow(actions), BPF_ANY);
  }

  flowStats(slot: number, key: FlowKey): FlowStats | undefined {
    const v = new Uint8Array(LAYOUT.bvs_flow.size);
    return A.mapLookup(this.maps.flows, encodeFlowId(slot, key), v) ? decodeFlow(v).stats : undefined;
  }

  // ---- counters (per-CPU maps, summed) --------------------------------------------------------

  private perCpu<T extends string>(map: MapName, key: number, members: Readonly<Record<T, Member>>, size: number): Record<T, bigint> {
    const buf = new Uint8Array(Math.ceil(size / 8) * 8 * this.nCpus);
    A.mapLookup(this.maps[map], u32(key), buf); // absent: all zero
    return sumPerCpu(buf, this.nCpus, members, size);
  }

  dpStats(): DpStats {
    return this.perCpu('dp_stats', 0, LAYOUT.bvs_dp_stats.members, LAYOUT.bvs_dp_stats.size);
  }

  portStats(portNo: number): PortStats {
    return this.perCpu('port_stats', portNo, LAYOUT.bvs_port_stats.members, LAYOUT.bvs_port_stats.size);
  }

  /** Packets dropped for the reason named `name` (DROP_REASONS). */
  drops(name: string): bigint {
    return this.perCpu('drop_stats', dropCode(name), { n: [0, 8] }, 8).n;
  }

  // ---- runs and upcalls ------------------------------------------------------------------------

  /** BPF_PROG_TEST_RUN of `frame` on `dev`, `repeat` times within one call (so on one CPU: the
   *  mask cache is per CPU). Returns the verdict and the frame the program left. */
  run(frame: Uint8Array, repeat = 1): { ret: number; out: Buffer } {
    const out = Buffer.alloc(frame.length + 64);
    const r = A.progTestRun(this.progFd, frame, { ifindex: this.ifindex, repeat, dataOut: out });
    return { ret: r.retval, out: out.subarray(0, r.dataOutLen) };
  }

  /** Waits for the first upcall in hand that `pred` accepts, and takes it. */
  upcall(what: string, pred: (u: Upcall) => boolean): Promise<Upcall> {
    return waitFor(what, () => {
      const i = this.inHand.findIndex(pred);
      return i >= 0 && this.inHand.splice(i, 1)[0]!;
    });
  }

  /**
   * Runs a marker frame on `dev` (unique bytes, ethertype 0x88b5: a test must give dev's port no
   * flow that matches it, so it misses) and waits for its upcall. Returns, and takes, every
   * upcall that arrived before it: exactly those of the runs since the previous fence.
   */
  async fence(): Promise<Upcall[]> {
    const payload = Buffer.alloc(46);
    payload.write(`bvs-fence ${this.tag} ${this.marks++}`);
    const mark = eth(0x88b5, payload);
    const { ret } = this.run(mark);
    if (ret !== TC_ACT_SHOT) throw new Error(`fence: the marker frame was not a miss (verdict ${ret}); is ${this.dev} a port?`);
    const i = await waitFor('the fence marker upcall', () => {
      const j = this.inHand.findIndex((u) => sameBytes(u.packet, mark));
      return j >= 0 && j;
    });
    return this.inHand.splice(0, i + 1).slice(0, i);
  }
}
