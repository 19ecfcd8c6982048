/**
 * Input generators shared by the fuzz targets: random text and bytes, and mutations of a
 * valid corpus (the seeds). Everything is a fast-check arbitrary, so a failing input shrinks
 * to a small one before it is recorded: a mutation is a list of edit operations whose
 * positions are plain integers taken modulo the current length.
 *
 * The dictionaries always include JavaScript's inherited property names: a parser that looks a
 * user token up in a plain object finds "constructor" or "__proto__" there (issue 9, D5).
 */
import fc from 'fast-check';

/** Names every plain object answers for, and a few that arrays and functions add. */
export const INHERITED_NAMES: readonly string[] = [
  ...Object.getOwnPropertyNames(Object.prototype),
  'prototype', 'length', 'name', 'caller', 'arguments', 'then', 'toJSON', 'size', 'get', 'has', 'map',
];

/** Numbers at the edges of the widths the parsers check, and forms they must refuse. */
export const EDGE_NUMBERS: readonly string[] = [
  '0', '1', '7', '8', '255', '256', '4095', '4096', '65535', '65536', '4294967295', '4294967296',
  '18446744073709551615', '18446744073709551616', '9007199254740993', '340282366920938463463374607431768211456',
  '0x0', '0xff', '0xffff', '0x10000', '0xffffffff', '0x100000000', '0xffffffffffffffff', '0x10000000000000000',
  '0x', '0X1', '00', '01', '-1', '+1', '1.5', '1e3', '1e400', 'NaN', 'Infinity', '0b1', '0o7', ' 1', '1 ',
  '9'.repeat(40), `0x${'f'.repeat(40)}`,
];

/** Characters that structure the flow syntaxes, and some that should never appear in them. */
const SYNTAX_CHARS = [',', '=', ':', '(', ')', '[', ']', '.', '/', '-', '>', ' ', '\t', '\n', '+', '|', '_', '0', 'x', '\0', '\u00e9', '\u{1f600}', '\ud800'];

/** Words of the seeds (identifiers and numbers), for mutations that speak the syntax. */
export function wordsOf(seeds: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of seeds) for (const w of s.split(/[^A-Za-z0-9_]+/)) if (w) out.add(w);
  return [...out];
}

/** A token: a word of the seeds, an inherited name, an edge number or a syntax fragment. */
export function tokenArb(words: readonly string[], fragments: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...words) },
    { weight: 2, arbitrary: fc.constantFrom(...INHERITED_NAMES) },
    { weight: 2, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
    { weight: 2, arbitrary: fc.constantFrom(...SYNTAX_CHARS, '->', '..', '[]', '()', ...fragments) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  );
}

/** Random text: characters weighted towards the syntax, or a soup of tokens and separators. */
export function randomText(words: readonly string[], fragments: readonly string[] = []): fc.Arbitrary<string> {
  const unit = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SYNTAX_CHARS) },
    { weight: 3, arbitrary: fc.constantFrom(...'abcdefilnoprstuvxy0123456789') },
    // Any code point (lone surrogates too). Not fc.string's 'binary' unit, whose reverse map
    // of 1.1M code points costs seconds to build.
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
  );
  const sep = fc.constantFrom(',', '=', ':', '(', ')', ' ', '->', '[', ']', '/', '..', '', ', ');
  return fc.oneof(
    fc.string({ unit, maxLength: 120 }),
    fc.array(fc.tuple(tokenArb(words, fragments), sep), { maxLength: 24 }).map((ps) => ps.map(([t, s]) => t + s).join('')),
  );
}

type TextOp =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace'; at: number; len: number; text: string }
  | { op: 'duplicate'; at: number; len: number; to: number }
  | { op: 'splice'; at: number; from: number; len: number }
  | { op: 'number'; which: number; text: string }
  | { op: 'repeat'; at: number; text: string; n: number }
  | { op: 'case'; at: number; len: number };

