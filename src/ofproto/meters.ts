/**
 * The meter table of a bridge (OVS ofproto.c's meters): OpenFlow meters by meter id, each bound
 * to a datapath meter id where the datapath runs its token buckets (src/datapath/meters.ts,
 * bpf/lib/meter.h). xlate turns the action `meter:N` into the datapath action meter(dpId).
 *
 * Invariants:
 *   - every meter holds a distinct datapath id in 0..capacity-1, taken at add (the lowest free)
 *     and given back at delete; modify keeps it, so megaflows that name it stay right;
 *   - a change is checked whole (check()) before anything moves, and the datapath write
 *     (`write`, the caller's) happens before the table changes: when it throws, the table and
 *     the datapath keep the old meter ("nothing half-applied");
 *   - deleting a meter deletes the flows that use it (OVS does; the caller does it, with
 *     rulesUsing(), so it can revalidate), and frees its datapath id only after.
 * Errors are MeterErrors named after OpenFlow's OFPMMFC_* codes (OpenFlow 1.3 §7.4.4.11).
 *
 * Semantics kept from OVS / the spec: meter id 0 and ids above OFPM_MAX are invalid (the
 * special slowpath and controller meters are refused: bvs does not meter those paths); KBPS and
 * PKTPS together are BAD_FLAGS, neither means kbit/s; without the BURST flag a band's bucket is
 * its rate (OVS's default, one second's worth), with it burst_size must be non-zero.
 */
import type { OfAction } from './actions.ts';
import type { Pipeline, Rule } from './table.ts';

/** OpenFlow 1.3 ofp_meter_flags. */
export const METER_FLAGS = { kbps: 0x1, pktps: 0x2, burst: 0x4, stats: 0x8 } as const;
/** OpenFlow 1.3 ofp_meter_band_type, the ones bvs runs. */
export const METER_BAND = { drop: 1, dscp_remark: 2 } as const;
/** OFPM_MAX, the last ordinary meter id; OFPM_ALL selects every meter. */
export const OFPM_MAX = 0xffff0000;
export const OFPM_ALL = 0xffffffff;

export type MeterErrorCode =
  | 'METER_EXISTS' | 'INVALID_METER' | 'UNKNOWN_METER' | 'BAD_FLAGS' | 'BAD_RATE' | 'BAD_BURST'
  | 'BAD_BAND' | 'OUT_OF_METERS' | 'OUT_OF_BANDS';

