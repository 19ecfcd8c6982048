/** Builders of test frames with known field values (checksums filled in). */
import { fixChecksums } from './checksums.ts';

export interface EthOpts { src: number; dst: number; vlan?: { vid: number; pcp: number } }

function macBytes(m: number): number[] {
  const hi = Math.floor(m / 2 ** 32);
  const lo = m >>> 0;
  return [(hi >> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
}
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export function eth(o: EthOpts, type: number, payload: number[]): Uint8Array {
  const tag = o.vlan ? [...be16(0x8100), ...be16((o.vlan.pcp << 13) | o.vlan.vid)] : [];
  return Uint8Array.from([...macBytes(o.dst), ...macBytes(o.src), ...tag, ...be16(type), ...payload]);
}

export function arp(o: EthOpts, op: number, sha: number, sip: number, tha: number, tip: number): Uint8Array {
  return eth(o, 0x0806, [...be16(1), ...be16(0x0800), 6, 4, ...be16(op), ...macBytes(sha), ...be32(sip),
    ...macBytes(tha), ...be32(tip)]);
}

export interface Ip4Opts { src: number; dst: number; proto: number; tos?: number; ttl?: number; frag?: 'no' | 'first' | 'later' }

export function ipv4(o: EthOpts, ip: Ip4Opts, l4: number[]): Uint8Array {
  const total = 20 + l4.length;
  const flagsFrag = ip.frag === 'first' ? 0x2000 : ip.frag === 'later' ? 0x0010 : 0x4000;
  const hdr = [0x45, ip.tos ?? 0, ...be16(total), ...be16(0x1234), ...be16(flagsFrag), ip.ttl ?? 64, ip.proto,
    0, 0, ...be32(ip.src), ...be32(ip.dst)];
  return fixChecksums(eth(o, 0x0800, [...hdr, ...l4]));
}

export function tcp(sport: number, dport: number, flags: number, payload: number[] = []): number[] {
  return [...be16(sport), ...be16(dport), ...be32(1), ...be32(0), 0x50, flags & 0xff, ...be16(65535), 0, 0, 0, 0, ...payload];
}

export function udp(sport: number, dport: number, payload: number[] = [1, 2, 3, 4]): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
}

export function icmp(type: number, code: number): number[] {
  return [type, code, 0, 0, 0, 1, 0, 1, ...new Array(8).fill(0xab)];
}

export function ipv6(o: EthOpts, src: bigint, dst: bigint, next: number, l4: number[], tclass = 0, hlim = 64, label = 0): Uint8Array {
  const b128 = (v: bigint) => Array.from({ length: 16 }, (_, i) => Number((v >> BigInt(8 * (15 - i))) & 0xffn));
  const hdr = [0x60 | (tclass >> 4), ((tclass & 0xf) << 4) | ((label >> 16) & 0xf), (label >> 8) & 0xff, label & 0xff,
    ...be16(l4.length), next, hlim, ...b128(src), ...b128(dst)];
  return fixChecksums(eth(o, 0x86dd, [...hdr, ...l4]));
}