const REPEATS = fc.oneof(
  { weight: 10, arbitrary: fc.constant(2) }, { weight: 5, arbitrary: fc.constant(50) },
  { weight: 2, arbitrary: fc.constant(1000) }, { weight: 1, arbitrary: fc.constant(12000) },
);

function textOpArb(tok: fc.Arbitrary<string>): fc.Arbitrary<TextOp> {
  const at = fc.nat(), len = fc.integer({ min: 1, max: 12 });
  return fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at, len }),
    fc.record({ op: fc.constant('insert' as const), at, text: tok }),
    fc.record({ op: fc.constant('replace' as const), at, len, text: tok }),
    fc.record({ op: fc.constant('duplicate' as const), at, len, to: at }),
    fc.record({ op: fc.constant('splice' as const), at, from: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('number' as const), which: fc.nat(), text: fc.constantFrom(...EDGE_NUMBERS) }),
    // Long inputs: deep nesting, long lists, long numbers. The longest (~100 KB, beyond the
    // bus's 64 KiB flow text) are rare but many enough per run to show quadratic work as > 1 s.
    fc.record({ op: fc.constant('repeat' as const), at, text: fc.constantFrom('(', ')', ',', '((', 'a,', '9', 'output:1,', '['), n: REPEATS }),
    fc.record({ op: fc.constant('case' as const), at, len }),
  );
}

function applyTextOp(s: string, o: TextOp, donors: readonly string[]): string {
  const at = s.length === 0 || !('at' in o) ? 0 : o.at % (s.length + 1);
  switch (o.op) {
    case 'delete': return s.slice(0, at) + s.slice(at + o.len);
    case 'insert': return s.slice(0, at) + o.text + s.slice(at);
    case 'replace': return s.slice(0, at) + o.text + s.slice(at + o.len);
    case 'duplicate': { const piece = s.slice(at, at + o.len); const to = o.to % (s.length + 1); return s.slice(0, to) + piece + s.slice(to); }
    case 'splice': {
      // Crossover: a piece of another seed, so valid parts meet in new places.
      const d = donors[o.from % donors.length]!;
      const from = d.length === 0 ? 0 : (o.from >>> 3) % d.length;
      return s.slice(0, at) + d.slice(from, from + o.len) + s.slice(at);
    }
    case 'number': {
      const nums = [...s.matchAll(/0x[0-9a-fA-F]+|\d+/g)];
      if (nums.length === 0) return s;
      const m = nums[o.which % nums.length]!;
      return s.slice(0, m.index) + o.text + s.slice(m.index! + m[0].length);
    }
    case 'repeat': return s.slice(0, at) + o.text.repeat(o.n) + s.slice(at);
    case 'case': {
      const piece = s.slice(at, at + o.len);
      const flipped = piece === piece.toUpperCase() ? piece.toLowerCase() : piece.toUpperCase();
      return s.slice(0, at) + flipped + s.slice(at + o.len);
    }
  }
}

