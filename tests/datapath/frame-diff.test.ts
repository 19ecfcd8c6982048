/**
 * Differential test of the two flow key parsers: bpf/lib/parse.h (the kernel's, run by
 * BPF_PROG_TEST_RUN) and src/datapath/frame.ts (its TypeScript copy, kept for ofproto/trace of a
 * raw packet). The same frames go through both: with an empty flow table every frame misses and
 * its upcall carries the kernel's key; keyFromFrame gives the copy's. The keys are compared field
 * by field, and a mismatch prints the frame in hex with the fields that differ.
 *
 * Frames: a fixed corpus (the cases of frame.test.ts and a few edges), then a few thousand drawn
 * by fast-check from a fixed seed (FRAME_DIFF_SEED / FRAME_DIFF_RUNS override it to explore):
 *
 *   frame  = dst src [tag [tag]] ethertype payload, or garbage; either possibly cut at any byte
 *   tag    = 0x8100 | 0x88a8, any TCI
 *   payload by ethertype: IPv4 (version/IHL mostly right, options, DF/MF/offset fragment fields),
 *            IPv6 (a chain of up to 10 extension headers: hop-by-hop, routing, destination
 *            options, AH, fragment with zero or non-zero offset, one that claims too much), ARP
 *            (mostly Ethernet/IPv4), or random bytes behind any ethertype (802.3 lengths too)
 *   L4     = TCP (any data offset and flags), UDP, SCTP, ICMP, ICMPv6 or junk, behind any IP
 *            protocol number (so ICMP behind IPv6 and ICMPv6 behind IPv4 occur as well)
 *
 * BPF_PROG_TEST_RUN refuses some frames: shorter than an Ethernet header, or an untagged
 * ETH_P_IP / ETH_P_IPV6 frame shorter than the fixed IPv4 / IPv6 header. Those are checked to be
 * exactly the refused ones, and not compared (the same headers cut short behind a VLAN tag are).
 */
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type FlowKey } from '../../src/datapath/flow.ts';
import { keyFromFrame } from '../../src/datapath/frame.ts';
import { keyDiff, ProgHarness, TC_ACT_SHOT } from '../bpf/harness.ts';
import { arp as arpFrame, eth, icmp, ipv4 as ipv4Frame, ipv6 as ipv6Frame, tcp as tcpSeg, udp as udpSeg } from '../helpers/frames.ts';

const t = suite('datapath-frame-diff');
const h = new ProgHarness();
const PORT = 5;
const SEED = Number(process.env.FRAME_DIFF_SEED ?? 0x62767331);
const RUNS = Number(process.env.FRAME_DIFF_RUNS ?? 4000);
/** Frames per batch of test runs: their upcalls (2 KiB each) must fit the 8 MiB ring at once. */
const BATCH = 500;

t.before(() => {
  try {
    h.start();
    h.mapIfindex(h.ifindex, PORT); // no masks: every frame misses
  } catch (err) {
    h.destroy();
    throw err;
  }
});
t.after(() => h.destroy());

// ---- generated frames ------------------------------------------------------------------------

type Arb = fc.Arbitrary<Uint8Array>;

const bytes = (min: number, max: number): Arb => fc.uint8Array({ minLength: min, maxLength: max });
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const cat = (...parts: Array<ArrayLike<number>>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
};
/** Mostly `usual`, sometimes anything from `other`. */
const mostly = <T>(usual: fc.Arbitrary<T>, other: fc.Arbitrary<T>, weight = 4) =>
  fc.oneof({ arbitrary: usual, weight }, { arbitrary: other, weight: 1 });

const IP_PROTO = mostly(fc.constantFrom(6, 17, 132, 1, 58), u8, 6);

/** TCP data offset: mostly 5, often too small (< 5 words) or with options. */
const DOFF = fc.oneof({ arbitrary: fc.constant(5), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 4 }), weight: 1 },
  { arbitrary: fc.integer({ min: 6, max: 15 }), weight: 1 });
const tcpH: Arb = fc.tuple(u16, u16, bytes(8, 8), DOFF,
  fc.integer({ min: 0, max: 0xfff }), bytes(4, 4), bytes(0, 48))
  .map(([sp, dp, seqAck, doff, flags, rest, opts]) => cat(be16(sp), be16(dp), seqAck, be16((doff << 12) | flags), rest, opts));
const udpH: Arb = fc.tuple(u16, u16, bytes(4, 4), bytes(0, 32)).map(([sp, dp, lc, p]) => cat(be16(sp), be16(dp), lc, p));
const sctpH: Arb = fc.tuple(u16, u16, bytes(8, 8), bytes(0, 32)).map(([sp, dp, vt, p]) => cat(be16(sp), be16(dp), vt, p));
const icmpH: Arb = fc.tuple(u8, u8, bytes(6, 6), bytes(0, 32)).map(([ty, code, rest, p]) => cat([ty, code], rest, p));

