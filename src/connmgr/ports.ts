/**
 * OpenFlow port descriptions of a bridge's ports, read from the kernel (sysfs) at the time of
 * the request, as OVS's netdev-linux reads them: the MAC, admin state (config PORT_DOWN), link
 * state (state LINK_DOWN, or LIVE when up), and the speed as feature bits and kbps.
 */
import fs from 'node:fs';
import type { BridgePort } from '../ofproto/index.ts';
import { portFrom10, type OfpPort } from '../openflow/index.ts';

export const OFPPC_PORT_DOWN = 1;
export const OFPPS_LINK_DOWN = 1;
const OFPPS_LIVE = 4;
const OFPPF_COPPER = 0x800;
/** Speeds in Mb/s and their OFPPF_*_FD bits (full duplex, as veth and most NICs report). */
const SPEED_BITS: readonly (readonly [number, number])[] = [
  [10, 0x2], [100, 0x8], [1000, 0x20], [10_000, 0x40], [40_000, 0x80], [100_000, 0x100], [1_000_000, 0x200],
];
const OFPPF_OTHER = 0x400;

function readSys(dev: string, file: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/class/net/${dev}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function macNumber(s: string | undefined): number {
  if (!s || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) return 0;
  return Number.parseInt(s.replace(/:/g, ''), 16);
}

/**
 * The port as OpenFlow describes it; port numbers in the 1.1+ numbering (LOCAL 0xfffffffe).
 * `config` adds the OFPPC_* bits the bridge keeps itself (NO_FLOOD from a port-mod).
 */
export function describePort(p: BridgePort, config = 0): OfpPort {
  const adminUp = (Number.parseInt(readSys(p.name, 'flags') ?? '0', 16) & 1) === 1;
  const linkUp = readSys(p.name, 'operstate') === 'up' || (adminUp && readSys(p.name, 'carrier') === '1');
  const mbps = Number(readSys(p.name, 'speed') ?? -1);
  const bit = SPEED_BITS.find(([s]) => s === mbps)?.[1] ?? (mbps > 0 ? OFPPF_OTHER : 0);
  const curr = bit === 0 ? 0 : bit | OFPPF_COPPER;
  return {
    portNo: portFrom10(p.ofport), hwAddr: macNumber(readSys(p.name, 'address')), name: p.name,
    config: (adminUp ? 0 : OFPPC_PORT_DOWN) | config, state: linkUp ? OFPPS_LIVE : OFPPS_LINK_DOWN,
    curr, advertised: 0, supported: 0, peer: 0,
    currSpeed: mbps > 0 ? mbps * 1000 : 0, maxSpeed: 0,
  };
}

/** The datapath id OVS derives when other_config:datapath-id is unset: the bridge's MAC. */
export function datapathIdOf(local: BridgePort | undefined): bigint {
  return BigInt(local ? macNumber(readSys(local.name, 'address')) : 0);
}
