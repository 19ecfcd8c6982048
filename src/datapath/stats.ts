/**
 * Datapath-wide counters: dp_stats (hits, misses, lost upcalls, mask probes) and drop_stats (by
 * drop reason), both per-CPU maps summed here. Port counters are ports.ts's; flow and mask
 * counts come from flows.ts and masks.ts (the facade adds them to DpStats).
 */
import { ABI, DROP_REASONS, LAYOUT } from './abi.ts';
import { sumPerCpu, u32 } from './codec.ts';
import type { MapIO } from './mapio.ts';

export interface DpStats {
  hit: bigint;
  missed: bigint;
  lost: bigint;
  maskHit: bigint;
  maskCacheHit: bigint;
  flows: number;
  masks: number;
}

/** Bytes of a per-CPU map value: each CPU's copy is padded to 8 bytes. */
export function perCpuSize(valueSize: number, nCpus: number): number {
  return Math.ceil(valueSize / 8) * 8 * nCpus;
}

/** The dp_stats counters, summed over the CPUs (zeros when the entry cannot be read). */
export function readDpStats(io: MapIO, fd: number, nCpus: number): Omit<DpStats, 'flows' | 'masks'> {
  const buf = new Uint8Array(perCpuSize(LAYOUT.bvs_dp_stats.size, nCpus));
  io.mapLookup(fd, u32(0), buf);
  const s = sumPerCpu(buf, nCpus, LAYOUT.bvs_dp_stats.members, LAYOUT.bvs_dp_stats.size);
  return { hit: s.hit, missed: s.missed, lost: s.lost, maskHit: s.mask_hit, maskCacheHit: s.mask_cache_hit };
}

/** Drop counters by reason name (reasons with no entry are left out). */
export function readDropStats(io: MapIO, fd: number, nCpus: number): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  const buf = new Uint8Array(perCpuSize(8, nCpus));
  for (let i = 1; i < ABI.DROP_MAX; i++) {
    if (!io.mapLookup(fd, u32(i), buf)) continue;
    let t = 0n;
    const dv = new DataView(buf.buffer);
    for (let c = 0; c < nCpus; c++) t += dv.getBigUint64(c * 8, true);
    out[DROP_REASONS[i] ?? `reason_${i}`] = t;
  }
  return out;
}
