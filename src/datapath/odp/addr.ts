/**
 * Text forms of link and network addresses, as Open vSwitch prints them.
 *
 * Numbers are host-order values as FlowKey stores them: a MAC is a 48-bit number, an IPv4
 * address an unsigned 32-bit number, an IPv6 address a 128-bit bigint.
 *
 * IPv6 output follows glibc's inet_ntop (which OVS calls): RFC 5952 §4 (lowercase, no leading
 * zeros, the longest run of two or more zero groups becomes "::", the first run on a tie), plus
 * glibc's dotted-quad tail for ::a.b.c.d (six zero groups) and ::ffff:a.b.c.d (RFC 5952 §5).
 * Parsers throw AddressSyntaxError; callers with a position (the ODP parser) rethrow their own.
 */

export class AddressSyntaxError extends Error {
  override name = 'AddressSyntaxError';
  constructor(readonly input: string, what: string) {
    super(`${what}: "${input}"`);
  }
}

const HEX2 = (n: number): string => n.toString(16).padStart(2, '0');

/** 00:11:22:33:44:55 (lowercase, two digits per octet). */
export function formatMac(mac: number): string {
  const hi = Math.floor(mac / 2 ** 32);
  const lo = mac >>> 0;
  return [hi >>> 8 & 0xff, hi & 0xff, lo >>> 24, lo >>> 16 & 0xff, lo >>> 8 & 0xff, lo & 0xff]
    .map(HEX2).join(':');
}

/** Six ':'-separated octets of one or two hex digits each (OVS's ETH_ADDR_SCAN_FMT). */
export function parseMac(text: string): number {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new AddressSyntaxError(text, 'bad MAC address');
  }
  return parts.reduce((acc, p) => acc * 256 + parseInt(p, 16), 0);
}

/** Dotted quad. */
export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${ip >>> 16 & 0xff}.${ip >>> 8 & 0xff}.${ip & 0xff}`;
}

/** Dotted quad, each octet decimal 0..255 without leading zeros (no octal surprises). */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
    throw new AddressSyntaxError(text, 'bad IPv4 address');
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** The netmask of a /len prefix (0..32). */
export function ipv4PrefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

const MAX128 = (1n << 128n) - 1n;

/** The mask of a /len IPv6 prefix (0..128). */
export function ipv6PrefixMask(len: number): bigint {
  return len === 0 ? 0n : (MAX128 >> BigInt(128 - len)) << BigInt(128 - len);
}

/** RFC 5952 text, byte for byte what glibc's inet_ntop prints. */
export function formatIpv6(ip: bigint): string {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((ip >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero groups, first on a tie; a single zero group is not compressed.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    // glibc: an IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d) tail is dotted.
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIpv4(Number(ip & 0xffffffffn));
      break;
    }
    out += w[i].toString(16) + (i < 7 ? ':' : '');
  }
  return out;
}

/** RFC 4291 §2.2 text forms: full, "::"-compressed, and with a dotted-quad tail. */
export function parseIpv6(text: string): bigint {
  const bad = (): never => { throw new AddressSyntaxError(text, 'bad IPv6 address'); };
  let s = text;
  if (s.includes('.')) {
    // A dotted-quad tail stands for the last two groups: rewrite it as hex and parse on.
    const lastColon = s.lastIndexOf(':');
    if (lastColon < 0) bad();
    let v4 = 0;
    try { v4 = parseIpv4(s.slice(lastColon + 1)); } catch { bad(); }
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const groups = (h: string): number[] => {
    if (h === '') return [];
    return h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const explicit = head.length + rest.length;
  let all: number[];
  if (halves.length === 2) {
    if (explicit > 7) bad();
    all = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  } else {
    all = head;
    if (all.length !== 8) bad();
  }
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}
