/**
 * Property tests of the ODP syntax (fast-check, ~200 runs each):
 *  - parseFlow(formatFlow(k, m)) == (k & m, m) for consistent keys and masks;
 *  - formatFlow(parseFlow(s)) is stable after one round, for any printed (k, m);
 *  - the parsers throw nothing but OdpSyntaxError, with a position inside the text;
 *  - actions and addresses round-trip.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  type DpAction, emptyKey, type FlowKey, FLOW_FIELDS, FIELD_BITS, maskKey, VLAN_CFI,
} from '../../src/datapath/flow.ts';
import {
  formatActions, formatFlow, formatIpv6, formatMac, formatIpv4, OdpSyntaxError, parseActions, parseFlow,
  parseIpv6, parseMac, parseIpv4,
} from '../../src/datapath/odp/index.ts';

const t = suite('datapath-odp-props');
const RUNS = { numRuns: 200 };

const MAX128 = (1n << 128n) - 1n;
const uint = (max: number) => fc.integer({ min: 0, max });
/** 0 (wildcard), `full` (exact) or a partial mask within `meaningful` bits. */
const maskArb = (full: number, meaningful = full) =>
  fc.oneof(fc.constant(0), fc.constant(full), fc.integer({ min: 1, max: meaningful - 1 }));
const mask128 = fc.oneof(fc.constant(0n), fc.constant(MAX128), fc.bigInt({ min: 1n, max: MAX128 - 1n }));
const vm = (max: number, full = max, meaningful = full) => fc.tuple(uint(max), maskArb(full, meaningful));

const L4_PROTO = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58 } as const;

