/**
 * DataView codecs for the structs of bvs_abi.h kept in maps (keys, masks, flows, ports,
 * config); the ring's upcall record and the execute request are in records.ts. Offsets come
 * from LAYOUT (abi.ts) only.
 * Network-order fields are written big-endian; host-order fields little-endian (x86_64, arm64:
 * bvs supports little-endian hosts only, and says so on start if that ever changes).
 */
import { ABI, ACTION_TYPE, ACTION_UNION, LAYOUT, type Member } from './abi.ts';
import { type DpAction, type FlowKey, emptyKey } from './flow.ts';

const K = LAYOUT.bvs_flow_key.members;

export class CodecError extends Error {
  override name = 'CodecError';
}

export function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function putMac(dv: DataView, off: number, mac: number): void {
  const hi = Math.floor(mac / 2 ** 32);
  dv.setUint16(off, hi & 0xffff, false);
  dv.setUint32(off + 2, mac >>> 0, false);
}

function getMac(dv: DataView, off: number): number {
  return dv.getUint16(off, false) * 2 ** 32 + dv.getUint32(off + 2, false);
}

function putU128(dv: DataView, off: number, v: bigint): void {
  dv.setBigUint64(off, v >> 64n, false);
  dv.setBigUint64(off + 8, v & 0xffffffffffffffffn, false);
}

function getU128(dv: DataView, off: number): bigint {
  // Every upcall's key has two of these, almost always 0 (no IPv6): skip the bigint work then.
  if ((dv.getUint32(off) | dv.getUint32(off + 4) | dv.getUint32(off + 8) | dv.getUint32(off + 12)) === 0) return 0n;
  return (dv.getBigUint64(off, false) << 64n) | dv.getBigUint64(off + 8, false);
}

const at = (base: number, m: Member): number => base + m[0];

/** Write a FlowKey (or mask) at `base` of `buf`. */
export function writeKey(buf: Uint8Array, base: number, k: FlowKey): void {
  const dv = view(buf);
  dv.setUint32(at(base, K.in_port), k.inPort, true);
  putMac(dv, at(base, K.eth_src), k.ethSrc);
  putMac(dv, at(base, K.eth_dst), k.ethDst);
  dv.setUint16(at(base, K.eth_type), k.ethType, false);
  dv.setUint16(at(base, K.vlan_tci), k.vlanTci, false);
  dv.setUint8(at(base, K.ip_proto), k.ipProto);
  dv.setUint8(at(base, K.ip_tos), k.ipTos);
  dv.setUint8(at(base, K.ip_ttl), k.ipTtl);
  dv.setUint8(at(base, K.ip_frag), k.ipFrag);
  dv.setUint32(at(base, K.ipv4_src), k.ipv4Src, false);
  dv.setUint32(at(base, K.ipv4_dst), k.ipv4Dst, false);
  putU128(dv, at(base, K.ipv6_src), k.ipv6Src);
  putU128(dv, at(base, K.ipv6_dst), k.ipv6Dst);
  putMac(dv, at(base, K.arp_sha), k.arpSha);
  putMac(dv, at(base, K.arp_tha), k.arpTha);
  dv.setUint16(at(base, K.tp_src), k.tpSrc, false);
  dv.setUint16(at(base, K.tp_dst), k.tpDst, false);
  dv.setUint16(at(base, K.tcp_flags), k.tcpFlags, false);
  dv.setUint16(at(base, K.pad0), 0, true);
  dv.setUint32(at(base, K.ipv6_label), k.ipv6Label, false);
}

export function readKey(buf: Uint8Array, base: number): FlowKey {
  const dv = view(buf);
  return {
    inPort: dv.getUint32(at(base, K.in_port), true),
    ethSrc: getMac(dv, at(base, K.eth_src)),
    ethDst: getMac(dv, at(base, K.eth_dst)),
    ethType: dv.getUint16(at(base, K.eth_type), false),
    vlanTci: dv.getUint16(at(base, K.vlan_tci), false),
    ipProto: dv.getUint8(at(base, K.ip_proto)),
    ipTos: dv.getUint8(at(base, K.ip_tos)),
    ipTtl: dv.getUint8(at(base, K.ip_ttl)),
    ipFrag: dv.getUint8(at(base, K.ip_frag)),
    ipv4Src: dv.getUint32(at(base, K.ipv4_src), false),
    ipv4Dst: dv.getUint32(at(base, K.ipv4_dst), false),
    ipv6Src: getU128(dv, at(base, K.ipv6_src)),
    ipv6Dst: getU128(dv, at(base, K.ipv6_dst)),
    arpSha: getMac(dv, at(base, K.arp_sha)),
    arpTha: getMac(dv, at(base, K.arp_tha)),
    tpSrc: dv.getUint16(at(base, K.tp_src), false),
    tpDst: dv.getUint16(at(base, K.tp_dst), false),
    tcpFlags: dv.getUint16(at(base, K.tcp_flags), false),
    ipv6Label: dv.getUint32(at(base, K.ipv6_label), false),
  };
}

