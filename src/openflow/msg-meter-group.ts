/**
 * Bodies of the meter messages (meter-mod, meter config/stats/features; OpenFlow 1.3 §7.3.4.4,
 * §7.3.5.12-14) and of the group messages that carry no actions (group stats and features;
 * §7.3.5.9, §7.3.5.11). Group desc and group-mod carry buckets of actions: msg-group.ts.
 *
 * Meter bands: type u16, len u16, rate u32, burst_size u32, then 4 bytes by type (drop: pad;
 * dscp_remark: prec_level u8, pad 3; experimenter: experimenter id u32).
 */
import { Reader, Writer } from './bytes.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP15 } from './version.ts';

export interface MeterBand { type: number; rate: number; burstSize: number; /** prec_level or experimenter id */ arg: number }
export interface MeterMod { command: number; flags: number; meterId: number; bands: MeterBand[] }
export interface MeterConfig { flags: number; meterId: number; bands: MeterBand[] }
export interface MeterStats {
  meterId: number; flowCount: number; packetInCount: bigint; byteInCount: bigint;
  durationSec: number; durationNsec: number; bands: { packetCount: bigint; byteCount: bigint }[];
}
/** The 1.3 layout (16 bytes) in every version: OVS reads no other (1.5's features word is not sent). */
export interface MeterFeatures { maxMeter: number; bandTypes: number; capabilities: number; maxBands: number; maxColor: number }
export interface GroupStats {
  groupId: number; refCount: number; packetCount: bigint; byteCount: bigint;
  durationSec: number; durationNsec: number; buckets: { packetCount: bigint; byteCount: bigint }[];
}
export interface GroupFeatures { types: number; capabilities: number; maxGroups: number[]; actions: number[] }

const OFPMBT_DSCP_REMARK = 2;
const BAND_LEN = 16;

function readBands(r: Reader): MeterBand[] {
  const bands: MeterBand[] = [];
  while (r.remaining > 0) {
    const type = r.u16(), len = r.u16();
    if (len !== BAND_LEN) throw new OfpError('OFPMMFC_BAD_BAND', `meter band of length ${len}`);
    const rate = r.u32(), burstSize = r.u32();
    let arg: number;
    if (type === OFPMBT_DSCP_REMARK) { arg = r.u8(); r.skip(3); } else arg = r.u32();
    bands.push({ type, rate, burstSize, arg });
  }
  return bands;
}
function writeBands(w: Writer, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    w.u16(b.type).u16(BAND_LEN).u32(b.rate).u32(b.burstSize);
    if (b.type === OFPMBT_DSCP_REMARK) w.u8(b.arg).pad(3); else w.u32(b.arg);
  }
}

export function decodeMeterMod(_v: number, body: Uint8Array): MeterMod {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'meter mod');
  const command = r.u16(), flags = r.u16(), meterId = r.u32();
  return { command, flags, meterId, bands: readBands(r) };
}
export function encodeMeterMod(_v: number, m: MeterMod): Uint8Array {
  const w = new Writer().u16(m.command).u16(m.flags).u32(m.meterId);
  writeBands(w, m.bands);
  return w.finish();
}

/** Meter stats/config and group stats requests: an id (u32), pad 4. Group desc: none in 1.1-1.4
 *  (1.0's NXST_GROUP_DESC has the 1.5 body). */
export interface IdRequest { id: number }
export function decodeIdRequest(what: string, noBodyBefore15 = false) {
  return (v: number, body: Uint8Array): IdRequest => {
    const r = new Reader(body, 'OFPBRC_BAD_LEN', what);
    if (noBodyBefore15 && v > OFP10 && v < OFP15) { r.end(); return { id: 0xfffffffc }; } // OFPG_ALL
    const id = r.u32(); r.skip(4); r.end();
    return { id };
  };
}
export function encodeIdRequest(noBodyBefore15 = false) {
  return (v: number, m: IdRequest): Uint8Array =>
    noBodyBefore15 && v > OFP10 && v < OFP15 ? new Uint8Array(0) : new Writer().u32(m.id).pad(4).finish();
}

/** An array of entries, each led by its own u16 length at `lenAt`: split for decoding. */
function entries(r: Reader, lenAt: number, min: number, what: string): Reader[] {
  const out: Reader[] = [];
  while (r.remaining > 0) {
    r.need(lenAt + 2);
    const len = (r.b[r.off + lenAt]! << 8) | r.b[r.off + lenAt + 1]!;
    if (len < min) throw new OfpError('OFPBRC_BAD_LEN', `${what} entry of length ${len}`);
    out.push(r.sub(len, what));
  }
  return out;
}