/** Keys and masks the datapath parser and a sane ofproto can produce. */
const consistentFlow = fc.record({
  inPort: vm(0xffffffff), ethSrc: vm(2 ** 48 - 1), ethDst: vm(2 ** 48 - 1),
  vlanCase: fc.constantFrom('tagged', 'untagged', 'untaggedPartial', 'noCfi', 'truncated'),
  tpid: fc.constantFrom(0x8100, 0x88a8),
  tci: uint(0xffff), tciM: uint(0xffff),
  l3: fc.constantFrom('none', 'ipv4', 'ipv6', 'arp', 'other', 'dot3'),
  otherType: fc.oneof(vm(0xffff), fc.tuple(fc.constantFrom(0x8100, 0x88a8), maskArb(0xffff)))
    .filter(([v]) => ![0x0800, 0x86dd, 0x0806].includes(v)),
  l4: fc.constantFrom('none', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6'),
  proto: vm(0xff), tos: vm(0xff), ttl: vm(0xff),
  frag: fc.oneof(fc.tuple(uint(2), fc.constantFrom(0, 0xff)), vm(0xff)),
  v4src: vm(0xffffffff), v4dst: vm(0xffffffff),
  v6src: fc.tuple(fc.bigInt({ min: 0n, max: MAX128 }), mask128), v6dst: fc.tuple(fc.bigInt({ min: 0n, max: MAX128 }), mask128),
  label: fc.tuple(uint(0xfffff), maskArb(0xffffffff, 0xfffff)),
  sha: vm(2 ** 48 - 1), tha: vm(2 ** 48 - 1),
  tp: fc.tuple(vm(0xffff), vm(0xffff)),
  icmp: fc.tuple(fc.tuple(uint(0xff), maskArb(0xffff, 0xff)), fc.tuple(uint(0xff), maskArb(0xffff, 0xff))),
  flags: fc.tuple(uint(0xfff), maskArb(0xffff, 0xfff)),
}).map((r) => {
  const k = emptyKey(), m = emptyKey();
  const set = (f: keyof FlowKey, [v, mm]: readonly [number | bigint, number | bigint]): void => {
    (k as unknown as Record<string, unknown>)[f] = v;
    (m as unknown as Record<string, unknown>)[f] = mm;
  };
  set('inPort', r.inPort); set('ethSrc', r.ethSrc); set('ethDst', r.ethDst);
  const vlan: Record<string, [number, number]> = {
    tagged: [r.tci | VLAN_CFI, r.tciM | VLAN_CFI], untagged: [0, 0xffff],
    untaggedPartial: [r.tci & ~VLAN_CFI, r.tciM | VLAN_CFI], noCfi: [r.tci, r.tciM & ~VLAN_CFI],
  };
  if (r.vlanCase === 'truncated') {
    // A tag cut short: the ethertype is the TPID, nothing follows (bpf/lib/parse.h).
    set('vlanTci', [r.tci & ~VLAN_CFI, r.tciM | VLAN_CFI]);
    set('ethType', [r.tpid, 0xffff]);
    return { key: k, mask: m };
  }
  set('vlanTci', vlan[r.vlanCase]);
  if (r.l3 === 'dot3') set('ethType', [0x05ff, 0xffff]);
  if (r.l3 === 'other') set('ethType', r.otherType);
  if (r.l3 === 'ipv4' || r.l3 === 'ipv6') {
    set('ethType', [r.l3 === 'ipv4' ? 0x0800 : 0x86dd, 0xffff]);
    set('ipProto', r.l4 === 'none' ? r.proto : [L4_PROTO[r.l4], 0xff]);
    set('ipTos', r.tos); set('ipTtl', r.ttl); set('ipFrag', r.frag);
    if (r.l3 === 'ipv4') { set('ipv4Src', r.v4src); set('ipv4Dst', r.v4dst); }
    else { set('ipv6Src', r.v6src); set('ipv6Dst', r.v6dst); set('ipv6Label', r.label); }
    if (r.l4 === 'icmp' || r.l4 === 'icmpv6') { set('tpSrc', r.icmp[0]); set('tpDst', r.icmp[1]); }
    else if (r.l4 !== 'none') { set('tpSrc', r.tp[0]); set('tpDst', r.tp[1]); }
    if (r.l4 === 'tcp') set('tcpFlags', r.flags);
  }
  if (r.l3 === 'arp') {
    set('ethType', [0x0806, 0xffff]);
    set('ipProto', r.proto); set('ipv4Src', r.v4src); set('ipv4Dst', r.v4dst); set('arpSha', r.sha); set('arpTha', r.tha);
  }
  return { key: k, mask: m };
});

/** Any key and mask at all, every field random within its width. */
const anyFlow = fc.tuple(...FLOW_FIELDS.map((f) => {
  const bits = FIELD_BITS[f];
  if (bits === 128) return fc.tuple(fc.bigInt({ min: 0n, max: MAX128 }), mask128);
  const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  return fc.tuple(uint(max), maskArb(max));
})).map((pairs) => {
  const k = emptyKey() as unknown as Record<string, unknown>, m = emptyKey() as unknown as Record<string, unknown>;
  FLOW_FIELDS.forEach((f, i) => { k[f] = pairs[i][0]; m[f] = pairs[i][1]; });
  return { key: k as unknown as FlowKey, mask: m as unknown as FlowKey };
});

t('parseFlow(formatFlow(k, m)) gives back (k & m, m) for consistent flows', () => {
  fc.assert(fc.property(consistentFlow, ({ key, mask }) => {
    const text = formatFlow(key, mask);
    const back = parseFlow(text);
    assert.equal(back.mask, mask, text);
    assert.equal(back.key, maskKey(key, mask), text);
  }), RUNS);
});

t('formatFlow(parseFlow(s)) is stable after one round; failures are OdpSyntaxError', () => {
  fc.assert(fc.property(fc.oneof(consistentFlow, anyFlow), ({ key, mask }) => {
    const s0 = formatFlow(key, mask);
    let p: ReturnType<typeof parseFlow>;
    try {
      p = parseFlow(s0);
    } catch (e) {
      assert.instance(e, OdpSyntaxError, s0);
      return;
    }
    const s1 = formatFlow(p.key, p.mask);
    const p2 = parseFlow(s1);
    assert.is(formatFlow(p2.key, p2.mask), s1, s0);
    assert.equal(p2, p);
  }), RUNS);
});

t('a damaged flow text either parses or throws OdpSyntaxError at a position in the text', () => {
  const noise = fc.constantFrom('(', ')', ',', '=', '/', ':', '.', 'x', '0', '9', ' ', 'ipv4(', 'vlan(', 'encap(', '+', '|');
  fc.assert(fc.property(consistentFlow, fc.nat(), fc.nat(3), noise, ({ key, mask }, at, del, ins) => {
    const s = formatFlow(key, mask);
    const i = at % (s.length + 1);
    const bad = s.slice(0, i) + ins + s.slice(i + del);
    try {
      parseFlow(bad);
    } catch (e) {
      assert.instance(e, OdpSyntaxError, bad);
      const x = e as OdpSyntaxError;
      assert.ok(x.position >= 0 && x.position <= bad.length, `${bad}: ${x.message}`);
      assert.ok(x.message.startsWith(`odp: at ${x.position}, `), x.message);
    }
  }), RUNS);
});

t('random text built from the syntax\'s alphabet never throws anything but OdpSyntaxError', () => {
  const unit = fc.constantFrom(...'(),=/:.0123456789abcdefx_+-| '.split(''), 'in_port', 'eth', 'vlan', 'encap', 'ipv4', 'ipv6',
    'arp', 'tcp', 'udp', 'icmp', 'tcp_flags', 'eth_type', 'src', 'dst', 'vid', 'frag', 'no', 'userspace', 'pid', 'userdata',
    'push_vlan', 'set', 'pop_vlan', 'drop');
  fc.assert(fc.property(fc.array(unit, { maxLength: 40 }), (parts) => {
    const text = parts.join('');
    for (const parse of [parseFlow, parseActions] as Array<(s: string) => unknown>) {
      try {
        parse(text);
      } catch (e) {
        assert.instance(e, OdpSyntaxError, text);
        assert.ok((e as OdpSyntaxError).position <= text.length, text);
      }
    }
  }), { numRuns: 400 });
});

const action: fc.Arbitrary<DpAction> = fc.oneof(
  uint(0xffffffff).map((port): DpAction => ({ type: 'output', port })),
  fc.tuple(uint(0xffffffff), fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { nil: undefined }))
    .map(([pid, cookie]): DpAction => (cookie === undefined ? { type: 'userspace', pid } : { type: 'userspace', pid, cookie })),
  fc.tuple(fc.constantFrom(0x8100, 0x88a8, 0x9100), uint(0xfff), uint(7))
    .map(([tpid, vid, pcp]): DpAction => ({ type: 'push_vlan', tpid, tci: vid | (pcp << 13) })),
  fc.constant<DpAction>({ type: 'pop_vlan' }),
  fc.record({ src: uint(2 ** 48 - 1), dst: uint(2 ** 48 - 1) }, { requiredKeys: [] }).map((f): DpAction => ({ type: 'set_eth', ...f })),
  fc.record({ src: uint(0xffffffff), dst: uint(0xffffffff), tos: uint(0xff), ttl: uint(0xff) }, { requiredKeys: [] })
    .map((f): DpAction => ({ type: 'set_ipv4', ...f })),
  fc.tuple(fc.constantFrom('set_tcp', 'set_udp') as fc.Arbitrary<'set_tcp' | 'set_udp'>,
    fc.record({ src: uint(0xffff), dst: uint(0xffff) }, { requiredKeys: [] }))
    .map(([type, f]): DpAction => ({ type, ...f })),
  uint(1023).map((id): DpAction => ({ type: 'meter', id })),
);

