/**
 * The ODP flow syntax: the text ovs-dpctl prints and reads for datapath flows and actions
 * (OVS lib/odp-util.c), over bvs's FlowKey/FlowMask/DpAction (src/datapath/flow.ts).
 * Pure TypeScript; used by `bvs dpctl` and by ofproto (trace, megaflow logging).
 *
 * Contract
 *  - formatFlow(key, mask) prints key & mask like `ovs-dpctl dump-flows` (non-verbose); it
 *    never throws. parseFlow(text) returns a masked key and its mask; for every consistent
 *    (key, mask), parseFlow(formatFlow(k, m)) gives back (k & m, m), and
 *    formatFlow(parseFlow(s)) is stable after one round. "Consistent" means what the datapath
 *    parser can produce: L3 fields under their eth_type, L4 fields under their ip proto, and
 *    exact masks written as all ones of the FlowKey field (fieldFullMask). Masks on bits a
 *    field cannot carry (the high byte of an ICMP type in tp_src, TCP flag bits above 12, flow
 *    label bits above 20) are not printed, and parsing an exact value sets all of the field.
 *  - parseActions/formatActions: ovs-dpctl's action list; [] is "drop".
 *  - Port names (`--names`): every function takes an optional PortNames; an exact in_port and
 *    output actions print by name, and names are accepted where numbers are.
 *  - Errors: OdpSyntaxError with position (0-based offset in the caller's text) and token.
 *
 * VLAN representation (the key holds the inner ethertype in ethType and the tag in vlanTci,
 * VLAN_CFI set when tagged; there is no TPID and no second tag):
 *  1. Tagged (CFI set in key and mask): OVS's kernel form,
 *       eth(...),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(...),...)
 *     vid/pcp printed as OVS's format_vlan_tci does (vid=10/0xff0 when partial).
 *  2. Untagged, exactly (vlanTci 0, mask 0xffff): no vlan attribute at all. As in the kernel,
 *     which always matches the whole TCI, a flow text without vlan()/vlan_tci() means
 *     "untagged only", whatever else it says. `eth_type(0x0800)` alone is untagged IPv4.
 *  3. Other masks with CFI set but the tag bit 0 in the key: the short form
 *     vlan(vid=0,cfi=0), after eth() (OVS's own format_vlan_tci output for such a TCI).
 *  4. A mask without the CFI bit (tag presence not matched, e.g. fully wildcarded): a bvs-only
 *     attribute vlan_tci(0x0000/0x0000) after eth(); OVS has no form for it because the kernel
 *     cannot express it.
 *  5. A truncated tag (the datapath's key: vlan_tci 0, eth_type = TPID 0x8100/0x88a8) prints as
 *     OVS does: eth_type(0x8100),vlan(vid=0,pcp=0,cfi=0),encap().
 *  The short form vlan(vid=10) without encap() is accepted anywhere after eth(); it means the
 *  same as the tagged OVS form (its eth_type, if any, is then the inner one). An outer
 *  eth_type(0x88a8) is accepted as a TPID; the key keeps no TPID, so tags print as 0x8100.
 *  For dump-flows output identical to OVS, megaflows should match vlan_tci exactly (mask
 *  0xffff, or CFI plus the vid/pcp bits looked at) as OVS's kernel datapath always does.
 *
 * Other OVS conventions kept: every flow prints recirc_id(0) first (bvs never recirculates, so
 * its flows are OVS's recirc_id 0), eth() is always printed, an 802.3 frame (eth_type 0x05ff,
 * OVS's FLOW_DL_TYPE_NONE) prints as eth_type(0/0xffff), a leading ufid:UUID is skipped.
 *
 * ARP: op lives in ipProto, sip/tip in ipv4Src/Dst; printed as arp(sip,tip,op,sha,tha) and
 * never as ipv4(). ICMP type/code live in tpSrc/tpDst and print as icmp(type,code).
 *
 * Files: lexer.ts (nodes, items, numbers) → values.ts (value/mask notations) →
 * key-parse.ts / key-format.ts (flows) and actions.ts; fields.ts holds the names both sides
 * share; addr.ts the address text forms other modules reuse.
 */
export { OdpSyntaxError } from './errors.ts';
export type { PortNames } from './fields.ts';
export { parseFlow } from './key-parse.ts';
export { formatFlow } from './key-format.ts';
export { parseActions, formatActions } from './actions.ts';
export {
  formatMac, parseMac, formatIpv4, parseIpv4, formatIpv6, parseIpv6, ipv4PrefixMask, ipv6PrefixMask,
  AddressSyntaxError,
} from './addr.ts';
