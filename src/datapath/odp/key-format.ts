/**
 * formatFlow: a (key, mask) pair as ovs-dpctl dump-flows prints it (non-verbose).
 *
 * OVS rules followed (lib/odp-util.c odp_flow_format, format_odp_key_attr__):
 *  - recirc_id(0) comes first, as OVS prints it for every flow of a datapath that supports
 *    recirculation; bvs has none, so its flows are exactly OVS's recirc_id 0.
 *  - The key is printed masked; a field whose mask is 0 is left out, an exact field prints as a
 *    plain value, a partial one as value/mask. An attribute whose fields are all wildcarded is
 *    left out, except eth(), which the kernel key always has, and encap(), which is nested.
 *  - Field styles: ports, proto, ttl, hlimit, icmp type/code and arp op in decimal with a
 *    "%#x" mask; tos, tclass and label as "%#x"; eth_type as "0x%04x"; MACs and addresses in
 *    their own notation, masks too (dst=10.0.0.0/255.255.255.0).
 *  - frag prints its name (no, first, later). OVS has no text for a partial frag mask; we
 *    print name/mask (a bvs extension) rather than lose it.
 *  - tcp_flags prints names: syn|ack when exact, +syn-ack (each masked bit) when partial.
 *  - An 802.3 frame (eth_type 0x05ff, OVS's FLOW_DL_TYPE_NONE) prints as eth_type(0/0xffff),
 *    a truncated tag (eth_type = TPID, no CFI) as eth_type(0x8100),vlan(vid=0,pcp=0,cfi=0),encap().
 *  - VLAN: see the design note in index.ts for the four vlan_tci cases.
 *
 * Which L3/L4 attribute holds a field follows the masked key (eth_type, then ip proto), as the
 * kernel builds its attributes; fields of other protocols, which a consistent flow leaves at
 * 0/0, are not printed.
 */
import { ETH_TYPE, type FlowKey, type FlowMask, maskKey, VLAN_CFI } from '../flow.ts';
import { ETH_TYPE_NONE, type PortNames } from './fields.ts';
import { formatIpv4, formatIpv6, formatMac } from './addr.ts';
import {
  fragName, hex4, hexC, ICMP_MEANINGFUL, IPV6_LABEL_MEANINGFUL, L3_BY_ETHTYPE, L4_BY_PROTO,
  TCP_FLAG_NAMES, TCP_FLAGS_MEANINGFUL,
} from './fields.ts';

const MAC_FULL = 2 ** 48 - 1;
const MAX128 = (1n << 128n) - 1n;

/** `name=v[/m]` for a number; `meaning` is the field's meaningful bits. */
function num(name: string, v: number, m: number, meaning: number, hex: boolean): string | null {
  const mm = (m & meaning) >>> 0;
  if (mm === 0) return null;
  return `${name}=${hex ? hexC(v) : String(v)}${mm === meaning ? '' : `/${hexC(mm)}`}`;
}

function mac(name: string, v: number, m: number): string | null {
  if (m === 0) return null;
  return `${name}=${formatMac(v)}${m === MAC_FULL ? '' : `/${formatMac(m)}`}`;
}

function ip4(name: string, v: number, m: number): string | null {
  if (m === 0) return null;
  return `${name}=${formatIpv4(v)}${m === 0xffffffff ? '' : `/${formatIpv4(m)}`}`;
}

function ip6(name: string, v: bigint, m: bigint): string | null {
  if (m === 0n) return null;
  return `${name}=${formatIpv6(v)}${m === MAX128 ? '' : `/${formatIpv6(m)}`}`;
}

function frag(v: number, m: number): string | null {
  if (m === 0) return null;
  return `frag=${fragName(v)}${m === 0xff ? '' : `/${hexC(m)}`}`;
}

const attr = (name: string, fields: Array<string | null>): string | null => {
  const f = fields.filter((x): x is string => x !== null);
  return f.length ? `${name}(${f.join(',')})` : null;
};

/** OVS's format_vlan_tci: vid and pcp when either key or mask has bits, cfi=0 when untagged. */
export function formatVlanBody(tci: number, mask: number): string {
  const parts: string[] = [];
  const vid = tci & 0xfff, vm = mask & 0xfff;
  if (vid || vm) parts.push(`vid=${vid}${vm === 0xfff ? '' : `/0x${vm.toString(16)}`}`);
  const pcp = (tci >> 13) & 7, pm = (mask >> 13) & 7;
  if (pcp || pm) parts.push(`pcp=${pcp}${pm === 7 ? '' : `/0x${pm.toString(16)}`}`);
  if (!(tci & VLAN_CFI)) parts.push('cfi=0');
  return parts.join(',');
}

/** OVS's format_flags / format_flags_masked for TCP flags. */
export function formatTcpFlagsAttr(v: number, m: number): string {
  const mm = m & TCP_FLAGS_MEANINGFUL;
  if (mm === TCP_FLAGS_MEANINGFUL) {
    if (v === 0) return '0';
    const names = TCP_FLAG_NAMES.filter(([bit]) => v & bit).map(([, n]) => n);
    const unknown = v & ~TCP_FLAGS_MEANINGFUL;
    if (unknown) names.push(hexC(unknown));
    return names.join('|');
  }
  return TCP_FLAG_NAMES.filter(([bit]) => mm & bit).map(([bit, n]) => `${v & bit ? '+' : '-'}${n}`).join('');
}

