/**
 * Builders of the crafted frames the BPF tests feed to the datapath program, as Buffers: exact
 * bytes with valid checksums unless a test breaks them on purpose (IPv4 options, raw fragment
 * fields, TCP data offsets, a zero UDP checksum), and the checksum checks of the frames the
 * program leaves. Field values for flow keys: macNum/ipNum turn these bytes into FlowKey numbers.
 */

export const MAC1 = Buffer.from('020000000001', 'hex');
export const MAC2 = Buffer.from('020000000002', 'hex');
export const IP1 = Buffer.from([10, 0, 0, 1]);
export const IP2 = Buffer.from([10, 0, 0, 2]);

/** A 6-byte MAC as a FlowKey number. */
export const macNum = (b: Buffer): number => b.readUIntBE(0, 6);
/** A 4-byte IPv4 address as a FlowKey number. */
export const ipNum = (b: Buffer): number => b.readUInt32BE(0);

export function be16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }

export function eth(type: number, payload: Buffer, tags: Array<[number, number]> = []): Buffer {
  return Buffer.concat([MAC2, MAC1, ...tags.map(([tpid, tci]) => Buffer.concat([be16(tpid), be16(tci)])), be16(type), payload]);
}

function sum16(b: Buffer, acc = 0): number {
  let s = acc;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length % 2) s += b[b.length - 1] << 8;
  return s;
}
export function csum(b: Buffer, acc = 0): number {
  let s = sum16(b, acc);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface Ip4Opts { proto: number; tos?: number; ttl?: number; frag?: number; options?: Buffer; src?: Buffer; dst?: Buffer }

/** IPv4 with a valid header checksum, and a valid TCP/UDP checksum when l4 has one. */
export function ipv4(o: Ip4Opts, l4: Buffer, udpZeroCsum = false): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(20 + opts.length + l4.length, 2);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  (o.src ?? IP1).copy(h, 12);
  (o.dst ?? IP2).copy(h, 16);
  const hdr = Buffer.concat([h, opts]);
  hdr.writeUInt16BE(csum(hdr), 10);
  const seg = Buffer.from(l4);
  const coff = o.proto === 6 ? 16 : o.proto === 17 ? 6 : -1;
  if (coff >= 0 && seg.length >= coff + 2 && !udpZeroCsum) {
    seg.writeUInt16BE(0, coff);
    let c = l4Csum(hdr, seg);
    if (o.proto === 17 && c === 0) c = 0xffff;
    seg.writeUInt16BE(c, coff);
  }
  return eth(0x0800, Buffer.concat([hdr, seg]));
}

export function l4Csum(ip: Buffer, seg: Buffer): number {
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, ip[9]]), be16(seg.length)]);
  return csum(seg, sum16(pseudo));
}

export function tcp(sport: number, dport: number, flags: number, doff = 5): Buffer {
  const b = Buffer.alloc(Math.max(20, doff * 4) + 4);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE((doff << 12) | flags, 12);
  b.write('data', b.length - 4);
  return b;
}

export function udp(sport: number, dport: number, payload = Buffer.from('hello')): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([b, payload]);
}

/** Checks an IPv4 frame (IP at l3): header checksum, and the TCP/UDP checksum if present. */
export function checksumsOk(f: Buffer, l3: number): { ip: boolean; l4: boolean } {
  const ihl = (f[l3] & 0xf) * 4;
  const ip = f.subarray(l3, l3 + ihl);
  const seg = f.subarray(l3 + ihl, l3 + f.readUInt16BE(l3 + 2));
  const proto = f[l3 + 9];
  let l4 = true;
  if (proto === 6) l4 = l4Csum(ip, seg) === 0;
  if (proto === 17 && seg.readUInt16BE(6) !== 0) l4 = l4Csum(ip, seg) === 0;
  return { ip: csum(ip) === 0, l4 };
}
