/**
 * Port structures and the messages built on them: port-status, port-mod, port desc (features
 * reply in 1.0, OFPMP_PORT_DESC in 1.3+, stat 13 as OVS's extension in 1.0), port stats.
 *
 * Three layouts of a port: 1.0 ofp_phy_port (48 bytes, 16-bit port numbers, no speeds); 1.3
 * ofp_port (64 bytes); 1.4/1.5 ofp_port (40 bytes + properties: the Ethernet property carries
 * the feature bits and speeds). Port numbers are held in the 32-bit 1.1+ numbering; 1.0's
 * reserved ports 0xff00-0xffff map to 0xffffff00-0xffffffff (OpenFlow 1.3 §7.2.1, as OVS's
 * ofputil_port_from_ofp11 does).
 */
import { readProps, Reader, Writer, writeProp } from './bytes.ts';
import { OfpError } from './errors.ts';
import { OFP10, OFP13, OFP14, OFP15 } from './version.ts';

export interface OfpPort {
  portNo: number;
  /** 48-bit MAC as a number. */
  hwAddr: number;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  /** kbps; 0 in 1.0, which has no speed fields. */
  currSpeed: number;
  maxSpeed: number;
}

export const OFPP_ANY = 0xffffffff;
export const OFPP_MAX = 0xffffff00;

/** A 1.0 port number in the 1.1+ numbering. */
export const portFrom10 = (p: number): number => (p >= 0xff00 ? p + 0xffff0000 : p);
/** A 1.1+ port number in 1.0's 16 bits; numbers 1.0 cannot express are OFPBRC_BAD_PORT. */
export function portTo10(p: number): number {
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p >= 0xff00) throw new OfpError('OFPBRC_BAD_PORT', `port ${p} has no OpenFlow 1.0 number`);
  return p;
}

const ETH_PROP = 0;
const PORT14_LEN = 40;
const ETH_PROP_LEN = 32;

export function readPort(v: number, r: Reader): OfpPort {
  if (v === OFP10) {
    const portNo = portFrom10(r.u16()), hwAddr = r.mac(), name = r.str(16);
    const [config, state, curr, advertised, supported, peer] = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
    return { portNo, hwAddr, name, config, state, curr, advertised, supported, peer, currSpeed: 0, maxSpeed: 0 };
  }
  if (v === OFP13) {
    const portNo = r.u32(); r.skip(4);
    const hwAddr = r.mac(); r.skip(2);
    const name = r.str(16);
    const [config, state, curr, advertised, supported, peer, currSpeed, maxSpeed] =
      [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
    return { portNo, hwAddr, name, config, state, curr, advertised, supported, peer, currSpeed, maxSpeed };
  }
  const portNo = r.u32(), len = r.u16();
  if (len < PORT14_LEN) throw new OfpError('OFPBRC_BAD_LEN', `port of length ${len}`);
  r.skip(2);
  const hwAddr = r.mac(); r.skip(2);
  const name = r.str(16), config = r.u32(), state = r.u32();
  const p: OfpPort = { portNo, hwAddr, name, config, state, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 };
  // Unknown properties (optical, experimenter) are skipped, as OVS does when decoding ports.
  for (const prop of readProps(r.sub(len - PORT14_LEN, 'port'), 'port')) {
    if (prop.type !== ETH_PROP) continue;
    prop.r.skip(4);
    [p.curr, p.advertised, p.supported, p.peer, p.currSpeed, p.maxSpeed] =
      [prop.r.u32(), prop.r.u32(), prop.r.u32(), prop.r.u32(), prop.r.u32(), prop.r.u32()];
  }
  return p;
}

export function writePort(v: number, w: Writer, p: OfpPort): void {
  if (v === OFP10) {
    w.u16(portTo10(p.portNo)).mac(p.hwAddr).str(p.name, 16);
    for (const x of [p.config, p.state, p.curr, p.advertised, p.supported, p.peer]) w.u32(x);
  } else if (v === OFP13) {
    w.u32(p.portNo).pad(4).mac(p.hwAddr).pad(2).str(p.name, 16);
    for (const x of [p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.currSpeed, p.maxSpeed]) w.u32(x);
  } else {
    w.u32(p.portNo).u16(PORT14_LEN + ETH_PROP_LEN).pad(2).mac(p.hwAddr).pad(2).str(p.name, 16).u32(p.config).u32(p.state);
    writeProp(w, ETH_PROP, (b) => {
      b.pad(4);
      for (const x of [p.curr, p.advertised, p.supported, p.peer, p.currSpeed, p.maxSpeed]) b.u32(x);
    });
  }
}

/** Ports packed one after another (features reply 1.0, port desc reply) until the body ends. */
export function readPorts(v: number, r: Reader): OfpPort[] {
  const out: OfpPort[] = [];
  while (r.remaining > 0) out.push(readPort(v, r));
  return out;
}

export function encodePort(v: number, p: OfpPort): Uint8Array {
  const w = new Writer(); writePort(v, w, p); return w.finish();
}

// ---- port-status (OFPT_PORT_STATUS): reason u8, pad 7, port.

export interface PortStatus { reason: number; port: OfpPort }
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

export function decodePortStatus(v: number, body: Uint8Array): PortStatus {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'port status');
  const reason = r.u8(); r.skip(7);
  const port = readPort(v, r); r.end();
  return { reason, port };
}
export function encodePortStatus(v: number, m: PortStatus): Uint8Array {
  const w = new Writer().u8(m.reason).pad(7); writePort(v, w, m.port); return w.finish();
}

