// Match codecs on hand-built TLVs: the checks OpenFlow 1.3 §7.2.3 asks for (prerequisites
// earlier in the list, no duplicate field, masks only where allowed, no value bit outside the
// mask, lengths), and what each format cannot express.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlow } from '../../src/ofproto/index.ts';
import { W } from '../../src/ofproto/flow.ts';
import { OfpError } from '../../src/openflow/errors.ts';
import {
  decodeNxMatch, decodeOf10Match, decodeOxmMatch, encodeNxMatch, encodeOf10Match, encodeOxmMatch,
} from '../../src/openflow/match.ts';
import { decodeInstructions, encodeInstructions } from '../../src/openflow/instructions.ts';

const t = suite('openflow-match');

/** One OXM TLV: class 0x8000 (or `cls`), field, value bytes, optional mask bytes. */
function tlv(field: number, value: number[], mask?: number[], cls = 0x8000): number[] {
  const len = value.length + (mask?.length ?? 0);
  const h = ((cls << 16) | (field << 9) | (mask ? 0x100 : 0) | len) >>> 0;
  return [h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff, ...value, ...(mask ?? [])];
}

/** An ofp_match (OFPMT_OXM) around TLVs, padded to 8. */
function oxm(...tlvs: number[][]): Uint8Array {
  const body = tlvs.flat();
  const len = 4 + body.length;
  const out = new Uint8Array((len + 7) & ~7);
  out.set([0, 1, len >> 8, len & 0xff, ...body]);
  return out;
}

const ETH_IP = tlv(5, [0x08, 0x00]);
const IP_SRC = tlv(11, [10, 0, 0, 1]);

function refused(f: () => unknown, name: string, what: string): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof OfpError, `${what}: ${String(e)}`);
    assert.is((e as OfpError).ofperr, name, `${what}: ${(e as OfpError).message}`);
    return;
  }
  assert.unreachable(`${what} should be refused with ${name}`);
}

t('OXM: a field before its prerequisite, or without it, is OFPBMC_BAD_PREREQ', () => {
  refused(() => decodeOxmMatch(oxm(IP_SRC)), 'OFPBMC_BAD_PREREQ', 'ipv4_src alone');
  refused(() => decodeOxmMatch(oxm(IP_SRC, ETH_IP)), 'OFPBMC_BAD_PREREQ', 'ipv4_src before eth_type');
  refused(() => decodeOxmMatch(oxm(ETH_IP, tlv(13, [0, 80]))), 'OFPBMC_BAD_PREREQ', 'tcp_dst without ip_proto');
  refused(() => decodeOxmMatch(oxm(tlv(7, [3]))), 'OFPBMC_BAD_PREREQ', 'vlan_pcp without a VLAN');
  const m = decodeOxmMatch(oxm(ETH_IP, IP_SRC)).match;
  assert.ok(m.equals(parseFlow('ip,nw_src=10.0.0.1,actions=drop').match));
});

t('OXM: duplicates, masks, value bits, unknown fields and lengths', () => {
  refused(() => decodeOxmMatch(oxm(ETH_IP, ETH_IP)), 'OFPBMC_DUP_FIELD', 'eth_type twice');
  refused(() => decodeOxmMatch(oxm(tlv(5, [0x08, 0x00], [0xff, 0x00]))), 'OFPBMC_BAD_MASK', 'eth_type with a partial mask');
  refused(() => decodeOxmMatch(oxm(ETH_IP, tlv(11, [10, 0, 0, 1], [255, 255, 255, 0]))), 'OFPBMC_BAD_WILDCARDS', 'value bit outside the mask');
  refused(() => decodeOxmMatch(oxm(tlv(6, [0x20, 0x05]))), 'OFPBMC_BAD_VALUE', 'vlan_vid with PCP bits');
  refused(() => decodeOxmMatch(oxm(ETH_IP, tlv(8, [64]))), 'OFPBMC_BAD_VALUE', 'ip_dscp of 64');
  refused(() => decodeOxmMatch(oxm(tlv(127, [1, 2]))), 'OFPBMC_BAD_FIELD', 'an unknown field');
  refused(() => decodeOxmMatch(oxm(tlv(5, [0x08, 0x00, 0x00]))), 'OFPBMC_BAD_FIELD', 'eth_type of 3 bytes (a different field, as OVS)');
  const truncated = oxm(ETH_IP);
  truncated[3] = 12; // claims 8 bytes of TLVs, has 6
  refused(() => decodeOxmMatch(truncated), 'OFPBMC_BAD_LEN', 'a truncated TLV');
  const padded = oxm(ETH_IP);
  padded[10] = 1;
  refused(() => decodeOxmMatch(padded), 'OFPBMC_BAD_LEN', 'non-zero padding');
  refused(() => decodeOxmMatch(Uint8Array.of(0, 0, 0, 4, 0, 0, 0, 0)), 'OFPBMC_BAD_TYPE', 'OFPMT_STANDARD');
});