export function encodeKey(k: FlowKey): Uint8Array {
  const b = new Uint8Array(LAYOUT.bvs_flow_key.size);
  writeKey(b, 0, k);
  return b;
}

/** The flows map key: { mask_id, masked key }. The caller masks the key. */
export function encodeFlowId(maskId: number, maskedKey: FlowKey): Uint8Array {
  const L = LAYOUT.bvs_flow_id;
  const b = new Uint8Array(L.size);
  view(b).setUint32(L.members.mask_id[0], maskId, true);
  writeKey(b, L.members.key[0], maskedKey);
  return b;
}

export function decodeFlowId(b: Uint8Array): { maskId: number; key: FlowKey } {
  const L = LAYOUT.bvs_flow_id;
  return { maskId: view(b).getUint32(L.members.mask_id[0], true), key: readKey(b, L.members.key[0]) };
}

export interface MaskSlot {
  mask: FlowKey;
  refcnt: number;
  used: boolean;
}

export function encodeMask(slot: MaskSlot): Uint8Array {
  const L = LAYOUT.bvs_mask;
  const b = new Uint8Array(L.size);
  writeKey(b, L.members.key[0], slot.mask);
  const dv = view(b);
  dv.setUint32(L.members.refcnt[0], slot.refcnt, true);
  dv.setUint32(L.members.flags[0], slot.used ? ABI.MASK_F_USED : 0, true);
  return b;
}

export function decodeMask(b: Uint8Array): MaskSlot {
  const L = LAYOUT.bvs_mask;
  const dv = view(b);
  return {
    mask: readKey(b, L.members.key[0]),
    refcnt: dv.getUint32(L.members.refcnt[0], true),
    used: (dv.getUint32(L.members.flags[0], true) & ABI.MASK_F_USED) !== 0,
  };
}

/** The config map's value: the number of mask slots the kernel walks; the rest zero. */
export function encodeConfig(nMaskSlots: number): Uint8Array {
  const L = LAYOUT.bvs_config;
  const b = new Uint8Array(L.size);
  view(b).setUint32(L.members.n_mask_slots[0], nMaskSlots, true);
  return b;
}

export interface FlowStats {
  packets: bigint;
  bytes: bigint;
  usedNs: bigint;      // CLOCK_MONOTONIC ns of the last hit, 0n = never
  tcpFlags: number;
}

const A = LAYOUT.bvs_action.members;
const U = ACTION_UNION;

function setActionType(dv: DataView, base: number, type: number, flags: number): void {
  dv.setUint8(base + A.type[0], type);
  dv.setUint8(base + A.flags[0], flags);
}

/** Writes one struct bvs_action at `base` (also the execute request's, records.ts). */
export function writeAction(dv: DataView, base: number, a: DpAction): void {
  // No closures here (esbuild's keepNames makes each one a defineProperty): this runs for
  // every action of every installed flow.
  switch (a.type) {
    case 'output':
      setActionType(dv, base, ACTION_TYPE.OUTPUT, 0);
      dv.setUint32(base + A.port[0], a.port, true);
      break;
    case 'userspace':
      setActionType(dv, base, ACTION_TYPE.USERSPACE, 0);
      dv.setUint32(base + A.port[0], a.pid, true);
      dv.setBigUint64(base + U.cookie[0], a.cookie ?? 0n, true);
      break;
    case 'push_vlan':
      setActionType(dv, base, ACTION_TYPE.PUSH_VLAN, 0);
      dv.setUint16(base + U.push_vlan.tpid[0], a.tpid, false);
      dv.setUint16(base + U.push_vlan.tci[0], a.tci, false);
      break;
    case 'pop_vlan':
      setActionType(dv, base, ACTION_TYPE.POP_VLAN, 0);
      break;
    case 'set_eth': {
      setActionType(dv, base, ACTION_TYPE.SET_ETH, (a.src !== undefined ? ABI.SET_SRC : 0) | (a.dst !== undefined ? ABI.SET_DST : 0));
      if (a.src !== undefined) putMac(dv, base + U.eth.src[0], a.src);
      if (a.dst !== undefined) putMac(dv, base + U.eth.dst[0], a.dst);
      break;
    }
    case 'set_ipv4': {
      const f = (a.src !== undefined ? ABI.SET_SRC : 0) | (a.dst !== undefined ? ABI.SET_DST : 0)
        | (a.tos !== undefined ? ABI.SET_TOS : 0) | (a.ttl !== undefined ? ABI.SET_TTL : 0);
      setActionType(dv, base, ACTION_TYPE.SET_IPV4, f);
      if (a.src !== undefined) dv.setUint32(base + U.ipv4.src[0], a.src, false);
      if (a.dst !== undefined) dv.setUint32(base + U.ipv4.dst[0], a.dst, false);
      if (a.tos !== undefined) dv.setUint8(base + U.ipv4.tos[0], a.tos);
      if (a.ttl !== undefined) dv.setUint8(base + U.ipv4.ttl[0], a.ttl);
      break;
    }
    case 'set_tcp':
    case 'set_udp': {
      setActionType(dv, base, a.type === 'set_tcp' ? ACTION_TYPE.SET_TCP : ACTION_TYPE.SET_UDP,
        (a.src !== undefined ? ABI.SET_SRC : 0) | (a.dst !== undefined ? ABI.SET_DST : 0));
      if (a.src !== undefined) dv.setUint16(base + U.l4.src[0], a.src, false);
      if (a.dst !== undefined) dv.setUint16(base + U.l4.dst[0], a.dst, false);
      break;
    }
    case 'meter':
      setActionType(dv, base, ACTION_TYPE.METER, 0);
      dv.setUint32(base + A.port[0], a.id, true);
      break;
    default: {
      const never: never = a;
      throw new CodecError(`unknown action ${(never as DpAction).type}`);
    }
  }
}

