/**
 * Meters over the OpenFlow channel (OVS ofproto.c handle_meter_mod / handle_meter_request /
 * handle_meter_features_request): meter-mod on the bridge's meter table (src/ofproto/meters.ts)
 * with the datapath's meters map behind it, and the meter stats, config and features replies.
 * Counters come from the datapath (packets and bytes in, and per band); flow_count and the
 * duration from ofproto.
 *
 * Order of a change, so that nothing is half-applied:
 *   add/modify: check the whole meter -> write the datapath meter -> record it in the table
 *               (a failed write leaves the table and the old datapath meter as they were);
 *   delete:     delete the flows that use the meter (OVS does; their megaflows go with the
 *               revalidation the barrier waits for) -> empty the datapath meter -> forget it.
 * A datapath without meters (a test's fake) advertises max_meter 0, and an add or modify is
 * then OFPMMFC_INVALID_METER, as OVS answers for a provider without meters.
 */
import type { DpMeterConfig, DpMeterStats } from '../datapath/index.ts';
import {
  MeterError, METER_FLAGS, OFPM_ALL, checkMeterRefs, rulesUsing, type DatapathMeter, type Meter,
} from '../ofproto/index.ts';
import { OfpError, type FlowModMsg, type MeterConfig, type MeterFeatures, type MeterMod, type MeterStats } from '../openflow/index.ts';
import type { Applied, BridgeRuntime } from '../vswitch/index.ts';

/** The datapath's meter operations (src/datapath Datapath has them). */
export interface MeterDatapath {
  maxMeters(): number;
  setMeter(id: number, config: DpMeterConfig): void;
  delMeter(id: number): void;
  meterStats(id: number): DpMeterStats;
}

export type MeterRuntime = Pick<BridgeRuntime, 'ofproto' | 'applyFlowMod'> & { datapath: Partial<MeterDatapath> };

const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** OFPMBT_DROP and OFPMBT_DSCP_REMARK, as the bit map of meter features. */
const BAND_TYPES = (1 << 1) | (1 << 2);
const CAPABILITIES = METER_FLAGS.kbps | METER_FLAGS.pktps | METER_FLAGS.burst | METER_FLAGS.stats;

function datapathOf(rt: MeterRuntime): MeterDatapath | undefined {
  const d = rt.datapath;
  return d.setMeter && d.delMeter && d.meterStats && d.maxMeters ? (d as MeterDatapath) : undefined;
}

/** MeterError -> the OFPMMFC_* error of the same name. */
function asOfp<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MeterError) throw new OfpError(`OFPMMFC_${err.code}`, err.message, { cause: err });
    throw err;
  }
}

const toDp = (m: DatapathMeter): DpMeterConfig => ({ pktps: m.pktps, bands: m.bands });

/** OFPT_METER_MOD. The returned promise settles when the datapath no longer runs deleted flows. */
export function meterMod(rt: MeterRuntime, m: MeterMod): Applied {
  const table = rt.ofproto.meters;
  const spec = { id: m.meterId, flags: m.flags, bands: m.bands.map((b) => ({ type: b.type, rate: b.rate, burstSize: b.burstSize, precLevel: b.type === 2 ? b.arg & 0xff : 0 })) };
  const dp = datapathOf(rt);
  switch (m.command) {
    case OFPMC.ADD: case OFPMC.MODIFY: {
      if (!dp || dp.maxMeters() === 0) throw new OfpError('OFPMMFC_INVALID_METER', 'this datapath has no meters');
      const write = (dpId: number, c: DatapathMeter): void => dp.setMeter(dpId, toDp(c));
      asOfp(() => (m.command === OFPMC.ADD ? table.add(spec, write) : table.modify(spec, write)));
      return { count: 1, revalidated: Promise.resolve() };
    }
    case OFPMC.DELETE: {
      // OpenFlow has no meter 0: deleting it deletes nothing (as OVS).
      if (m.meterId === 0) return { count: 0, revalidated: Promise.resolve() };
      let revalidated: Promise<void> = Promise.resolve();
      for (const r of rulesUsing(rt.ofproto.pipeline, m.meterId)) {
        const done = rt.applyFlowMod('delete', {
          table: r.table, priority: r.priority, cookie: 0n, cookieMask: 0n, match: r.match, actions: [], hasActions: false,
          idleTimeout: 0, hardTimeout: 0, sendFlowRem: false, outPort: undefined,
        }, true);
        if (done.count > 0) revalidated = done.revalidated;
      }
      const gone = table.delete(m.meterId, (dpId) => dp?.delMeter(dpId));
      return { count: gone.length, revalidated };
    }
    default:
      throw new OfpError('OFPMMFC_BAD_COMMAND', `meter-mod command ${m.command}`);
  }
}

/** A flow-mod's actions may name only meters that exist (OVS: OFPMMFC_INVALID_METER). */
export function checkFlowMeters(rt: Pick<MeterRuntime, 'ofproto'>, m: FlowModMsg): void {
  if (m.command === 'add' || m.command === 'modify' || m.command === 'modify_strict') asOfp(() => checkMeterRefs(rt.ofproto.meters, m.actions));
}

/** The meters a stats/config request selects: one id, or OFPM_ALL; an unknown id is an error. */
function selected(rt: MeterRuntime, id: number): Meter[] {
  if (id === OFPM_ALL) return rt.ofproto.meters.all();
  const m = rt.ofproto.meters.get(id);
  if (!m) throw new OfpError('OFPMMFC_UNKNOWN_METER', `no meter ${id}`);
  return [m];
}

export function meterStats(rt: MeterRuntime, id: number): MeterStats[] {
  const dp = datapathOf(rt);
  const now = rt.ofproto.now();
  const rules = rulesUsing(rt.ofproto.pipeline, OFPM_ALL);
  return selected(rt, id).map((m) => {
    const st = dp?.meterStats(m.dpId);
    const age = Math.max(0, now - m.created);
    return {
      meterId: m.id,
      flowCount: rules.filter((r) => r.actions.some((a) => a.type === 'meter' && a.id === m.id)).length,
      packetInCount: st?.packets ?? 0n, byteInCount: st?.bytes ?? 0n,
      durationSec: Math.floor(age / 1000), durationNsec: (age % 1000) * 1_000_000,
      bands: m.bands.map((_, i) => ({ packetCount: st?.bands[i]?.packets ?? 0n, byteCount: st?.bands[i]?.bytes ?? 0n })),
    };
  });
}

export function meterConfigs(rt: MeterRuntime, id: number): MeterConfig[] {
  return selected(rt, id).map((m) => ({
    meterId: m.id, flags: m.flags, bands: m.bands.map((b) => ({ type: b.type, rate: b.rate, burstSize: b.burstSize, arg: b.precLevel })),
  }));
}

export function meterFeatures(rt: MeterRuntime): MeterFeatures {
  const dp = datapathOf(rt);
  const max = dp ? Math.min(dp.maxMeters(), rt.ofproto.meters.capacity) : 0;
  return {
    maxMeter: max, bandTypes: max ? BAND_TYPES : 0, capabilities: max ? CAPABILITIES : 0,
    maxBands: max ? rt.ofproto.meters.maxBands : 0, maxColor: 0,
  };
}
