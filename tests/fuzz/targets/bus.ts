/**
 * Fuzz targets of the NATS payloads (src/bus): what arrives from the wire is decoded and
 * validated exactly as client.ts does it (decodeJson, then the contract's zod schema; a failure
 * is a BusValidationError naming the field, bad bytes a BusError 'bad_json').
 *  - bus-request: every request schema of Commands (what the daemon serves);
 *  - bus-reply-event: reply envelopes with every reply schema (what a CLI reads) and every
 *    event payload (what a subscriber reads).
 * Inputs are random JSON and bytes, and valid payloads mutated as JSON (fields set to odd
 * values, removed, added under inherited names such as "__proto__") and then as text.
 */
import fc from 'fast-check';
import {
  BusError, BusErrorCode, BusValidationError, Commands, decodeJson, Events, replyEnvelope,
  type CommandName, type EventName,
} from '../../../src/bus/index.ts';
import { EDGE_NUMBERS, INHERITED_NAMES, mutatedText } from '../mutate.ts';
import { entriesState, prototypeState, type Target } from '../target.ts';
import type { z } from 'zod';

export type Side = 'request' | 'reply' | 'event';
export interface Payload { side: Side; name: string; data: Uint8Array }

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

function validate(schema: z.ZodType, value: unknown, side: Side, name: string): unknown {
  const r = schema.safeParse(value);
  if (!r.success) throw new BusValidationError(side, name, r.error.issues);
  return r.data;
}

/** client.ts's receiving paths: serve() for requests, request() for replies, subscribe for events. */
function receive(p: Payload): void {
  const value = decodeJson(p.data);
  if (p.side === 'request') validate(Commands[p.name as CommandName].request, value, 'request', p.name);
  else if (p.side === 'event') validate(Events[p.name as EventName].payload, value, 'event', p.name);
  else {
    const env = validate(replyEnvelope, value, 'reply', p.name) as { ok: boolean; result?: unknown };
    if (env.ok) validate(Commands[p.name as CommandName].reply, env.result, 'reply', p.name);
  }
}

const isNamed = (e: unknown): boolean =>
  e instanceof BusValidationError || (e instanceof BusError && e.code === BusErrorCode.BadJson);

/** A corpus line: the payload as JSON when it is JSON (readable seeds), else as text or hex. */
function encode(p: Payload): unknown {
  let text: string | undefined;
  try { text = utf8.decode(p.data); } catch { /* not UTF-8 */ }
  return text === undefined ? { side: p.side, name: p.name, hex: Buffer.from(p.data).toString('hex') } : { side: p.side, name: p.name, text };
}

function decode(j: unknown): Payload {
  const o = j as { side: Side; name: string; json?: unknown; text?: string; hex?: string };
  const data = o.hex !== undefined ? Uint8Array.from(Buffer.from(o.hex, 'hex'))
    : enc.encode(o.text !== undefined ? o.text : JSON.stringify(o.json));
  return { side: o.side, name: o.name, data };
}

/** A value nested `depth` arrays deep, spliced in as text (JSON.stringify would overflow). */
class Deep { constructor(readonly depth: number) {} }

/** Odd JSON values for a field: wrong types, edges of the ranges, long and deep values. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>('', 'br0', '.', '..', 'a/b', 'x'.repeat(16), 'x'.repeat(70000), -1, 0, 1.5, 4095,
    4096, 65535, 65536, 2 ** 53, 1e308, '18446744073709551616', '-1', null, true, [], {}, [1, 1], 'AAAA', '!!!') },
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  // Deep enough to overflow any recursive walk; rare, since JSON.parse alone takes ~40 ms.
  { weight: 1, arbitrary: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(10, 1000) }, { weight: 1, arbitrary: fc.constant(20000) }).map((d) => new Deep(d)) },
);

type JsonOp = { op: 'set'; key: string; value: unknown } | { op: 'delete'; which: number } | { op: 'root'; value: unknown };

function jsonOps(keys: readonly string[]): fc.Arbitrary<JsonOp[]> {
  const key = fc.oneof(fc.constantFrom(...keys), fc.constantFrom(...INHERITED_NAMES), fc.string({ maxLength: 8 }));
  return fc.array(fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: oddValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), which: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('root' as const), value: oddValue }) },
  ), { minLength: 1, maxLength: 4 });
}

function applyJsonOps(seed: unknown, ops: readonly JsonOp[]): string {
  let v: unknown = seed;
  for (const o of ops) {
    if (o.op === 'root') { v = o.value; continue; }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
    // defineProperty, so that "__proto__" becomes an own key and reaches the wire as one.
    const copy: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(copy, k, { value: x, enumerable: true, writable: true, configurable: true });
    if (o.op === 'set') Object.defineProperty(copy, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
    else { const ks = Object.keys(copy); if (ks.length) delete copy[ks[o.which % ks.length]!]; }
    v = copy;
  }
  const text = JSON.stringify(v, (_k, x: unknown) => (x instanceof Deep ? `\u0000deep${x.depth}\u0000` : x)) ?? 'null';
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_m, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));
}

function payloads(names: ReadonlyArray<readonly [Side, string]>, seeds: readonly Payload[]): fc.Arbitrary<Payload> {
  const texts = seeds.map((s) => utf8.decode(s.data));
  const keys = [...new Set(seeds.flatMap((s) => { const v = decodeJson(s.data); return v && typeof v === 'object' ? Object.keys(v) : []; }))];
  const seedArb = fc.constantFrom(...seeds);
  const structured = fc.tuple(seedArb, jsonOps(keys)).map(([s, ops]) => ({ ...s, data: enc.encode(applyJsonOps(decodeJson(s.data), ops)) }));
  const textual = fc.tuple(seedArb, mutatedText(texts, [...keys, 'true', 'null', '{}', '[]'], ['"', '{', '}', '[', ']', ':', '\\', '\\u0000', '\\ud800']))
    .map(([s, t]) => ({ ...s, data: enc.encode(t) }));
  const name = fc.constantFrom(...names);
  const random = fc.tuple(name, fc.oneof(
    fc.jsonValue().map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom('', ' ', '\ufeff{}', '{"a":1}{"b":2}', '{"__proto__":{"bridge":"br0"}}', '1e400').map((t) => enc.encode(t)),
    fc.tuple(fc.constantFrom(...texts), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([t, b]) => Uint8Array.from([...enc.encode(t), ...b])),
  )).map(([[side, n], data]) => ({ side, name: n, data }));
  return fc.oneof({ weight: 3, arbitrary: structured }, { weight: 2, arbitrary: textual }, { weight: 1, arbitrary: random });
}

function state(): unknown[] {
  const contracts = [...Object.values(Commands).flatMap((c) => [c, c.request, c.reply]), ...Object.values(Events).flatMap((e) => [e, e.payload])];
  return [...prototypeState(), ...entriesState(Commands), ...entriesState(Events), ...contracts, replyEnvelope];
}

const common = { encode, decode, isNamed, state, run: receive };

export const busRequest: Target<Payload> = {
  ...common,
  name: 'bus-request',
  inputs: (seeds) => payloads(Object.keys(Commands).map((n) => ['request', n] as const), seeds),
};

export const busReplyEvent: Target<Payload> = {
  ...common,
  name: 'bus-reply-event',
  inputs: (seeds) => payloads([...Object.keys(Commands).map((n) => ['reply', n] as const), ...Object.keys(Events).map((n) => ['event', n] as const)], seeds),
};
