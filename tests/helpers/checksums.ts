/**
 * Test-side checksums: fills in the IPv4 header checksum and, for a whole unfragmented TCP/UDP
 * packet, the L4 checksum of a frame a test builds, and lets a test check the checksums of a
 * frame it captured (recompute, compare). The product never computes these in userspace: the
 * datapath fixes checksums incrementally as it rewrites headers (bpf/lib/actions.h), and
 * src/datapath/checksum.ts only finishes what a sender left CHECKSUM_PARTIAL.
 */
const ETH_TYPE = { VLAN: 0x8100, QINQ: 0x88a8, IPV4: 0x0800, IPV6: 0x86dd } as const;
const IP_PROTO = { TCP: 6, UDP: 17 } as const;

interface L3 {
  ethType: number;
  l3: number;      // offset of the IP header, -1 when none
}

function l3Of(f: Uint8Array): L3 {
  if (f.length < 14) return { ethType: 0, l3: -1 };
  let off = 12;
  let type = (f[off] << 8) | f[off + 1];
  if ((type === ETH_TYPE.VLAN || type === ETH_TYPE.QINQ) && f.length >= 18) {
    off += 4;
    type = (f[off] << 8) | f[off + 1];
  }
  return { ethType: type, l3: off + 2 };
}

function sum16(f: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (f[i] << 8) | f[i + 1];
  if (i < end) s += f[i] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return (~s) & 0xffff;
}

function put16(f: Uint8Array, off: number, v: number): void {
  f[off] = (v >> 8) & 0xff;
  f[off + 1] = v & 0xff;
}

/** Recomputes the IPv4 header checksum and, for a complete unfragmented TCP/UDP packet, the
 *  L4 checksum. Returns the frame (modified in place). */
export function fixChecksums(f: Uint8Array): Uint8Array {
  const { ethType, l3 } = l3Of(f);
  if (l3 < 0) return f;
  if (ethType === ETH_TYPE.IPV4 && f.length >= l3 + 20) {
    const ihl = (f[l3] & 0x0f) * 4;
    if (ihl < 20 || f.length < l3 + ihl) return f;
    put16(f, l3 + 10, 0);
    put16(f, l3 + 10, fold(sum16(f, l3, l3 + ihl)));
    const totLen = (f[l3 + 2] << 8) | f[l3 + 3];
    const fragOff = ((f[l3 + 6] << 8) | f[l3 + 7]) & 0x3fff; // MF bit + offset
    if (fragOff !== 0 || f.length < l3 + totLen) return f;
    const proto = f[l3 + 9];
    const l4 = l3 + ihl;
    const l4len = totLen - ihl;
    const pseudo = sum16(f, l3 + 12, l3 + 20) + proto + l4len;
    fixL4(f, proto, l4, l4 + l4len, pseudo);
  } else if (ethType === ETH_TYPE.IPV6 && f.length >= l3 + 40) {
    const proto = f[l3 + 6];
    const payload = (f[l3 + 4] << 8) | f[l3 + 5];
    const l4 = l3 + 40;
    if (f.length < l4 + payload) return f;
    const pseudo = sum16(f, l3 + 8, l3 + 40) + proto + payload;
    fixL4(f, proto, l4, l4 + payload, pseudo);
  }
  return f;
}

function fixL4(f: Uint8Array, proto: number, start: number, end: number, pseudo: number): void {
  let csumOff: number;
  if (proto === IP_PROTO.TCP && end - start >= 20) csumOff = start + 16;
  else if (proto === IP_PROTO.UDP && end - start >= 8) {
    csumOff = start + 6;
    // IPv4 UDP checksum 0 means "none"; leave it so.
    if (f[csumOff] === 0 && f[csumOff + 1] === 0 && l3Of(f).ethType === ETH_TYPE.IPV4) return;
  } else return;
  put16(f, csumOff, 0);
  let c = fold(sum16(f, start, end, pseudo));
  if (proto === IP_PROTO.UDP && c === 0) c = 0xffff;
  put16(f, csumOff, c);
}
