/**
 * Fuzz target of the userspace frame parser (src/datapath/frame.ts keyFromFrame), the copy of
 * bpf/lib/parse.h that trace uses. Any bytes give a key; the property adds that every field
 * fits its width in the C key (FIELD_BITS), that the frame is left as it was, and that the key,
 * being one the datapath parser produces, survives the ODP printer: with the mask of the fields
 * the key carries, parseFlow(formatFlow(k, m)) gives back k (odp/index.ts, consistent keys).
 */
import { keyFromFrame } from '../../../src/datapath/frame.ts';
import {
  exactMask, FIELD_BITS, FLOW_FIELDS, FRAG_LATER, keysEqual, type FlowField, type FlowKey, type FlowMask,
} from '../../../src/datapath/flow.ts';
import { formatFlow, parseFlow } from '../../../src/datapath/odp/index.ts';
import { arp, eth, icmp, ipv4, ipv6, tcp, udp } from '../../helpers/frames.ts';
import { byteInputs } from '../mutate.ts';
import { PropertyViolation, prototypeState, type Target } from '../target.ts';

const IN_PORT = 3;
const A = { src: 0x020000000001, dst: 0x020000000002 };
const TAGGED = { ...A, vlan: { vid: 10, pcp: 5 } };
const V6S = 0xfe800000000000000000000000000001n, V6D = 0x20010db8000000000000000000000002n;

function builtSeeds(): Uint8Array[] {
  const ip = { src: 0x0a000001, dst: 0x0a000002 };
  return [
    eth(A, 0x88cc, [1, 2, 3]), eth(A, 0x0042, new Array(46).fill(0)), eth(TAGGED, 0x0800, []),
    arp(A, 1, A.src, 0x0a000001, 0, 0x0a000002), arp(TAGGED, 2, A.src, 0x0a000001, A.dst, 0x0a000002),
    ipv4(A, { ...ip, proto: 6 }, tcp(1234, 80, 0x12)), ipv4(TAGGED, { ...ip, proto: 17, tos: 0xb8 }, udp(53, 5353)),
    ipv4(A, { ...ip, proto: 1, ttl: 1 }, icmp(8, 0)), ipv4(A, { ...ip, proto: 6, frag: 'first' }, tcp(1, 2, 2)),
    ipv4(A, { ...ip, proto: 17, frag: 'later' }, udp(1, 2)), ipv4(A, { ...ip, proto: 132 }, new Array(12).fill(7)),
    ipv6(A, V6S, V6D, 6, tcp(443, 5000, 0x18), 0x20, 64, 0x12345), ipv6(TAGGED, V6S, V6D, 17, udp(9, 9)),
    ipv6(A, V6S, V6D, 58, icmp(128, 0)),
    // Hop-by-hop, then a fragment header (first fragment), then UDP.
    ipv6(A, V6S, V6D, 0, [44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 9, ...udp(7, 7)]),
    // A fragment header with a non-zero offset: a later fragment.
    ipv6(A, V6S, V6D, 44, [17, 0, 0, 0x10, 0, 0, 0, 9, ...udp(7, 7)]),
  ];
}

function inRange(k: FlowKey): string | undefined {
  for (const f of FLOW_FIELDS) {
    const v = k[f], bits = FIELD_BITS[f];
    if (typeof v === 'bigint') {
      if (v < 0n || v >= 1n << BigInt(bits)) return `${f} = ${v}`;
    } else if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
      return `${f} = ${v}`;
    }
  }
  return undefined;
}

/** Exact on the fields a key of this protocol carries, 0 elsewhere (a consistent mask). */
function carriedMask(k: FlowKey): FlowMask {
  const m = exactMask() as unknown as Record<FlowField, number | bigint>;
  const zero = (...fs: FlowField[]): void => { for (const f of fs) m[f] = typeof m[f] === 'bigint' ? 0n : 0; };
  const v4 = k.ethType === 0x0800, v6 = k.ethType === 0x86dd, isArp = k.ethType === 0x0806;
  if (!v4 && !isArp) zero('ipv4Src', 'ipv4Dst');
  if (!v6) zero('ipv6Src', 'ipv6Dst', 'ipv6Label');
  if (!isArp) zero('arpSha', 'arpTha');
  if (!v4 && !v6) zero('ipTos', 'ipTtl', 'ipFrag');
  if (!v4 && !v6 && !isArp) zero('ipProto');
  const l4 = (v4 || v6) && k.ipFrag !== FRAG_LATER
    && ([6, 17, 132].includes(k.ipProto) || (v4 && k.ipProto === 1) || (v6 && k.ipProto === 58));
  if (!l4) zero('tpSrc', 'tpDst');
  if (!l4 || k.ipProto !== 6) zero('tcpFlags');
  return m as unknown as FlowMask;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const frame: Target<Uint8Array> = {
  name: 'frame',
  encode: hex,
  decode: (j) => Uint8Array.from(Buffer.from(j as string, 'hex')),
  builtSeeds,
  inputs: byteInputs,
  isNamed: () => false, // the frame parser has no errors: every frame has a key
  state: prototypeState,
  run(f) {
    const key = keyFromFrame(f, IN_PORT);
    const bad = inRange(key);
    if (bad !== undefined) throw new PropertyViolation(`key field out of range: ${bad}`);
    const text = formatFlow(key, carriedMask(key));
    const back = parseFlow(text);
    if (!keysEqual(back.key, key)) throw new PropertyViolation(`the key prints as "${text}", which parses back as another key`);
  },
};