// ---- port-mod (OFPT_PORT_MOD): which port, its MAC (a check), config under mask, advertise.

export interface PortMod { portNo: number; hwAddr: number; config: number; mask: number; advertise: number }

export function decodePortMod(v: number, body: Uint8Array): PortMod {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'port mod');
  if (v === OFP10) {
    const m = { portNo: portFrom10(r.u16()), hwAddr: r.mac(), config: r.u32(), mask: r.u32(), advertise: r.u32() };
    r.skip(4); r.end();
    return m;
  }
  const portNo = r.u32(); r.skip(4);
  const hwAddr = r.mac(); r.skip(2);
  const config = r.u32(), mask = r.u32();
  if (v === OFP13) { const advertise = r.u32(); r.skip(4); r.end(); return { portNo, hwAddr, config, mask, advertise }; }
  let advertise = 0;
  for (const prop of readProps(r, 'port mod')) {
    if (prop.type === ETH_PROP) { advertise = prop.r.u32(); prop.r.end(); } else if (prop.type !== 1) {
      throw new OfpError('OFPBPC_BAD_TYPE', `port mod property ${prop.type}`);
    }
  }
  return { portNo, hwAddr, config, mask, advertise };
}

export function encodePortMod(v: number, m: PortMod): Uint8Array {
  const w = new Writer();
  if (v === OFP10) return w.u16(portTo10(m.portNo)).mac(m.hwAddr).u32(m.config).u32(m.mask).u32(m.advertise).pad(4).finish();
  w.u32(m.portNo).pad(4).mac(m.hwAddr).pad(2).u32(m.config).u32(m.mask);
  if (v === OFP13) return w.u32(m.advertise).pad(4).finish();
  writeProp(w, ETH_PROP, (b) => b.u32(m.advertise));
  return w.finish();
}

// ---- port desc request (1.5 names a port; before, no body) and reply (ports).

export interface PortDescRequest { portNo: number }
export function decodePortDescRequest(v: number, body: Uint8Array): PortDescRequest {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'port desc request');
  if (v < OFP15) { r.end(); return { portNo: OFPP_ANY }; }
  const portNo = r.u32(); r.skip(4); r.end();
  return { portNo };
}
export function encodePortDescRequest(v: number, m: PortDescRequest): Uint8Array {
  return v < OFP15 ? new Uint8Array(0) : new Writer().u32(m.portNo).pad(4).finish();
}

