/**
 * parseFlow: ovs-dpctl flow text to a (key, mask) pair.
 *
 * Accepted: what formatFlow prints, what ovs-dpctl dump-flows prints for flows the key can
 * hold (including a leading recirc_id(0)), and the short vlan(...) form anywhere after eth().
 * Attributes may come in any order; each at most once per nesting level.
 *
 * Leniency, like OVS's odp_flow_from_string: ipv4() without eth_type, tcp() without ipv4() and
 * so on are accepted (each sets only its own fields), with one addition: an L4 attribute (or
 * tcp_flags) without an exact proto= implies it (tcp() sets proto 6/0xff), because the key has
 * no other place to remember which L4 protocol was named. What the key cannot hold or
 * what contradicts itself is rejected: an eth_type that disagrees with the L3 attribute, a
 * proto that disagrees with the L4 attribute, two L3 or two L4 attributes (they share key
 * fields), tcp_flags beside udp(), QinQ, attributes the bvs datapath does not match on.
 *
 * The returned key is masked (key & mask), as the datapath stores it.
 */
import {
  emptyKey, ETH_TYPE, type FlowField, type FlowKey, type FlowMask, maskKey, VLAN_CFI,
} from '../flow.ts';
import { OdpSyntaxError } from './errors.ts';
import { type Node, parseUintBits, splitItems, splitMask, splitNodes } from './lexer.ts';
import { fragVM, ipv4VM, ipv6VM, macVM, needValue, numVM } from './values.ts';
import {
  ETH_TYPE_NONE, ETHTYPE_BY_L3, type PortNames, IPV6_LABEL_MEANINGFUL, type L4Name, PROTO_BY_L4,
  TCP_FLAG_NAMES, TCP_FLAGS_MEANINGFUL,
} from './fields.ts';

const L3 = new Set(['ipv4', 'ipv6', 'arp']);
const L4 = new Set(['tcp', 'udp', 'sctp', 'icmp', 'icmpv6']);
const INNER = new Set([...L3, ...L4, 'eth_type', 'tcp_flags']);
const TOP = new Set([...INNER, 'in_port', 'eth', 'vlan', 'vlan_tci', 'encap', 'recirc_id']);
/** OVS key attributes with no place in the bvs key: named in the error rather than "unknown". */
const UNSUPPORTED = new Set([
  'skb_priority', 'skb_mark', 'dp_hash', 'tunnel', 'ct_state', 'ct_zone', 'ct_mark', 'ct_label',
  'ct_tuple4', 'ct_tuple6', 'mpls', 'nd', 'nd_ext', 'packet_type', 'nsh',
]);