/** Splits at commas and white space outside parentheses: "a,b(c,d) e" -> a, b(c,d), e. */
export function topLevelParts(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (i === s.length || (depth === 0 && (c === ',' || c === ' '))) {
      if (i > start) out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

/**
 * New inputs from the seeds' parts (mostly valid ones, so that printing and re-parsing get
 * exercised): a shuffled pick of the parts before `actions=`, then, when the seeds have
 * actions, `actions=` and a pick of the action parts.
 */
export function recombined(seeds: readonly string[]): fc.Arbitrary<string> {
  const head: string[] = [], acts: string[] = [];
  for (const seed of seeds) {
    let inActions = false;
    for (const p of topLevelParts(seed)) {
      const m = /^actions?[=:](.*)$/.exec(p);
      if (m) { inActions = true; if (m[1]) acts.push(m[1]); continue; }
      (inActions ? acts : head).push(p);
    }
  }
  const pick = (pool: string[], min: number): fc.Arbitrary<string[]> =>
    pool.length ? fc.shuffledSubarray([...new Set(pool)], { minLength: min, maxLength: 6 }) : fc.constant([]);
  return fc.tuple(pick(head, acts.length ? 0 : 1), pick(acts, 1), fc.constantFrom(',', ', ', ' '))
    .map(([h, a, sep]) => (acts.length ? [...h, `actions=${a.join(',')}`] : h).join(sep));
}

/** A seed (or a recombination of seeds) with 1..6 edits, mostly few. */
export function mutatedText(seeds: readonly string[], words: readonly string[], fragments: readonly string[] = []): fc.Arbitrary<string> {
  const base = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...seeds) }, { weight: 1, arbitrary: recombined(seeds) });
  const ops = fc.oneof(
    { weight: 3, arbitrary: fc.array(textOpArb(tokenArb(words, fragments)), { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.array(textOpArb(tokenArb(words, fragments)), { minLength: 1, maxLength: 6 }) },
  );
  return fc.tuple(base, ops).map(([seed, list]) => list.reduce((s, o) => applyTextOp(s, o, seeds), seed));
}

/** Random text, recombined seeds, and mutations of both (most). */
export function textInputs(seeds: readonly string[], fragments: readonly string[] = []): fc.Arbitrary<string> {
  const words = wordsOf(seeds);
  return fc.oneof(
    { weight: 1, arbitrary: randomText(words, fragments) },
    { weight: 2, arbitrary: recombined(seeds) },
    { weight: 4, arbitrary: mutatedText(seeds, words, fragments) },
  );
}

type ByteOp =
  | { op: 'set'; at: number; v: number }
  | { op: 'set16'; at: number; v: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number };

/** Values that steer a frame parser: versions, header lengths, ethertypes, protocols. */
const EDGE_BYTES = [0, 1, 4, 5, 6, 0x0f, 0x11, 0x2b, 0x2c, 0x32, 0x33, 0x3a, 0x3c, 0x40, 0x45, 0x4f, 0x5f, 0x60, 0x7f, 0x80, 0x84, 0xff];
const EDGE_U16 = [0, 1, 0x05ff, 0x0600, 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x8035, 0x2000, 0x1fff, 0x3fff, 0xffff];

function byteOpArb(): fc.Arbitrary<ByteOp> {
  const at = fc.nat();
  return fc.oneof(
    fc.record({ op: fc.constant('set' as const), at, v: fc.oneof(fc.constantFrom(...EDGE_BYTES), fc.integer({ min: 0, max: 255 })) }),
    fc.record({ op: fc.constant('set16' as const), at, v: fc.oneof(fc.constantFrom(...EDGE_U16), fc.integer({ min: 0, max: 0xffff })) }),
    fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('truncate' as const), at }),
    fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 16 }) }),
  );
}

function applyByteOp(f: Uint8Array, o: ByteOp): Uint8Array {
  const n = f.length;
  const at = n === 0 ? 0 : o.at % n;
  switch (o.op) {
    case 'set': { if (!n) return f; const c = f.slice(); c[at] = o.v; return c; }
    case 'set16': { if (n < 2) return f; const c = f.slice(); const i = Math.min(at, n - 2); c[i] = o.v >> 8; c[i + 1] = o.v & 0xff; return c; }
    case 'flip': { if (!n) return f; const c = f.slice(); c[at]! ^= 1 << o.bit; return c; }
    case 'truncate': return f.slice(0, at);
    case 'insert': { const c = new Uint8Array(n + o.bytes.length); c.set(f.subarray(0, at)); c.set(o.bytes, at); c.set(f.subarray(at), at + o.bytes.length); return c; }
    case 'delete': return Uint8Array.from([...f.subarray(0, at), ...f.subarray(at + o.len)]);
  }
}

/** Random bytes one part in four, mutated seed frames three parts in four. */
export function byteInputs(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 160 }) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(byteOpArb(), { minLength: 1, maxLength: 8 }))
      .map(([seed, ops]) => ops.reduce(applyByteOp, seed)) },
  );
}