function readAction(dv: DataView, base: number): DpAction {
  const type = dv.getUint8(base + A.type[0]);
  const flags = dv.getUint8(base + A.flags[0]);
  const has = (bit: number) => (flags & bit) !== 0;
  switch (type) {
    case ACTION_TYPE.OUTPUT:
      return { type: 'output', port: dv.getUint32(base + A.port[0], true) };
    case ACTION_TYPE.USERSPACE: {
      const cookie = dv.getBigUint64(base + U.cookie[0], true);
      const pid = dv.getUint32(base + A.port[0], true);
      return cookie ? { type: 'userspace', pid, cookie } : { type: 'userspace', pid };
    }
    case ACTION_TYPE.PUSH_VLAN:
      return {
        type: 'push_vlan',
        tpid: dv.getUint16(base + U.push_vlan.tpid[0], false),
        tci: dv.getUint16(base + U.push_vlan.tci[0], false),
      };
    case ACTION_TYPE.POP_VLAN:
      return { type: 'pop_vlan' };
    case ACTION_TYPE.SET_ETH: {
      const a: Extract<DpAction, { type: 'set_eth' }> = { type: 'set_eth' };
      if (has(ABI.SET_SRC)) a.src = getMac(dv, base + U.eth.src[0]);
      if (has(ABI.SET_DST)) a.dst = getMac(dv, base + U.eth.dst[0]);
      return a;
    }
    case ACTION_TYPE.SET_IPV4: {
      const a: Extract<DpAction, { type: 'set_ipv4' }> = { type: 'set_ipv4' };
      if (has(ABI.SET_SRC)) a.src = dv.getUint32(base + U.ipv4.src[0], false);
      if (has(ABI.SET_DST)) a.dst = dv.getUint32(base + U.ipv4.dst[0], false);
      if (has(ABI.SET_TOS)) a.tos = dv.getUint8(base + U.ipv4.tos[0]);
      if (has(ABI.SET_TTL)) a.ttl = dv.getUint8(base + U.ipv4.ttl[0]);
      return a;
    }
    case ACTION_TYPE.SET_TCP:
    case ACTION_TYPE.SET_UDP: {
      const a: Extract<DpAction, { type: 'set_tcp' | 'set_udp' }> =
        { type: type === ACTION_TYPE.SET_TCP ? 'set_tcp' : 'set_udp' };
      if (has(ABI.SET_SRC)) a.src = dv.getUint16(base + U.l4.src[0], false);
      if (has(ABI.SET_DST)) a.dst = dv.getUint16(base + U.l4.dst[0], false);
      return a;
    }
    case ACTION_TYPE.METER:
      return { type: 'meter', id: dv.getUint32(base + A.port[0], true) };
    default:
      throw new CodecError(`unknown action type ${type} in flow entry`);
  }
}

/** The flows map value: zeroed stats (or the given ones) and the actions. `out`, when given, is
 *  a buffer of the value's size that is zeroed and reused (the caller must not keep it). */