/** An L4 header (or junk) for IP protocol `proto`. */
function l4(proto: number): Arb {
  const junk = bytes(0, 40);
  switch (proto) {
    case 6: return mostly(tcpH, junk);
    case 17: return mostly(udpH, junk);
    case 132: return mostly(sctpH, junk);
    case 1: case 58: return mostly(icmpH, junk);
    default: return junk;
  }
}

const FRAG4 = fc.oneof({ arbitrary: fc.constantFrom(0, 0x4000), weight: 6 }, { arbitrary: fc.constant(0x2000), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 0x1fff }), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 0x1fff }).map((o) => 0x2000 | o), weight: 1 }, { arbitrary: u16, weight: 1 },
  // the edges of the offset field, and the reserved bit alone
  { arbitrary: fc.constantFrom(0x0001, 0x1000, 0x1fff, 0x3000, 0x8000, 0xa000), weight: 1 });

const ipv4: Arb = fc.record({
  version: mostly(fc.constant(4), fc.integer({ min: 0, max: 15 })),
  ihl: fc.oneof({ arbitrary: fc.constant(5), weight: 4 }, { arbitrary: fc.integer({ min: 6, max: 15 }), weight: 2 },
    { arbitrary: fc.integer({ min: 0, max: 4 }), weight: 1 }),
  tos: u8, len: u16, id: u16, frag: FRAG4, ttl: u8, proto: IP_PROTO, csum: u16, src: bytes(4, 4), dst: bytes(4, 4),
}).chain((ip) => fc.tuple(bytes(Math.max(0, ip.ihl - 5) * 4, Math.max(0, ip.ihl - 5) * 4), l4(ip.proto)).map(([opts, seg]) =>
  cat([(ip.version << 4) | ip.ihl, ip.tos], be16(ip.len), be16(ip.id), be16(ip.frag), [ip.ttl, ip.proto], be16(ip.csum), ip.src, ip.dst, opts, seg)));

/** One IPv6 extension header without its next-header byte: [type, the bytes after it]. */
const ext6ok: fc.Arbitrary<[number, Uint8Array]> = fc.oneof(
  fc.tuple(fc.constantFrom(0, 43, 60), fc.integer({ min: 0, max: 3 }))
    .chain(([type, len]) => bytes((len + 1) * 8 - 2, (len + 1) * 8 - 2).map((b): [number, Uint8Array] => [type, cat([len], b)])),
  fc.integer({ min: 0, max: 4 }).chain((len) => bytes((len + 2) * 4 - 2, (len + 2) * 4 - 2).map((b): [number, Uint8Array] => [51, cat([len], b)])),
  fc.tuple(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0x1fff })), fc.boolean(), u8, bytes(4, 4))
    .map(([off, more, res, ident]): [number, Uint8Array] => [44, cat([res], be16((off << 3) | (more ? 1 : 0)), ident)]),
);
/** Or one that claims more than the frame may hold. */
const ext6 = fc.oneof({ arbitrary: ext6ok, weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom(0, 43, 60, 51), u8, bytes(0, 6)).map(([type, len, b]): [number, Uint8Array] => [type, cat([len], b)]), weight: 1 });
/** Mostly a short chain; sometimes one longer than the 8 headers the parsers walk. */
const exts = fc.oneof({ arbitrary: fc.array(ext6, { maxLength: 3 }), weight: 4 }, { arbitrary: fc.array(ext6, { maxLength: 10 }), weight: 1 });

const ipv6: Arb = fc.record({
  version: mostly(fc.constant(6), fc.integer({ min: 0, max: 15 })),
  tc: u8, label: fc.integer({ min: 0, max: 0xfffff }), plen: u16, hop: u8, src: bytes(16, 16), dst: bytes(16, 16),
  exts, proto: IP_PROTO,
}).chain((ip) => l4(ip.proto).map((seg) => {
  // Each header's first byte names the next one: the chain ends at `proto`.
  const types = [...ip.exts.map(([type]) => type), ip.proto];
  const chain = ip.exts.map(([, body], i) => cat([types[i + 1]!], body));
  const w = ((ip.version << 28) | (ip.tc << 20) | ip.label) >>> 0;
  return cat([w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff], be16(ip.plen), [types[0]!, ip.hop], ip.src, ip.dst, ...chain, seg);
}));

