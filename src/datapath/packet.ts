/**
 * Userspace execution of datapath actions on a frame, for `execute` (the first packet of a new
 * flow, dpctl execute). It mirrors what the BPF program does to an skb, on a byte array.
 *
 * Checksums: a frame captured from a veth is often CHECKSUM_PARTIAL (the TCP/UDP checksum field
 * holds only the pseudo-header sum and the NIC/stack would finish it). Frames sent back through
 * AF_PACKET are taken as complete, so execute recomputes the L4 checksum of every complete
 * TCP/UDP packet in full, and the IPv4 header checksum after any change. A truncated capture
 * cannot be executed correctly, and is refused by the caller.
 */
import type { DpAction } from './flow.ts';
import { ETH_TYPE, IP_PROTO } from './flow.ts';

export interface Emitted {
  port: number;
  frame: Uint8Array;
}

export interface UserspaceEmit {
  pid: number;
  cookie: bigint;
  frame: Uint8Array;
}

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

/** Recompute the IPv4 header checksum and, for a complete unfragmented TCP/UDP packet, the L4
 *  checksum. Returns the frame (modified in place). */
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

function writeMac(f: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 2 ** 32);
  f[off] = (hi >> 8) & 0xff;
  f[off + 1] = hi & 0xff;
  const lo = mac >>> 0;
  f[off + 2] = lo >>> 24;
  f[off + 3] = (lo >>> 16) & 0xff;
  f[off + 4] = (lo >>> 8) & 0xff;
  f[off + 5] = lo & 0xff;
}

function write32(f: Uint8Array, off: number, v: number): void {
  f[off] = v >>> 24;
  f[off + 1] = (v >>> 16) & 0xff;
  f[off + 2] = (v >>> 8) & 0xff;
  f[off + 3] = v & 0xff;
}

/**
 * Run `actions` over `frame`. Returns the frames to send per output port and the userspace
 * actions met, in order. The input is not modified.
 */
export function applyActions(frame: Uint8Array, actions: readonly DpAction[]):
  { outputs: Emitted[]; userspace: UserspaceEmit[] } {
  let f = fixChecksums(Uint8Array.from(frame));
  const outputs: Emitted[] = [];
  const userspace: UserspaceEmit[] = [];
  for (const a of actions) {
    switch (a.type) {
      case 'output':
        outputs.push({ port: a.port, frame: Uint8Array.from(f) });
        break;
      case 'userspace':
        userspace.push({ pid: a.pid, cookie: a.cookie ?? 0n, frame: Uint8Array.from(f) });
        break;
      case 'push_vlan': {
        if (f.length < 14) break;
        const g = new Uint8Array(f.length + 4);
        g.set(f.subarray(0, 12), 0);
        put16(g, 12, a.tpid);
        put16(g, 14, a.tci);
        g.set(f.subarray(12), 16);
        f = g;
        break;
      }
      case 'pop_vlan': {
        const t = f.length >= 18 ? (f[12] << 8) | f[13] : 0;
        if (t === ETH_TYPE.VLAN || t === ETH_TYPE.QINQ) {
          const g = new Uint8Array(f.length - 4);
          g.set(f.subarray(0, 12), 0);
          g.set(f.subarray(16), 12);
          f = g;
        }
        break;
      }
      case 'set_eth':
        if (f.length < 14) break;
        if (a.dst !== undefined) writeMac(f, 0, a.dst);
        if (a.src !== undefined) writeMac(f, 6, a.src);
        break;
      case 'set_ipv4': {
        const { ethType, l3 } = l3Of(f);
        if (ethType !== ETH_TYPE.IPV4 || f.length < l3 + 20) break;
        if (a.tos !== undefined) f[l3 + 1] = a.tos;
        if (a.ttl !== undefined) f[l3 + 8] = a.ttl;
        if (a.src !== undefined) write32(f, l3 + 12, a.src);
        if (a.dst !== undefined) write32(f, l3 + 16, a.dst);
        fixChecksums(f);
        break;
      }
      case 'set_tcp':
      case 'set_udp': {
        const { ethType, l3 } = l3Of(f);
        let l4 = -1;
        let proto = -1;
        if (ethType === ETH_TYPE.IPV4 && f.length >= l3 + 20) {
          const frag = ((f[l3 + 6] << 8) | f[l3 + 7]) & 0x1fff;
          if (frag === 0) { l4 = l3 + (f[l3] & 0x0f) * 4; proto = f[l3 + 9]; }
        } else if (ethType === ETH_TYPE.IPV6 && f.length >= l3 + 40) {
          l4 = l3 + 40; proto = f[l3 + 6];
        }
        const want = a.type === 'set_tcp' ? IP_PROTO.TCP : IP_PROTO.UDP;
        if (l4 < 0 || proto !== want || f.length < l4 + 4) break;
        if (a.src !== undefined) put16(f, l4, a.src);
        if (a.dst !== undefined) put16(f, l4 + 2, a.dst);
        fixChecksums(f);
        break;
      }
    }
  }
  return { outputs, userspace };
}
