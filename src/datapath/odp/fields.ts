/**
 * Names and number styles shared by the flow printer and parser, so the two cannot drift.
 *
 * "Meaningful bits" are the bits a field can carry in a key built by the datapath parser:
 * a mask is printed as exact when all of them are set, and parsing an exact field sets every
 * bit of the FlowKey field (fieldFullMask), the codebase's one notion of "exact".
 */
import { ETH_TYPE, FRAG_FIRST, FRAG_LATER, FRAG_NO, IP_PROTO } from '../flow.ts';

/** C's "%#x": 0 prints as "0", anything else as 0x-prefixed lowercase hex. */
export const hexC = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

/** "0x%04x", OVS's ethertype form. */
export const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** OVS's packet_tcp_flag_to_string names, bit by bit from the least significant. */
export const TCP_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x001, 'fin'], [0x002, 'syn'], [0x004, 'rst'], [0x008, 'psh'], [0x010, 'ack'], [0x020, 'urg'],
  [0x040, 'ece'], [0x080, 'cwr'], [0x100, 'ns'], [0x200, '[200]'], [0x400, '[400]'], [0x800, '[800]'],
];
export const TCP_FLAGS_MEANINGFUL = 0x0fff;

/** frag= names. A Map: user text indexes it, and an object would also answer for "constructor". */
export const FRAG_NAMES: ReadonlyMap<string, number> = new Map([['no', FRAG_NO], ['first', FRAG_FIRST], ['later', FRAG_LATER]]);
export const fragName = (v: number): string =>
  [...FRAG_NAMES].find(([, n]) => n === v)?.[0] ?? String(v);

/** L3 attribute for each ethertype the key can describe. */
export const L3_BY_ETHTYPE: Readonly<Record<number, 'ipv4' | 'ipv6' | 'arp'>> = {
  [ETH_TYPE.IPV4]: 'ipv4', [ETH_TYPE.IPV6]: 'ipv6', [ETH_TYPE.ARP]: 'arp',
};
export const ETHTYPE_BY_L3 = { ipv4: ETH_TYPE.IPV4, ipv6: ETH_TYPE.IPV6, arp: ETH_TYPE.ARP } as const;

export type L4Name = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';
export const L4_BY_PROTO: Readonly<Record<number, L4Name>> = {
  [IP_PROTO.TCP]: 'tcp', [IP_PROTO.UDP]: 'udp', [IP_PROTO.SCTP]: 'sctp',
  [IP_PROTO.ICMP]: 'icmp', [IP_PROTO.ICMPV6]: 'icmpv6',
};
export const PROTO_BY_L4: Readonly<Record<L4Name, number>> = {
  tcp: IP_PROTO.TCP, udp: IP_PROTO.UDP, sctp: IP_PROTO.SCTP, icmp: IP_PROTO.ICMP, icmpv6: IP_PROTO.ICMPV6,
};

/** Meaningful bits of the ICMP type/code (kept in tp_src/tp_dst's low byte) and the flow label. */
export const ICMP_MEANINGFUL = 0xff;
export const IPV6_LABEL_MEANINGFUL = 0xfffff;

/** OVS's FLOW_DL_TYPE_NONE: what the bvs parser stores for an 802.3 length field. */
export const ETH_TYPE_NONE = 0x05ff;

/**
 * Port names, as `ovs-dpctl dump-flows --names` uses them: printed for an exact in_port and
 * for output actions, accepted wherever a port number is.
 */
export interface PortNames {
  /** Number → name, for printing. */
  names?: ReadonlyMap<number, string>;
  /** Name → number, for parsing. */
  numbers?: ReadonlyMap<string, number>;
}