const arp: Arb = fc.tuple(mostly(fc.constant(1), u16), mostly(fc.constant(0x0800), u16), mostly(fc.constant(6), u8),
  mostly(fc.constant(4), u8), mostly(fc.constantFrom(1, 2), u16), bytes(20, 20), bytes(0, 18))
  .map(([htype, ptype, hlen, plen, op, addrs, pad]) => cat(be16(htype), be16(ptype), [hlen, plen], be16(op), addrs, pad));

const tag = fc.tuple(fc.constantFrom(0x8100, 0x88a8), u16).map(([tpid, tci]) => cat(be16(tpid), be16(tci)));

const l3: fc.Arbitrary<[number, Uint8Array]> = fc.oneof(
  { arbitrary: ipv4.map((p): [number, Uint8Array] => [0x0800, p]), weight: 4 },
  { arbitrary: ipv6.map((p): [number, Uint8Array] => [0x86dd, p]), weight: 4 },
  { arbitrary: arp.map((p): [number, Uint8Array] => [0x0806, p]), weight: 2 },
  { arbitrary: fc.tuple(fc.oneof(u16, fc.integer({ min: 0, max: 0x5ff })), bytes(0, 64)), weight: 1 },
);

const tags = fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.tuple(tag), weight: 2 },
  { arbitrary: fc.tuple(tag, tag), weight: 1 });

const ethernet: Arb = fc.tuple(bytes(6, 6), bytes(6, 6), tags, l3)
  .map(([dst, src, tagged, [type, payload]]) => cat(dst, src, ...tagged, be16(type), payload));

/** A frame: Ethernet (most), or garbage; either possibly cut at any byte. */
const generated: Arb = fc.oneof({ arbitrary: ethernet, weight: 9 }, { arbitrary: bytes(0, 120), weight: 1 })
  .chain((f) => fc.oneof({ arbitrary: fc.constant(f), weight: 2 },
    { arbitrary: fc.integer({ min: 0, max: f.length }).map((n) => f.slice(0, n)), weight: 1 }));

// ---- the fixed corpus ------------------------------------------------------------------------

const E = { src: 0x020000000001, dst: 0x020000000002 };
const V6A = 0xfe800000000000000000000000000001n, V6B = 0xfe800000000000000000000000000002n;

function corpus(): Array<[string, Uint8Array]> {
  const ip = { src: 0x0a000001, dst: 0x0a000002, tos: 0x10, ttl: 33 };
  const tcp = ipv4Frame(E, { ...ip, proto: 6 }, tcpSeg(1, 2, 2));
  return [
    ['ipv4 udp', ipv4Frame(E, { ...ip, proto: 17 }, udpSeg(1111, 53))],
    ['ipv4 tcp with flags', ipv4Frame(E, { ...ip, proto: 6 }, tcpSeg(40000, 80, 0x12))],
    ['ipv4 icmp', ipv4Frame(E, { ...ip, proto: 1 }, icmp(8, 0))],
    ['ipv4 first fragment', ipv4Frame(E, { ...ip, proto: 17, frag: 'first' }, udpSeg(1, 2))],
    ['ipv4 later fragment', ipv4Frame(E, { ...ip, proto: 17, frag: 'later' }, udpSeg(1, 2))],
    ['vlan udp', ipv4Frame({ ...E, vlan: { vid: 10, pcp: 5 } }, { ...ip, proto: 17 }, udpSeg(5, 6))],
    ['arp request', arpFrame(E, 1, E.src, 0x0a000001, 0, 0x0a000002)],
    ['802.3 length', eth(E, 0x0100, [0xaa, 0xaa, 3])],
    ['tcp header cut short', tcp.slice(0, 14 + 20 + 10)],
    ['ipv4 header cut short behind a tag', eth({ ...E, vlan: { vid: 1, pcp: 0 } }, 0x0800, [...tcp.slice(14, 14 + 12)])],
    ['tag cut short', eth(E, 0x8100, [0])],
    ['ethernet header only', eth(E, 0x88b5, [])],
    ['ipv6 udp, traffic class, label', ipv6Frame(E, V6A, V6B, 17, udpSeg(546, 547), 0xb8, 255, 0x12345)],
    ['ipv6 hop-by-hop then udp', ipv6Frame(E, V6A, V6B, 0, [17, 0, 1, 4, 0, 0, 0, 0, ...udpSeg(1, 2)])],
    ['ipv6 later fragment', ipv6Frame(E, V6A, V6B, 44, [17, 0, 0x00, 0x08, 0, 0, 0, 1, ...udpSeg(1, 2)])],
    // refused by BPF_PROG_TEST_RUN:
    ['shorter than ethernet', new Uint8Array(10)],
    ['ipv6 header cut short', ipv6Frame(E, V6A, V6B, 17, udpSeg(1, 2)).slice(0, 14 + 30)],
  ];
}