t('parseActions(formatActions(a)) == a', () => {
  fc.assert(fc.property(fc.array(action, { maxLength: 16 }), (acts) => {
    const text = formatActions(acts);
    assert.equal(parseActions(text), acts, text);
  }), RUNS);
});

t('addresses round-trip; IPv6 text agrees with the WHATWG URL serializer (RFC 5952)', () => {
  fc.assert(fc.property(uint(2 ** 48 - 1), uint(0xffffffff), fc.bigInt({ min: 0n, max: MAX128 }), (mac, v4, v6) => {
    assert.is(parseMac(formatMac(mac)), mac);
    assert.is(parseIpv4(formatIpv4(v4)), v4);
    const s = formatIpv6(v6);
    assert.is(parseIpv6(s), v6);
    if (!s.includes('.')) assert.is(`[${s}]`, new URL(`http://[${s}]/`).hostname);
  }), RUNS);
  // Zero runs are what the URL check is about: make sure they occur.
  for (const v6 of [0n, 1n, 1n << 64n, (1n << 128n) - (1n << 64n), 0x20010db8000000000000000000000001n]) {
    const s = formatIpv6(v6);
    assert.is(parseIpv6(s), v6);
    if (!s.includes('.')) assert.is(`[${s}]`, new URL(`http://[${s}]/`).hostname);
  }
});

t.run();
