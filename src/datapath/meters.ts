/**
 * Datapath meters: the "meters" map (struct bvs_meter, bpf/include/bvs_abi.h), written and read
 * by datapath meter id. The algorithm runs in the kernel (bpf/lib/meter.h); this module turns a
 * meter's configuration into the bucket numbers it runs on, and reads the counters back.
 *
 * Invariants:
 *   - a write is one BPF_F_LOCK update of the whole value: a packet sees the old meter or the
 *     new one, never a mix, and a write that fails leaves the old meter as it was;
 *   - a written meter starts with full buckets and zero counters (OVS's dpif meters do the
 *     same on a modify);
 *   - deleting writes an empty entry (n_bands 0): the map is an array, its entries never go.
 * Reads are plain lookups, without the lock: a meter's counters are each exact, but one may
 * be a packet ahead of another.
 */
import { ABI, LAYOUT, METER_BAND_TYPE } from './abi.ts';
import { CodecError, u32, view } from './codec.ts';
import type { MapIO } from './mapio.ts';

export interface DpMeterBand {
  type: 'drop' | 'dscp_remark';
  /** kbit/s, or packets/s when the meter counts packets; at least 1. */
  rate: number;
  /** The bucket in kbit, or packets; at least 1. */
  burst: number;
  /** dscp_remark: drop precedence levels to add. */
  precLevel?: number;
}

export interface DpMeterConfig {
  /** Rates and bursts count packets (OFPMF_PKTPS), else kilobits. */
  pktps: boolean;
  bands: DpMeterBand[];
}

export interface DpMeterStats {
  packets: bigint;
  bytes: bigint;
  bands: { packets: bigint; bytes: bigint }[];
}

const M = LAYOUT.bvs_meter.members;
const B = LAYOUT.bvs_meter_band.members;
const BAND = LAYOUT.bvs_meter_band.size;
/** Tokens per kbit or per packet: the datapath credits `rate` tokens per nanosecond. */
const SCALE = 1_000_000_000n;
const BYTE_COST = 8_000_000n;   // 8 bits = 8e6 micro-bits
const U32_MAX = 0xffffffff;

/** The map value of a meter. `nowNs`: CLOCK_MONOTONIC now, the buckets' start time. */
export function encodeMeter(c: DpMeterConfig, nowNs: bigint): Uint8Array {
  if (c.bands.length < 1 || c.bands.length > ABI.METER_MAX_BANDS) {
    throw new CodecError(`a meter has 1 to ${ABI.METER_MAX_BANDS} bands, not ${c.bands.length}`);
  }
  const b = new Uint8Array(LAYOUT.bvs_meter.size);
  const dv = view(b);
  dv.setUint32(M.n_bands[0], c.bands.length, true);
  dv.setBigUint64(M.last_ns[0], nowNs, true);
  dv.setBigUint64(M.byte_cost[0], c.pktps ? 0n : BYTE_COST, true);
  dv.setBigUint64(M.packet_cost[0], c.pktps ? SCALE : 0n, true);
  c.bands.forEach((band, i) => {
    for (const [what, v] of [['rate', band.rate], ['burst', band.burst]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > U32_MAX) throw new CodecError(`band ${i + 1}: ${what} ${v} is not in 1..${U32_MAX}`);
    }
    const at = M.bands[0] + i * BAND;
    const rate = BigInt(band.rate), capacity = BigInt(band.burst) * SCALE;
    dv.setUint32(at + B.type[0], band.type === 'drop' ? METER_BAND_TYPE.DROP : METER_BAND_TYPE.DSCP_REMARK, true);
    dv.setUint8(at + B.prec_level[0], band.precLevel ?? 0);
    dv.setBigUint64(at + B.rate[0], rate, true);
    dv.setBigUint64(at + B.capacity[0], capacity, true);
    dv.setBigUint64(at + B.max_delta_ns[0], (capacity + rate - 1n) / rate, true);
    dv.setBigUint64(at + B.tokens[0], capacity, true);
  });
  return b;
}

export function decodeMeterStats(b: Uint8Array): DpMeterStats {
  const dv = view(b);
  const n = Math.min(dv.getUint32(M.n_bands[0], true), ABI.METER_MAX_BANDS);
  const bands: DpMeterStats['bands'] = [];
  for (let i = 0; i < n; i++) {
    const at = M.bands[0] + i * BAND;
    bands.push({ packets: dv.getBigUint64(at + B.packets[0], true), bytes: dv.getBigUint64(at + B.bytes[0], true) });
  }
  return { packets: dv.getBigUint64(M.packets[0], true), bytes: dv.getBigUint64(M.bytes[0], true), bands };
}

export class MeterMap {
  constructor(private readonly io: Pick<MapIO, 'mapLookup' | 'mapUpdate'>, private readonly fd: number,
    private readonly now: () => bigint) {}

  private check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= ABI.MAX_METERS) throw new CodecError(`datapath meter id ${id} is not in 0..${ABI.MAX_METERS - 1}`);
  }

  /** Writes meter `id` (replacing what was there). Throws CodecError for a config the map
   *  cannot hold, or the addon's error; either way the old meter stays. */
  set(id: number, c: DpMeterConfig): void {
    this.check(id);
    this.io.mapUpdate(this.fd, u32(id), encodeMeter(c, this.now()), ABI.BPF_F_LOCK);
  }

  /** Empties meter `id`: packets pass it from now on. */
  delete(id: number): void {
    this.check(id);
    this.io.mapUpdate(this.fd, u32(id), new Uint8Array(LAYOUT.bvs_meter.size), ABI.BPF_F_LOCK);
  }

  /** The counters of meter `id` (an empty meter has no bands and zero counts). */
  stats(id: number): DpMeterStats {
    this.check(id);
    const b = new Uint8Array(LAYOUT.bvs_meter.size);
    if (!this.io.mapLookup(this.fd, u32(id), b)) throw new CodecError(`no meter entry ${id}`);
    return decodeMeterStats(b);
  }
}