export class MeterError extends Error {
  override name = 'MeterError';
  constructor(readonly code: MeterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A band as OpenFlow carries it: type number, rate, burst_size, prec_level (dscp_remark). */
export interface MeterBandSpec { type: number; rate: number; burstSize: number; precLevel: number }
export interface MeterSpec { id: number; flags: number; bands: MeterBandSpec[] }

export interface Meter extends MeterSpec {
  /** The datapath meter id. */
  readonly dpId: number;
  /** When it was added (the bridge clock, ms): meter stats' duration. */
  readonly created: number;
}

/** What the datapath runs for a meter (src/datapath DpMeterConfig). */
export interface DatapathMeter {
  pktps: boolean;
  bands: { type: 'drop' | 'dscp_remark'; rate: number; burst: number; precLevel: number }[];
}

export class MeterTable {
  private readonly meters = new Map<number, Meter>();
  private readonly usedDp = new Set<number>();

  /** `capacity`: datapath meters (ids 0..capacity-1); `maxBands`: bands per meter. */
  constructor(readonly capacity = 1024, readonly maxBands = 4, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.meters.size;
  }

  get(id: number): Meter | undefined {
    return this.meters.get(id);
  }

  /** Every meter, by meter id. */
  all(): Meter[] {
    return [...this.meters.values()].sort((a, b) => a.id - b.id);
  }

  /** Checks a meter for add/modify; throws MeterError. */
  check(m: MeterSpec): void {
    if (!Number.isInteger(m.id) || m.id < 1 || m.id > OFPM_MAX) {
      throw new MeterError('INVALID_METER', `meter id ${m.id} is not in 1..${OFPM_MAX} (bvs meters neither the slow path nor packet-ins)`);
    }
    if (m.flags & ~0xf) throw new MeterError('BAD_FLAGS', `unknown meter flags 0x${(m.flags & ~0xf).toString(16)}`);
    if ((m.flags & METER_FLAGS.kbps) && (m.flags & METER_FLAGS.pktps)) throw new MeterError('BAD_FLAGS', 'kbps and pktps together');
    if (m.bands.length === 0) throw new MeterError('BAD_BAND', `meter ${m.id} has no band`);
    if (m.bands.length > this.maxBands) throw new MeterError('OUT_OF_BANDS', `meter ${m.id} has ${m.bands.length} bands, bvs runs at most ${this.maxBands}`);
    m.bands.forEach((b, i) => {
      if (b.type !== METER_BAND.drop && b.type !== METER_BAND.dscp_remark) {
        throw new MeterError('BAD_BAND', `band ${i + 1}: type ${b.type} (bvs runs drop and dscp_remark)`);
      }
      if (!(b.rate >= 1)) throw new MeterError('BAD_RATE', `band ${i + 1}: rate ${b.rate}`);
      if ((m.flags & METER_FLAGS.burst) && !(b.burstSize >= 1)) throw new MeterError('BAD_BURST', `band ${i + 1}: burst_size ${b.burstSize} with the burst flag`);
    });
  }

  /** The datapath's view of a meter: units and the bucket of each band. */
  static datapathMeter(m: MeterSpec): DatapathMeter {
    const burst = (m.flags & METER_FLAGS.burst) !== 0;
    return {
      pktps: (m.flags & METER_FLAGS.pktps) !== 0,
      bands: m.bands.map((b) => ({
        type: b.type === METER_BAND.drop ? 'drop' : 'dscp_remark', rate: b.rate,
        burst: burst ? b.burstSize : b.rate, precLevel: b.type === METER_BAND.dscp_remark ? b.precLevel : 0,
      })),
    };
  }

  /** OFPMC_ADD. `write(dpId, meter)` programs the datapath; if it throws, nothing changed. */
  add(m: MeterSpec, write: (dpId: number, dp: DatapathMeter) => void): Meter {
    if (this.meters.has(m.id)) throw new MeterError('METER_EXISTS', `meter ${m.id} exists`);
    this.check(m);
    const dpId = this.freeDpId();
    write(dpId, MeterTable.datapathMeter(m));
    const meter: Meter = { id: m.id, flags: m.flags, bands: m.bands.map((b) => ({ ...b })), dpId, created: this.now() };
    this.meters.set(m.id, meter);
    this.usedDp.add(dpId);
    return meter;
  }

  /** OFPMC_MODIFY: same datapath id, new bands and flags; counters start over (as OVS's). */
  modify(m: MeterSpec, write: (dpId: number, dp: DatapathMeter) => void): Meter {
    const old = this.meters.get(m.id);
    if (!old) throw new MeterError('UNKNOWN_METER', `no meter ${m.id}`);
    this.check(m);
    write(old.dpId, MeterTable.datapathMeter(m));
    const meter: Meter = { id: m.id, flags: m.flags, bands: m.bands.map((b) => ({ ...b })), dpId: old.dpId, created: old.created };
    this.meters.set(m.id, meter);
    return meter;
  }

  /**
   * OFPMC_DELETE of `id` (OFPM_ALL: every meter); an unknown id deletes nothing, as OVS. The
   * caller has deleted the flows that use them (rulesUsing). `clear(dpId)` empties the
   * datapath meter; the id is freed even if it throws (the entry is then unused either way).
   */
  delete(id: number, clear: (dpId: number) => void): Meter[] {
    const gone = id === OFPM_ALL ? this.all() : [this.meters.get(id)].filter((m) => m !== undefined);
    for (const m of gone) {
      this.meters.delete(m.id);
      try { clear(m.dpId); } finally { this.usedDp.delete(m.dpId); }
    }
    return gone;
  }

  private freeDpId(): number {
    for (let i = 0; i < this.capacity; i++) if (!this.usedDp.has(i)) return i;
    throw new MeterError('OUT_OF_METERS', `all ${this.capacity} datapath meters are in use`);
  }
}

/** The meter ids a flow's actions use (OVS: the leading meter instruction; 1.5 may have more). */
export function metersOf(actions: readonly OfAction[]): number[] {
  const out: number[] = [];
  for (const a of actions) if (a.type === 'meter') out.push(a.id);
  return out;
}

/** Rules whose actions use meter `id` (OFPM_ALL: any meter). */
export function rulesUsing(pipeline: Pipeline, id: number): Rule[] {
  return pipeline.allRules().filter((r) => metersOf(r.actions).some((m) => id === OFPM_ALL || m === id));
}

/** Refuses actions that name a meter the table does not have (OVS: OFPMMFC_INVALID_METER). */
export function checkMeterRefs(table: MeterTable, actions: readonly OfAction[]): void {
  for (const id of metersOf(actions)) {
    if (id < 1 || id > OFPM_MAX) throw new MeterError('INVALID_METER', `meter:${id} is not a valid meter id`);
    if (!table.get(id)) throw new MeterError('INVALID_METER', `meter:${id}: no such meter`);
  }
}