t('OXM: vlan_vid OFPVID_NONE is "no tag" as parse.ts holds dl_vlan=0xffff; vlan_pcp also matches a VLAN', () => {
  assert.ok(decodeOxmMatch(oxm(tlv(6, [0, 0]))).match.equals(parseFlow('dl_vlan=0xffff,actions=drop').match));
  const m = decodeOxmMatch(oxm(tlv(6, [0x10, 0x0a]), tlv(7, [3]))).match;
  assert.ok(m.equals(parseFlow('dl_vlan=10,dl_vlan_pcp=3,actions=drop').match));
});

t('OXM: xreg0 (OXM_OF_PKT_REG0) is reg0 (upper half) and reg1 (lower half)', () => {
  const m = decodeOxmMatch(oxm(tlv(0, [0, 0, 0, 5, 0, 0, 0, 6], [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff], 0x8001))).match;
  assert.is(m.value[W.REG0], 5);
  assert.is(m.mask[W.REG0], 0xffffffff);
  assert.is(m.value[W.REG0 + 1], 6);
  assert.is(m.mask[W.REG0 + 1], 0xff);
});

t('nx_match: NXM_NX_COOKIE(_W) comes back aside, only where allowed, once', () => {
  const m = parseFlow('ip,nw_dst=10.1.0.0/16,actions=drop').match;
  const nxm = encodeNxMatch(m, 0x1200n, 0xff00n);
  const got = decodeNxMatch(nxm, 0, nxm.length);
  assert.ok(got.match.equals(m));
  assert.is(got.cookie, 0x1200n);
  assert.is(got.cookieMask, 0xff00n);
  const cookie = Array.from(nxm.subarray(nxm.length - 20));
  refused(() => decodeNxMatch(Uint8Array.from([...cookie, ...cookie]), 0, 40), 'OFPBMC_DUP_FIELD', 'two cookies');
  refused(() => decodeOxmMatch(oxm(cookie)), 'OFPBMC_BAD_FIELD', 'a cookie in an OXM match');
});

t('OpenFlow 1.0: wildcards and prefixes; fields without their prerequisites dropped, as OVS', () => {
  for (const text of ['tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=drop', 'in_port=3,dl_vlan=10,actions=drop', 'dl_vlan=0xffff,actions=drop', 'arp,arp_op=2,arp_tpa=10.0.0.1,actions=drop', 'icmp,icmp_type=3,actions=drop']) {
    const m = parseFlow(text).match;
    assert.ok(decodeOf10Match(encodeOf10Match(m)).equals(m), text);
  }
  const raw = encodeOf10Match(parseFlow('ip,nw_src=10.0.0.1,actions=drop').match);
  raw[3]! |= 1 << 4; // OFPFW10_DL_TYPE: now nw_src has no dl_type
  assert.is(decodeOf10Match(raw).mask[W.NW_SRC], 0);
});

t('encoding what a format cannot express throws OfpError', () => {
  refused(() => encodeOf10Match(parseFlow('reg0=1,actions=drop').match), 'OFPBMC_BAD_FIELD', 'reg0 in OpenFlow 1.0');
  refused(() => encodeOf10Match(parseFlow('ip,nw_src=10.0.0.1/255.0.255.0,actions=drop').match), 'OFPBMC_BAD_FIELD', 'a non-prefix mask in 1.0');
  const partial = parseFlow('ip,actions=drop').match; // ip_dscp is exact-only in OXM and NXM
  partial.mask[W.NW_TOS] = 0x04;
  partial.value[W.NW_TOS] = 0x04;
  refused(() => encodeOxmMatch(partial), 'OFPBMC_BAD_FIELD', 'a partial DSCP mask in OXM');
  refused(() => encodeNxMatch(partial), 'OFPBMC_BAD_FIELD', 'a partial DSCP mask in NXM');
});

t('instructions: write_metadata decodes to write_metadata before goto_table; duplicates and table 255 refused', () => {
  const wm = [0, 2, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0xff];
  const gt = [0, 1, 0, 8, 3, 0, 0, 0];
  const acts = decodeInstructions(4, Uint8Array.from([...gt, ...wm]));
  assert.equal(acts.map((a) => a.type), ['write_metadata', 'goto_table']);
  const wmd = acts[0] as Extract<(typeof acts)[0], { type: 'write_metadata' }>;
  assert.is(wmd.value, 5n);
  assert.is(wmd.mask, 0xffn);
  assert.equal(encodeInstructions(4, acts), Uint8Array.from([...wm, ...gt]));
  refused(() => decodeInstructions(4, Uint8Array.from([...gt, ...gt])), 'OFPBIC_DUP_INST', 'goto_table twice');
  refused(() => decodeInstructions(4, Uint8Array.of(0, 1, 0, 8, 255, 0, 0, 0)), 'OFPBIC_BAD_TABLE_ID', 'goto_table 255');
  refused(() => decodeInstructions(4, Uint8Array.of(0, 9, 0, 8, 0, 0, 0, 0)), 'OFPBIC_UNKNOWN_INST', 'instruction 9');
});

t.run();