// ---- the comparison --------------------------------------------------------------------------

/** What BPF_PROG_TEST_RUN refuses (EINVAL), per the header comment. */
function refusedByTestRun(f: Uint8Array): boolean {
  if (f.length < 14) return true;
  const type = (f[12]! << 8) | f[13]!;
  return (type === 0x0800 && f.length < 14 + 20) || (type === 0x86dd && f.length < 14 + 40);
}

interface Outcome { compared: number; refused: number; problems: string[]; keys: FlowKey[] }

/** Runs each frame through the program and through keyFromFrame; returns what differed. */
async function compare(frames: Array<[string, Uint8Array]>): Promise<Outcome> {
  const o: Outcome = { compared: 0, refused: 0, problems: [], keys: [] };
  for (let i = 0; i < frames.length; i += BATCH) {
    const ran: Array<[string, Uint8Array]> = [];
    for (const [name, f] of frames.slice(i, i + BATCH)) {
      const hex = Buffer.from(f).toString('hex');
      let ret: number | undefined;
      try {
        ret = h.run(f).ret;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EINVAL') throw err;
      }
      if (ret === undefined) {
        o.refused++;
        if (!refusedByTestRun(f)) o.problems.push(`${name}: BPF_PROG_TEST_RUN refused a frame the rule says it runs: ${hex}`);
        continue;
      }
      if (refusedByTestRun(f)) o.problems.push(`${name}: BPF_PROG_TEST_RUN ran a frame the rule says it refuses: ${hex}`);
      if (ret !== TC_ACT_SHOT) o.problems.push(`${name}: verdict ${ret}, not a miss: ${hex}`);
      else ran.push([name, f]);
    }
    const ups = await h.fence();
    assert.is(ups.length, ran.length, 'one upcall per frame run');
    ran.forEach(([name, f], j) => {
      const u = ups[j]!;
      assert.ok(Buffer.from(u.packet).equals(Buffer.from(f)), `upcall ${j} of the batch carries frame ${name}`);
      o.compared++;
      o.keys.push(u.key);
      const diff = keyDiff(keyFromFrame(f, PORT), u.key);
      if (diff.length > 0) o.problems.push(`${name}: ${Buffer.from(f).toString('hex')}\n    frame.ts != kernel: ${diff.join(', ')}`);
    });
  }
  return o;
}

function noProblems(o: Outcome, what: string): void {
  assert.ok(o.problems.length === 0,
    `${o.problems.length} problems in ${o.compared + o.refused} frames (${what}):\n  ${o.problems.slice(0, 20).join('\n  ')}`);
}

t('the fixed corpus: frame.ts gives the kernel\'s key', async () => {
  const o = await compare(corpus());
  noProblems(o, 'corpus');
  assert.is(o.refused, 2);
});

t(`${RUNS} generated frames: frame.ts gives the kernel's key`, async () => {
  const frames = fc.sample(generated, { seed: SEED, numRuns: RUNS }).map((f, i): [string, Uint8Array] => [`#${i}`, f]);
  const o = await compare(frames);
  noProblems(o, `seed ${SEED}`);
  // The generator reaches every layer: counted on the kernel's keys, so it cannot drift to junk.
  const has = (pred: (k: FlowKey) => boolean) => o.keys.filter(pred).length;
  const v4 = (k: FlowKey) => k.ethType === 0x0800, v6 = (k: FlowKey) => k.ethType === 0x86dd;
  const reached = {
    'ipv4 ports': has((k) => v4(k) && (k.tpSrc | k.tpDst) !== 0),
    'ipv4 later fragment': has((k) => v4(k) && k.ipFrag === 2),
    'tcp flags': has((k) => k.tcpFlags !== 0),
    'ipv6 ports': has((k) => v6(k) && (k.tpSrc | k.tpDst) !== 0),
    'ipv6 fragment': has((k) => v6(k) && k.ipFrag !== 0),
    'ipv6 walk cut short': has((k) => v6(k) && [0, 43, 60, 51, 44].includes(k.ipProto)),
    'icmpv6': has((k) => v6(k) && k.ipProto === 58 && k.tpSrc !== 0),
    'arp': has((k) => k.ethType === 0x0806 && k.arpSha !== 0),
    'vlan': has((k) => k.vlanTci !== 0),
    '802.3': has((k) => k.ethType === 0x05ff),
  };
  for (const [what, n] of Object.entries(reached)) assert.ok(n >= 10, `${what}: only ${n} of ${o.compared} frames`);
});

t.run();