const U16 = 0xffff, U32 = 0xffffffff;
const UFID = /^ufid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class FlowParser {
  readonly key = emptyKey();
  readonly mask = emptyKey();
  l3?: Node;
  l4?: Node;
  flags?: Node;

  set(f: FlowField, v: number | bigint, m: number | bigint): void {
    (this.key as unknown as Record<FlowField, number | bigint>)[f] = v;
    (this.mask as unknown as Record<FlowField, number | bigint>)[f] = m;
  }

  /** Runs `fields[name]` for each `name=value` item of the node, rejecting unknown/duplicate names. */
  fields(n: Node, handlers: Record<string, (text: string, pos: number, what: string) => void>): void {
    const where = `${n.name}(...)`;
    const seen = new Set<string>();
    for (const it of splitItems(n.body ?? '', n.bodyPos)) {
      // Own names only: `handlers` is an object literal, and "constructor" or "__proto__" must
      // be unknown fields, not Object's members.
      const h = Object.hasOwn(handlers, it.name) ? handlers[it.name] : undefined;
      if (!h) throw new OdpSyntaxError(it.pos, it.name, `unknown field "${it.name}" in ${where}`);
      if (seen.has(it.name)) throw new OdpSyntaxError(it.pos, it.name, `duplicate field "${it.name}" in ${where}`);
      seen.add(it.name);
      h(needValue(it, where), it.valuePos, `${n.name} ${it.name}`);
    }
  }

  num(f: FlowField, bits: number, full: number) {
    return (t: string, p: number, what: string): void => { const { v, m } = numVM(t, p, what, bits, full); this.set(f, v, m); };
  }
  mac(f: FlowField) {
    return (t: string, p: number, what: string): void => { const { v, m } = macVM(t, p, what); this.set(f, v, m); };
  }
  ip4(f: FlowField) {
    return (t: string, p: number, what: string): void => { const { v, m } = ipv4VM(t, p, what); this.set(f, v, m); };
  }
  ip6(f: FlowField) {
    return (t: string, p: number, what: string): void => { const { v, m } = ipv6VM(t, p, what); this.set(f, v, m); };
  }
  frag() {
    return (t: string, p: number): void => { const { v, m } = fragVM(t, p); this.set('ipFrag', v, m); };
  }

  /** A single `value[/mask]` body such as in_port(1) or eth_type(0x0800). */
  single(n: Node, f: FlowField, bits: number, full: number): void {
    const body = n.body ?? '';
    if (body.trim() === '') throw new OdpSyntaxError(n.bodyPos, `${n.name}()`, `missing value in ${n.name}()`);
    const { v, m } = numVM(body, n.bodyPos, n.name, bits, full);
    this.set(f, v, m);
  }

  /** An attribute that may appear after the VLAN tag (top level when untagged, else in encap). */
  inner(n: Node): void {
    const ip = { proto: this.num('ipProto', 8, 0xff), frag: this.frag() };
    switch (n.name) {
      case 'eth_type':
        this.single(n, 'ethType', 16, U16);
        // OVS prints a frame with an 802.3 length field (its FLOW_DL_TYPE_NONE, 0x05ff, which
        // the bvs parser stores too) as eth_type(0/0xffff): the kernel key has no ethertype.
        if (this.key.ethType === 0 && this.mask.ethType === U16 && (n.body ?? '').includes('/')) this.key.ethType = ETH_TYPE_NONE;
        return;
      case 'ipv4':
        this.setL3(n);
        this.fields(n, { src: this.ip4('ipv4Src'), dst: this.ip4('ipv4Dst'), ...ip,
          tos: this.num('ipTos', 8, 0xff), ttl: this.num('ipTtl', 8, 0xff) });
        return;
      case 'ipv6':
        this.setL3(n);
        this.fields(n, { src: this.ip6('ipv6Src'), dst: this.ip6('ipv6Dst'), ...ip,
          label: this.label(), tclass: this.num('ipTos', 8, 0xff), hlimit: this.num('ipTtl', 8, 0xff) });
        return;
      case 'arp':
        this.setL3(n);
        this.fields(n, { sip: this.ip4('ipv4Src'), tip: this.ip4('ipv4Dst'), op: this.num('ipProto', 8, 0xff),
          sha: this.mac('arpSha'), tha: this.mac('arpTha') });
        return;
      case 'tcp': case 'udp': case 'sctp':
        this.setL4(n);
        this.fields(n, { src: this.num('tpSrc', 16, U16), dst: this.num('tpDst', 16, U16) });
        return;
      case 'icmp': case 'icmpv6':
        this.setL4(n);
        this.fields(n, { type: this.num('tpSrc', 8, U16), code: this.num('tpDst', 8, U16) });
        return;
      case 'tcp_flags':
        this.flags = n;
        this.tcpFlags(n);
        return;
    }
  }

  label() {
    return (t: string, p: number, what: string): void => {
      const { v, m } = numVM(t, p, what, 20, U32);
      this.set('ipv6Label', v, m === U32 ? U32 : m & IPV6_LABEL_MEANINGFUL);
    };
  }

  setL3(n: Node): void {
    if (this.l3) throw new OdpSyntaxError(n.pos, n.name, `${n.name}(...) conflicts with ${this.l3.name}(...): one L3 attribute per flow`);
    this.l3 = n;
  }
  setL4(n: Node): void {
    if (this.l4) throw new OdpSyntaxError(n.pos, n.name, `${n.name}(...) conflicts with ${this.l4.name}(...): one L4 attribute per flow`);
    this.l4 = n;
  }

  /** tcp_flags(syn|ack), tcp_flags(+syn-ack), tcp_flags(0x012/0x0ff) (OVS's parse_odp_flags). */
  tcpFlags(n: Node): void {
    const body = (n.body ?? '').trim();
    const pos = n.bodyPos + ((n.body ?? '').length - (n.body ?? '').trimStart().length);
    if (body === '') throw new OdpSyntaxError(n.bodyPos, 'tcp_flags()', 'missing value in tcp_flags()');
    if (body.includes('/')) {
      const { v, m } = numVM(body, pos, 'tcp_flags', 12, U16);
      this.set('tcpFlags', v, m);
      return;
    }
    const byName = new Map(TCP_FLAG_NAMES.map(([bit, name]) => [name, bit]));
    if (body[0] === '+' || body[0] === '-') {
      let v = 0, m = 0;
      const re = /([+-])([^+-]*)/g;
      for (let r = re.exec(body); r; r = re.exec(body)) {
        const bit = byName.get(r[2]);
        const at = pos + r.index;
        if (bit === undefined) throw new OdpSyntaxError(at, r[0], `unknown TCP flag "${r[2]}" in tcp_flags(...)`);
        if (m & bit) throw new OdpSyntaxError(at, r[0], `TCP flag "${r[2]}" given twice in tcp_flags(...)`);
        m |= bit;
        if (r[1] === '+') v |= bit;
      }
      this.set('tcpFlags', v, m === TCP_FLAGS_MEANINGFUL ? U16 : m);
      return;
    }
    let v = 0, off = 0;
    for (const word of body.split('|')) {
      const at = pos + off;
      off += word.length + 1;
      const bit = byName.get(word);
      v |= bit ?? parseUintBits(word, at, 'tcp_flags', 12);
    }
    this.set('tcpFlags', v, U16);
  }

  /** vlan(vid=..,pcp=..,cfi=..): OVS starts from "tagged, nothing else matched" (CFI/CFI). */
  vlan(n: Node): void {
    let tci = VLAN_CFI, mask = VLAN_CFI;
    const field = (shift: number, bits: number) => (t: string, p: number, what: string): void => {
      const full = 2 ** bits - 1;
      const { v, m } = numVM(t, p, what, bits, full);
      tci = (tci & ~(full << shift)) | (v << shift);
      mask = (mask & ~(full << shift)) | (m << shift);
    };
    this.fields(n, { vid: field(0, 12), pcp: field(13, 3), cfi: field(12, 1) });
    this.set('vlanTci', tci, mask);
  }

  /** Cross-attribute checks, once everything is read. */
  check(): void {
    const { key, mask } = this;
    if (this.l3 && mask.ethType === U16) {
      const want = ETHTYPE_BY_L3[this.l3.name as keyof typeof ETHTYPE_BY_L3];
      if (key.ethType !== want) {
        throw new OdpSyntaxError(this.l3.pos, this.l3.name, `${this.l3.name}(...) contradicts eth_type(0x${key.ethType.toString(16).padStart(4, '0')})`);
      }
    }
    // L4 fields (and tcp_flags, which implies tcp) exist only under IPv4 or IPv6: with an exact
    // eth_type of another protocol they contradict it, and would print as ipv4(...) besides.
    const l4 = this.l4 ?? this.flags;
    if (l4 && mask.ethType === U16 && key.ethType !== ETH_TYPE.IPV4 && key.ethType !== ETH_TYPE.IPV6 && this.l3?.name !== 'arp') {
      const name = l4 === this.flags ? 'tcp_flags' : l4.name;
      throw new OdpSyntaxError(l4.pos, name, `${name}(...) contradicts eth_type(0x${key.ethType.toString(16).padStart(4, '0')}): L4 fields need IPv4 or IPv6`);
    }
    if (this.l4 && this.l3?.name === 'arp') {
      throw new OdpSyntaxError(this.l4.pos, this.l4.name, `${this.l4.name}(...) cannot follow arp(...)`);
    }
    if (this.l4 && this.l3 && mask.ipProto === 0xff) {
      const want = PROTO_BY_L4[this.l4.name as L4Name];
      if (key.ipProto !== want) throw new OdpSyntaxError(this.l4.pos, this.l4.name, `${this.l4.name}(...) contradicts proto=${key.ipProto}`);
    }
    // An L4 attribute without proto= implies its protocol: its fields mean nothing under
    // another one, and the kernel (match_validate) would demand an exact proto anyway.
    if (this.l4 && mask.ipProto === 0) this.set('ipProto', PROTO_BY_L4[this.l4.name as L4Name], 0xff);
    if (this.flags && !this.l4 && mask.ipProto === 0 && this.l3?.name !== 'arp') this.set('ipProto', 6, 0xff);
    if (this.flags) {
      if (this.l4 && this.l4.name !== 'tcp') throw new OdpSyntaxError(this.flags.pos, 'tcp_flags', `tcp_flags(...) conflicts with ${this.l4.name}(...)`);
      if (this.l3?.name === 'arp') throw new OdpSyntaxError(this.flags.pos, 'tcp_flags', 'tcp_flags(...) cannot follow arp(...)');
      if (this.l3 && mask.ipProto === 0xff && key.ipProto !== 6) {
        throw new OdpSyntaxError(this.flags.pos, 'tcp_flags', `tcp_flags(...) contradicts proto=${key.ipProto}`);
      }
    }
  }
}