function l3Of(k: FlowKey, m: FlowMask): 'ipv4' | 'ipv6' | 'arp' | null {
  const byType = L3_BY_ETHTYPE[k.ethType];
  if (m.ethType !== 0 && byType) return byType;
  // No (or another) eth_type: name the family by the fields that are matched.
  if (m.ipv6Src !== 0n || m.ipv6Dst !== 0n || m.ipv6Label !== 0) return 'ipv6';
  if (m.arpSha !== 0 || m.arpTha !== 0) return 'arp';
  if (m.ipProto || m.ipTos || m.ipTtl || m.ipFrag || m.ipv4Src || m.ipv4Dst) return 'ipv4';
  return null;
}

/** eth_type, L3, L4 and tcp_flags: what sits after the VLAN tag (inside encap() if tagged). */
function formatL3Up(k: FlowKey, m: FlowMask): string[] {
  const out: Array<string | null> = [];
  if (m.ethType === 0xffff && k.ethType === ETH_TYPE_NONE) out.push('eth_type(0/0xffff)'); // 802.3, as OVS
  else if (m.ethType) out.push(`eth_type(${hex4(k.ethType)}${m.ethType === 0xffff ? '' : `/${hex4(m.ethType)}`})`);
  const l3 = l3Of(k, m);
  if (l3 === 'ipv4') {
    out.push(attr('ipv4', [
      ip4('src', k.ipv4Src, m.ipv4Src), ip4('dst', k.ipv4Dst, m.ipv4Dst),
      num('proto', k.ipProto, m.ipProto, 0xff, false), num('tos', k.ipTos, m.ipTos, 0xff, true),
      num('ttl', k.ipTtl, m.ipTtl, 0xff, false), frag(k.ipFrag, m.ipFrag),
    ]));
  } else if (l3 === 'ipv6') {
    out.push(attr('ipv6', [
      ip6('src', k.ipv6Src, m.ipv6Src), ip6('dst', k.ipv6Dst, m.ipv6Dst),
      num('label', k.ipv6Label, m.ipv6Label, IPV6_LABEL_MEANINGFUL, true),
      num('proto', k.ipProto, m.ipProto, 0xff, false), num('tclass', k.ipTos, m.ipTos, 0xff, true),
      num('hlimit', k.ipTtl, m.ipTtl, 0xff, false), frag(k.ipFrag, m.ipFrag),
    ]));
  } else if (l3 === 'arp') {
    out.push(attr('arp', [
      ip4('sip', k.ipv4Src, m.ipv4Src), ip4('tip', k.ipv4Dst, m.ipv4Dst),
      num('op', k.ipProto, m.ipProto, 0xff, false),
      mac('sha', k.arpSha, m.arpSha), mac('tha', k.arpTha, m.arpTha),
    ]));
  }
  if (l3 !== 'arp') {
    const l4 = (m.ipProto !== 0 ? L4_BY_PROTO[k.ipProto] : undefined) ?? 'tcp';
    if (l4 === 'icmp' || l4 === 'icmpv6') {
      out.push(attr(l4, [
        num('type', k.tpSrc, m.tpSrc, ICMP_MEANINGFUL, false), num('code', k.tpDst, m.tpDst, ICMP_MEANINGFUL, false),
      ]));
    } else {
      out.push(attr(l4, [num('src', k.tpSrc, m.tpSrc, 0xffff, false), num('dst', k.tpDst, m.tpDst, 0xffff, false)]));
    }
    if (m.tcpFlags & TCP_FLAGS_MEANINGFUL) out.push(`tcp_flags(${formatTcpFlagsAttr(k.tcpFlags, m.tcpFlags)})`);
  }
  return out.filter((x): x is string => x !== null);
}

/** The flow (key & mask, mask) in ovs-dpctl dump-flows syntax. Never throws. */
export function formatFlow(key: FlowKey, mask: FlowMask, ports: PortNames = {}): string {
  const k = maskKey(key, mask);
  const m = mask;
  // bvs never recirculates: every flow is OVS's recirc_id(0), which ovs-dpctl prints first.
  const out: string[] = ['recirc_id(0)'];
  if (m.inPort === 0xffffffff) out.push(`in_port(${ports.names?.get(k.inPort) ?? k.inPort})`);
  else if (m.inPort) out.push(`in_port(${k.inPort}/${hexC(m.inPort)})`);
  out.push(attr('eth', [mac('src', k.ethSrc, m.ethSrc), mac('dst', k.ethDst, m.ethDst)]) ?? 'eth()');
  const rest = formatL3Up(k, m);
  const tci = k.vlanTci, tm = m.vlanTci;
  if (tm & VLAN_CFI && tci & VLAN_CFI) {
    // Tagged: the kernel's form, outer TPID then the tag, the rest nested.
    out.push('eth_type(0x8100)', `vlan(${formatVlanBody(tci, tm)})`, `encap(${rest.join(',')})`);
    return out.join(',');
  }
  if (tm & VLAN_CFI && m.ethType === 0xffff && (k.ethType === ETH_TYPE.VLAN || k.ethType === ETH_TYPE.QINQ)) {
    // A truncated tag: the ethertype is the TPID. OVS prints it with the tag's TCI, cfi=0.
    out.push(`eth_type(${hex4(k.ethType)})`, `vlan(${formatVlanBody(tci, tm)})`,
      `encap(${formatL3Up(k, { ...m, ethType: 0 }).join(',')})`);
    return out.join(',');
  }
  if (tm & VLAN_CFI) {
    // Untagged: absence is OVS's exact 0/0xffff; anything else is the short vlan(..,cfi=0).
    if (!(tci === 0 && tm === 0xffff)) out.push(`vlan(${formatVlanBody(tci, tm)})`);
  } else {
    // The tag's presence is not matched: no OVS form (the kernel always matches the TCI).
    out.push(`vlan_tci(${hex4(tci)}/${hex4(tm)})`);
  }
  out.push(...rest);
  return out.join(',');
}