export function decodeMeterConfigs(_v: number, body: Uint8Array): { meters: MeterConfig[] } {
  const meters = entries(new Reader(body, 'OFPBRC_BAD_LEN', 'meter config'), 0, 8, 'meter config').map((e) => {
    e.skip(2);
    const flags = e.u16(), meterId = e.u32();
    return { flags, meterId, bands: readBands(e) };
  });
  return { meters };
}
export function encodeMeterConfigEntries(_v: number, m: { meters: readonly MeterConfig[] }): Uint8Array[] {
  return m.meters.map((c) => {
    const w = new Writer().u16(8 + BAND_LEN * c.bands.length).u16(c.flags).u32(c.meterId);
    writeBands(w, c.bands);
    return w.finish();
  });
}

const METER_STATS_LEN = 40;
export function decodeMeterStats(_v: number, body: Uint8Array): { meters: MeterStats[] } {
  const meters = entries(new Reader(body, 'OFPBRC_BAD_LEN', 'meter stats'), 4, METER_STATS_LEN, 'meter stats').map((e) => {
    const meterId = e.u32(); e.skip(8);
    const s = { meterId, flowCount: e.u32(), packetInCount: e.u64(), byteInCount: e.u64(), durationSec: e.u32(), durationNsec: e.u32() };
    const bands: MeterStats['bands'] = [];
    while (e.remaining > 0) bands.push({ packetCount: e.u64(), byteCount: e.u64() });
    return { ...s, bands };
  });
  return { meters };
}
export function encodeMeterStatsEntries(_v: number, m: { meters: readonly MeterStats[] }): Uint8Array[] {
  return m.meters.map((s) => {
    const w = new Writer().u32(s.meterId).u16(METER_STATS_LEN + 16 * s.bands.length).pad(6).u32(s.flowCount)
      .u64(s.packetInCount).u64(s.byteInCount).u32(s.durationSec).u32(s.durationNsec);
    for (const b of s.bands) w.u64(b.packetCount).u64(b.byteCount);
    return w.finish();
  });
}

export function decodeMeterFeatures(_v: number, body: Uint8Array): MeterFeatures {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'meter features');
  const f = { maxMeter: r.u32(), bandTypes: r.u32(), capabilities: r.u32(), maxBands: r.u8(), maxColor: r.u8() };
  r.skip(2); r.end();
  return f;
}
export const encodeMeterFeatures = (_v: number, f: MeterFeatures): Uint8Array =>
  new Writer().u32(f.maxMeter).u32(f.bandTypes).u32(f.capabilities).u8(f.maxBands).u8(f.maxColor).pad(2).finish();

const GROUP_STATS_LEN = 40;
export function decodeGroupStats(_v: number, body: Uint8Array): { groups: GroupStats[] } {
  const groups = entries(new Reader(body, 'OFPBRC_BAD_LEN', 'group stats'), 0, GROUP_STATS_LEN, 'group stats').map((e) => {
    e.skip(4);
    const groupId = e.u32(), refCount = e.u32(); e.skip(4);
    const s = { groupId, refCount, packetCount: e.u64(), byteCount: e.u64(), durationSec: e.u32(), durationNsec: e.u32() };
    const buckets: GroupStats['buckets'] = [];
    while (e.remaining > 0) buckets.push({ packetCount: e.u64(), byteCount: e.u64() });
    return { ...s, buckets };
  });
  return { groups };
}
export function encodeGroupStatsEntries(_v: number, m: { groups: readonly GroupStats[] }): Uint8Array[] {
  return m.groups.map((g) => {
    const w = new Writer().u16(GROUP_STATS_LEN + 16 * g.buckets.length).pad(2).u32(g.groupId).u32(g.refCount).pad(4)
      .u64(g.packetCount).u64(g.byteCount).u32(g.durationSec).u32(g.durationNsec);
    for (const b of g.buckets) w.u64(b.packetCount).u64(b.byteCount);
    return w.finish();
  });
}

/** Group features: types, capabilities, max_groups[4], actions[4] (one per group type). */
export function decodeGroupFeatures(_v: number, body: Uint8Array): GroupFeatures {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'group features');
  const f = { types: r.u32(), capabilities: r.u32(), maxGroups: [r.u32(), r.u32(), r.u32(), r.u32()], actions: [r.u32(), r.u32(), r.u32(), r.u32()] };
  r.end();
  return f;
}
export function encodeGroupFeatures(_v: number, f: GroupFeatures): Uint8Array {
  const w = new Writer().u32(f.types).u32(f.capabilities);
  for (let i = 0; i < 4; i++) w.u32(f.maxGroups[i] ?? 0);
  for (let i = 0; i < 4; i++) w.u32(f.actions[i] ?? 0);
  return w.finish();
}
