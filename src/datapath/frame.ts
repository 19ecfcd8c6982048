/**
 * Flow key extraction from an Ethernet frame in userspace: a copy of bpf/lib/parse.h, field for
 * field, so `ofproto/trace BR in_port=N PACKET` traces exactly what the datapath would upcall
 * for that frame. It is the only TypeScript copy of kernel logic, and it exists for trace
 * alone: the packets themselves are parsed and executed by the BPF program. Two tests keep the
 * copies equal: tests/datapath/frame-diff.test.ts feeds generated frames through both (the
 * program by BPF_PROG_TEST_RUN) and compares the keys, and the kernel tests compare it with
 * real upcalls. Keep the two in step (the choices for odd packets are listed in parse.h:
 * one VLAN tag, 802.3 length -> 0x05ff, IPv4 needs IHL >= 5 and its whole header, IPv6
 * extension headers walked up to 8, L4 only for a first or unfragmented packet, ARP only for
 * Ethernet/IPv4).
 *
 * The one difference: a VLAN tag the NIC stripped (skb->vlan_present) is not in a frame given
 * here, so a frame is always parsed as it is written.
 */
import { emptyKey, FRAG_FIRST, FRAG_LATER, type FlowKey } from './flow.ts';

const MAX_OFF = 0x3fff;      // BVS_PARSE_MAX_OFF: deepest header offset the datapath looks at
const IPV6_MAX_EXT = 8;      // BVS_IPV6_MAX_EXT

const u16 = (f: Uint8Array, o: number): number => (f[o]! << 8) | f[o + 1]!;
const u32 = (f: Uint8Array, o: number): number => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
const mac = (f: Uint8Array, o: number): number => u16(f, o) * 2 ** 32 + u32(f, o + 2);
const u128 = (f: Uint8Array, o: number): bigint =>
  (BigInt(u32(f, o)) << 96n) | (BigInt(u32(f, o + 4)) << 64n) | (BigInt(u32(f, o + 8)) << 32n) | BigInt(u32(f, o + 12));
/** A header at a fixed offset (parse.h bvs_hdr): in the frame and no deeper than MAX_OFF. */
const has = (f: Uint8Array, off: number, len: number): boolean => off <= MAX_OFF && off + len <= f.length;
/** A header at a variable offset (parse.h copies those with bpf_skb_load_bytes): in the frame. */
const inFrame = (f: Uint8Array, off: number, len: number): boolean => off + len <= f.length;

/** The datapath flow key of `frame` arriving on datapath port `inPort`. */
export function keyFromFrame(frame: Uint8Array, inPort: number): FlowKey {
  const k = emptyKey();
  k.inPort = inPort;
  if (!has(frame, 0, 14)) return k;
  k.ethDst = mac(frame, 0);
  k.ethSrc = mac(frame, 6);
  let proto = u16(frame, 12);
  let off = 14;
  if (proto === 0x8100 || proto === 0x88a8) {
    if (!has(frame, 14, 4)) { k.ethType = proto; return k; }
    k.vlanTci = u16(frame, 14) | 0x1000;
    proto = u16(frame, 16);
    off = 18;
  }
  if (proto < 0x600) proto = 0x05ff;
  k.ethType = proto;
  if (proto === 0x0800) ipv4(frame, off, k);
  else if (proto === 0x86dd) ipv6(frame, off, k);
  else if (proto === 0x0806) arp(frame, off, k);
  return k;
}

function arp(f: Uint8Array, off: number, k: FlowKey): void {
  if (!has(f, off, 28)) return;
  if (u16(f, off) !== 1 || u16(f, off + 2) !== 0x0800 || f[off + 4] !== 6 || f[off + 5] !== 4) return;
  const op = u16(f, off + 6);
  if (op <= 0xff) k.ipProto = op;
  k.arpSha = mac(f, off + 8);
  k.ipv4Src = u32(f, off + 14);
  k.arpTha = mac(f, off + 18);
  k.ipv4Dst = u32(f, off + 24);
}

function l4(f: Uint8Array, off: number, proto: number, v6: boolean, k: FlowKey): void {
  if (proto === 6) {
    if (!inFrame(f, off, 20)) return;
    const doff = f[off + 12]! >> 4;
    if (doff < 5 || off + doff * 4 > f.length) return;
    k.tcpFlags = u16(f, off + 12) & 0x0fff;
  } else if (proto === 17) {
    if (!inFrame(f, off, 8)) return;
  } else if (proto === 132) {
    if (!inFrame(f, off, 12)) return;
  } else if ((proto === 1 && !v6) || (proto === 58 && v6)) {
    if (!inFrame(f, off, 8)) return;
    k.tpSrc = f[off]!;
    k.tpDst = f[off + 1]!;
    return;
  } else {
    return;
  }
  k.tpSrc = u16(f, off);
  k.tpDst = u16(f, off + 2);
}

function ipv4(f: Uint8Array, off: number, k: FlowKey): void {
  if (!has(f, off, 20) || f[off]! >> 4 !== 4) return;
  const hlen = (f[off]! & 0xf) * 4;
  if (hlen < 20 || off + hlen > f.length) return;
  k.ipTos = f[off + 1]!;
  k.ipTtl = f[off + 8]!;
  k.ipProto = f[off + 9]!;
  k.ipv4Src = u32(f, off + 12);
  k.ipv4Dst = u32(f, off + 16);
  const frag = u16(f, off + 6);
  if (frag & 0x1fff) k.ipFrag = FRAG_LATER;
  else if (frag & 0x2000) k.ipFrag = FRAG_FIRST;
  if (k.ipFrag !== FRAG_LATER) l4(f, off + hlen, k.ipProto, false, k);
}

function ipv6(f: Uint8Array, off: number, k: FlowKey): void {
  if (!has(f, off, 40)) return;
  const w = u32(f, off);
  if (w >>> 28 !== 6) return;
  k.ipTos = (w >>> 20) & 0xff;
  k.ipv6Label = w & 0xfffff;
  k.ipTtl = f[off + 7]!;
  k.ipv6Src = u128(f, off + 8);
  k.ipv6Dst = u128(f, off + 24);
  let nh = f[off + 6]!;
  let ext = off + 40;
  for (let i = 0; i < IPV6_MAX_EXT; i++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 51) {
      if (!inFrame(f, ext, 2)) break;
      const len = nh === 51 ? (f[ext + 1]! + 2) * 4 : (f[ext + 1]! + 1) * 8;
      if (ext + len > f.length) break;
      nh = f[ext]!;
      ext += len;
    } else if (nh === 44) {
      if (!inFrame(f, ext, 8)) break;
      const offset = u16(f, ext + 2) & 0xfff8;
      nh = f[ext]!;
      ext += 8;
      if (offset) { k.ipFrag = FRAG_LATER; k.ipProto = nh; return; }
      k.ipFrag = FRAG_FIRST;
    } else {
      k.ipProto = nh;
      l4(f, ext, nh, true, k);
      return;
    }
  }
  // Cut short: nh is the extension header the walk stopped at; no L4 fields.
  k.ipProto = nh;
}