export function encodeFlow(actions: readonly DpAction[], stats?: FlowStats, out?: Uint8Array): Uint8Array {
  if (actions.length > ABI.MAX_ACTIONS) {
    throw new CodecError(`too many actions: ${actions.length} (the datapath holds at most ${ABI.MAX_ACTIONS})`);
  }
  const L = LAYOUT.bvs_flow.members;
  const S = LAYOUT.bvs_flow_stats.members;
  let b: Uint8Array;
  if (out) {
    if (out.byteLength !== LAYOUT.bvs_flow.size) throw new CodecError(`flow buffer is ${out.byteLength} bytes, not ${LAYOUT.bvs_flow.size}`);
    b = out.fill(0);
  } else {
    b = new Uint8Array(LAYOUT.bvs_flow.size);
  }
  const dv = view(b);
  if (stats) {
    dv.setBigUint64(L.stats[0] + S.packets[0], stats.packets, true);
    dv.setBigUint64(L.stats[0] + S.bytes[0], stats.bytes, true);
    dv.setBigUint64(L.stats[0] + S.used_ns[0], stats.usedNs, true);
    dv.setUint32(L.stats[0] + S.tcp_flags[0], stats.tcpFlags, true);
  }
  dv.setUint32(L.n_actions[0], actions.length, true);
  for (let i = 0; i < actions.length; i++) writeAction(dv, L.actions[0] + i * LAYOUT.bvs_action.size, actions[i]!);
  return b;
}

/** Only the stats of a `struct bvs_flow` (the revalidator reads these for every flow). */
export function decodeFlowStats(b: Uint8Array): FlowStats {
  const off = LAYOUT.bvs_flow.members.stats[0];
  const S = LAYOUT.bvs_flow_stats.members;
  const dv = view(b);
  return {
    packets: dv.getBigUint64(off + S.packets[0], true),
    bytes: dv.getBigUint64(off + S.bytes[0], true),
    usedNs: dv.getBigUint64(off + S.used_ns[0], true),
    tcpFlags: dv.getUint32(off + S.tcp_flags[0], true),
  };
}

export function decodeFlow(b: Uint8Array): { actions: DpAction[]; stats: FlowStats } {
  const L = LAYOUT.bvs_flow.members;
  const S = LAYOUT.bvs_flow_stats.members;
  const dv = view(b);
  const n = Math.min(dv.getUint32(L.n_actions[0], true), ABI.MAX_ACTIONS);
  const actions: DpAction[] = [];
  for (let i = 0; i < n; i++) actions.push(readAction(dv, L.actions[0] + i * LAYOUT.bvs_action.size));
  return {
    actions,
    stats: {
      packets: dv.getBigUint64(L.stats[0] + S.packets[0], true),
      bytes: dv.getBigUint64(L.stats[0] + S.bytes[0], true),
      usedNs: dv.getBigUint64(L.stats[0] + S.used_ns[0], true),
      tcpFlags: dv.getUint32(L.stats[0] + S.tcp_flags[0], true),
    },
  };
}

export interface PortEntry {
  ifindex: number;
  flags: number;
  name: string;
}

export function encodePort(p: PortEntry): Uint8Array {
  const L = LAYOUT.bvs_port.members;
  const b = new Uint8Array(LAYOUT.bvs_port.size);
  const dv = view(b);
  dv.setUint32(L.ifindex[0], p.ifindex, true);
  dv.setUint32(L.flags[0], p.flags, true);
  const name = new TextEncoder().encode(p.name);
  if (name.length >= L.name[1]) throw new CodecError(`port name too long: "${p.name}" (max ${L.name[1] - 1} bytes)`);
  b.set(name, L.name[0]);
  return b;
}

export function decodePort(b: Uint8Array): PortEntry {
  const L = LAYOUT.bvs_port.members;
  const dv = view(b);
  const raw = b.subarray(L.name[0], L.name[0] + L.name[1]);
  const end = raw.indexOf(0);
  return {
    ifindex: dv.getUint32(L.ifindex[0], true),
    flags: dv.getUint32(L.flags[0], true),
    name: new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)),
  };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setUint32(0, n, true);
  return b;
}

export function readU32(b: Uint8Array, off = 0): number {
  return view(b).getUint32(off, true);
}

/**
 * Sum a per-CPU value buffer (nCpus slots, each valueSize rounded up to 8) into one record of
 * u64 counters named by `layout`.
 */
export function sumPerCpu<T extends string>(buf: Uint8Array, nCpus: number,
  members: Readonly<Record<T, Member>>, valueSize: number): Record<T, bigint> {
  const stride = Math.ceil(valueSize / 8) * 8;
  const dv = view(buf);
  const out = {} as Record<T, bigint>;
  for (const name of Object.keys(members) as T[]) {
    const [off, size] = members[name];
    if (size !== 8) continue;
    let total = 0n;
    for (let c = 0; c < nCpus; c++) total += dv.getBigUint64(c * stride + off, true);
    out[name] = total;
  }
  return out;
}