// ---- port stats: request names a port (OFPP_ANY/OFPP_NONE: all); reply is an array.

export interface PortStats {
  portNo: number;
  rxPackets: bigint; txPackets: bigint; rxBytes: bigint; txBytes: bigint;
  rxDropped: bigint; txDropped: bigint; rxErrors: bigint; txErrors: bigint;
  rxFrameErr: bigint; rxOverErr: bigint; rxCrcErr: bigint; collisions: bigint;
  /** Not in 1.0 (0 there). */
  durationSec: number; durationNsec: number;
}
const COUNTERS8 = ['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped', 'rxErrors', 'txErrors'] as const;
const COUNTERS_ETH = ['rxFrameErr', 'rxOverErr', 'rxCrcErr', 'collisions'] as const;
const PORT_STATS14_LEN = 80;

export function decodePortStatsRequest(v: number, body: Uint8Array): { portNo: number } {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'port stats request');
  const portNo = v === OFP10 ? portFrom10(r.u16()) : r.u32();
  r.skip(v === OFP10 ? 6 : 4); r.end();
  return { portNo };
}
export function encodePortStatsRequest(v: number, m: { portNo: number }): Uint8Array {
  return v === OFP10 ? new Writer().u16(portTo10(m.portNo)).pad(6).finish() : new Writer().u32(m.portNo).pad(4).finish();
}

function readPortStats(v: number, r: Reader): PortStats {
  const s = { durationSec: 0, durationNsec: 0, rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n, collisions: 0n } as PortStats;
  if (v < OFP14) {
    s.portNo = v === OFP10 ? portFrom10(r.u16()) : r.u32();
    r.skip(v === OFP10 ? 6 : 4);
    for (const k of [...COUNTERS8, ...COUNTERS_ETH]) s[k] = r.u64();
    if (v === OFP13) { s.durationSec = r.u32(); s.durationNsec = r.u32(); }
    return s;
  }
  const len = r.u16();
  if (len < PORT_STATS14_LEN) throw new OfpError('OFPBRC_BAD_LEN', `port stats of length ${len}`);
  r.skip(2);
  s.portNo = r.u32(); s.durationSec = r.u32(); s.durationNsec = r.u32();
  for (const k of COUNTERS8) s[k] = r.u64();
  for (const prop of readProps(r.sub(len - PORT_STATS14_LEN, 'port stats'), 'port stats')) {
    if (prop.type !== ETH_PROP) continue;
    prop.r.skip(4);
    for (const k of COUNTERS_ETH) s[k] = prop.r.u64();
  }
  return s;
}

export function writePortStats(v: number, w: Writer, s: PortStats): void {
  if (v < OFP14) {
    if (v === OFP10) w.u16(portTo10(s.portNo)).pad(6); else w.u32(s.portNo).pad(4);
    for (const k of [...COUNTERS8, ...COUNTERS_ETH]) w.u64(s[k]);
    if (v === OFP13) w.u32(s.durationSec).u32(s.durationNsec);
    return;
  }
  w.u16(PORT_STATS14_LEN + 40).pad(2).u32(s.portNo).u32(s.durationSec).u32(s.durationNsec);
  for (const k of COUNTERS8) w.u64(s[k]);
  writeProp(w, ETH_PROP, (b) => { b.pad(4); for (const k of COUNTERS_ETH) b.u64(s[k]); });
}

export function decodePortStatsReply(v: number, body: Uint8Array): PortStats[] {
  const r = new Reader(body, 'OFPBRC_BAD_LEN', 'port stats reply');
  const out: PortStats[] = [];
  while (r.remaining > 0) out.push(readPortStats(v, r));
  return out;
}

/** Port stats entries one by one (the multipart splitter packs them into messages). */
export function encodePortStatsEntries(v: number, stats: readonly PortStats[]): Uint8Array[] {
  return stats.map((s) => { const w = new Writer(); writePortStats(v, w, s); return w.finish(); });
}
