/**
 * JSON on the wire. nats.js v3 has no codecs: payloads are bytes, and we encode JSON ourselves.
 *
 * BigInt: the datapath and ofproto count in u64 `bigint`s (packets, bytes, cookies). JSON has no
 * bigint, so encode writes a bigint as a JSON number when it is a safe integer (≤ 2^53-1) and
 * as a decimal string above that; the `u64` schema (contracts/common.ts) reads both back into a
 * bigint. Every other value goes through JSON.stringify unchanged.
 *
 * Neighbours: errors.ts only.
 */
import { BusError, BusErrorCode } from './errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Deepest nesting a payload may have: OVS's JSON limit, as on the OVSDB connections. Deeper
 *  payloads cost JSON.parse and the schemas' recursion time for nothing a contract allows. */
export const MAX_JSON_DEPTH = 1000;

/** The deepest nesting of arrays and objects in JSON text (strings skipped). */
function depthOf(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value) : value.toString();
  }
  return value;
}

/** Encodes a value as UTF-8 JSON bytes. Bigints become numbers or decimal strings (see above). */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value, replacer) ?? 'null');
}

/** Same as encodeJson, as a string (for docs, logs and the nats CLI). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, replacer) ?? 'null';
}

/**
 * Decodes UTF-8 JSON bytes. An empty payload decodes to `{}` so that parameterless commands
 * (daemon.ping) can be sent with no body, as `nats req SUBJECT ''` does.
 * Throws BusError('bad_json') on invalid UTF-8 or JSON, or nesting deeper than MAX_JSON_DEPTH.
 */
export function decodeJson(data: Uint8Array): unknown {
  if (data.length === 0) return {};
  let text: string;
  try {
    text = decoder.decode(data);
  } catch (cause) {
    throw new BusError(BusErrorCode.BadJson, 'payload is not valid UTF-8', { cause });
  }
  if (text.trim() === '') return {};
  if (text.length > MAX_JSON_DEPTH && depthOf(text) > MAX_JSON_DEPTH) {
    throw new BusError(BusErrorCode.BadJson, `payload nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BusError(BusErrorCode.BadJson, `payload is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}