function checkUnique(nodes: Node[], allowed: Set<string>, where: string): Map<string, Node> {
  const seen = new Map<string, Node>();
  for (const n of nodes) {
    if (n.body === undefined) throw new OdpSyntaxError(n.end, n.name, `expected "(" after "${n.name}"`);
    if (!allowed.has(n.name)) {
      if (UNSUPPORTED.has(n.name)) throw new OdpSyntaxError(n.pos, n.name, `attribute "${n.name}" is not supported by the bvs datapath`);
      if (TOP.has(n.name)) throw new OdpSyntaxError(n.pos, n.name, `"${n.name}" is not allowed ${where}`);
      throw new OdpSyntaxError(n.pos, n.name, `unknown attribute "${n.name}"`);
    }
    const prev = seen.get(n.name);
    if (prev) throw new OdpSyntaxError(n.pos, n.name, `duplicate attribute "${n.name}" (first at ${prev.pos})`);
    seen.set(n.name, n);
  }
  return seen;
}

/** Parses ovs-dpctl flow syntax. Throws OdpSyntaxError naming the offending token. */
export function parseFlow(text: string, ports: PortNames = {}): { key: FlowKey; mask: FlowMask } {
  const p = new FlowParser();
  // ovs-dpctl may print a flow's UFID first ("ufid:UUID "); like OVS, skip it.
  const top = splitNodes(text, 0).filter((n, i) => !(i === 0 && n.body === undefined && UFID.test(n.name)));
  const at = checkUnique(top, TOP, 'here');
  const rid = at.get('recirc_id');
  if (rid) {
    // ovs-dpctl prints recirc_id(0) first; bvs never recirculates, so only 0 is meaningful.
    const { v, m } = splitMask(rid.body ?? '', rid.bodyPos);
    if (parseUintBits(v, rid.bodyPos, 'recirc_id', 32) !== 0 || m !== undefined) {
      throw new OdpSyntaxError(rid.bodyPos, rid.body ?? '', 'recirc_id other than 0 is not supported (bvs does not recirculate)');
    }
  }
  const inPort = at.get('in_port');
  const portNo = inPort ? ports.numbers?.get((inPort.body ?? '').trim()) : undefined;
  if (portNo !== undefined) p.set('inPort', portNo, U32);
  else if (inPort) p.single(inPort, 'inPort', 32, U32);
  const eth = at.get('eth');
  if (eth) p.fields(eth, { src: p.mac('ethSrc'), dst: p.mac('ethDst') });
  const vlan = at.get('vlan'), vlanTci = at.get('vlan_tci'), encap = at.get('encap');
  if (vlan && vlanTci) throw new OdpSyntaxError(vlanTci.pos, 'vlan_tci', 'vlan_tci(...) conflicts with vlan(...)');
  if (vlan) p.vlan(vlan);
  else if (vlanTci) p.single(vlanTci, 'vlanTci', 16, U16);
  else p.set('vlanTci', 0, U16); // As the kernel: no VLAN attribute means exactly untagged.

  const ethType = at.get('eth_type');
  const tpid = ethType && tpidOf(ethType);
  // With vlan_tci(...), eth_type is a plain value; otherwise 0x8100/0x88a8 is a tag's TPID.
  const isTpid = (tpid === ETH_TYPE.VLAN || tpid === ETH_TYPE.QINQ) && !vlanTci;
  if (ethType && isTpid && !vlan && !encap) {
    throw new OdpSyntaxError(ethType.pos, 'eth_type', `eth_type(${ethType.body}) needs vlan(...)`);
  }
  if (encap && vlanTci) throw new OdpSyntaxError(vlanTci.pos, 'vlan_tci', 'vlan_tci(...) cannot be used with encap(...)');
  if (encap && ethType && !isTpid) {
    throw new OdpSyntaxError(ethType.bodyPos, ethType.body ?? '', 'a VLAN-tagged flow needs eth_type(0x8100) before encap(...)');
  }
  // OVS 2.x printed a tag with only CFI matched as eth_type(0x8100),encap(...): vlan() implied.
  if (encap && !vlan) p.set('vlanTci', VLAN_CFI, VLAN_CFI);
  // eth_type(0x8100),vlan(..,cfi=0): OVS's form for a truncated tag, where the key's ethertype
  // is the TPID itself and nothing follows.
  const truncated = isTpid && !(p.key.vlanTci & VLAN_CFI);
  if (truncated) p.set('ethType', tpid, U16);
  let inner: Node[];
  if (encap) {
    for (const n of top) {
      if (INNER.has(n.name) && n !== ethType) {
        throw new OdpSyntaxError(n.pos, n.name, `${n.name}(...) must be inside encap(...) in a VLAN-tagged flow`);
      }
    }
    inner = splitNodes(encap.body ?? '', encap.bodyPos);
    const qinq = inner.find((n) => n.name === 'vlan' || n.name === 'encap');
    if (qinq) throw new OdpSyntaxError(qinq.pos, qinq.name, 'a second VLAN tag (QinQ) is not supported by the bvs key');
    inner = [...checkUnique(inner, INNER, 'inside encap(...)').values()];
  } else {
    // Untagged, or the short vlan(...) form: eth_type is the inner type unless it is the TPID.
    inner = top.filter((n) => INNER.has(n.name) && !(n === ethType && isTpid));
  }
  for (const n of inner) {
    if (truncated && n.name === 'eth_type') {
      throw new OdpSyntaxError(n.pos, 'eth_type', 'a truncated VLAN header (cfi=0) has no inner eth_type');
    }
    p.inner(n);
  }
  p.check();
  return { key: maskKey(p.key, p.mask), mask: p.mask };
}

/** The exact value of an eth_type(...) node, or undefined when it is masked. */
function tpidOf(n: Node): number | undefined {
  const { v, vPos, m } = splitMask(n.body ?? '', n.bodyPos);
  if (m !== undefined) return undefined;
  return parseUintBits(v, vPos, 'eth_type', 16);
}

