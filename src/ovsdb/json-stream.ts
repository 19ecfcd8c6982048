/**
 * Framing of a JSON-RPC byte stream (RFC 7047 §4: JSON values back to back, no delimiter), with
 * the limits every connection gets, as OVS's JSON parser and jsonrpc sessions have them:
 *   - nesting deeper than MAX_JSON_DEPTH (OVS lib/json.c JSON_MAX_HEIGHT, 1000) is refused:
 *     a deeper value could overflow the stack of JSON.parse/JSON.stringify;
 *   - a value longer than MAX_JSON_BYTES is refused while it arrives (not after buffering it);
 *   - bytes that are not UTF-8 are refused (RFC 7047 strings are UTF-8; decoding them with
 *     replacement characters would alter the data silently);
 *   - a number outside the range of a double (1e400) is refused, as OVS's parser refuses it,
 *     instead of turning into Infinity and then into null.
 * Any of these is a JsonRpcProtocolError: the stream cannot be trusted any more, and the
 * connection closes (OVS drops a connection on a parse error too).
 *
 * Cost: every byte is scanned once, and the bytes of one value are joined once, when it is
 * complete (a 100 MB value costs one pass, not one pass per chunk).
 */

export const MAX_JSON_DEPTH = 1000;
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

export class JsonRpcProtocolError extends Error {
  override name = 'JsonRpcProtocolError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a byte stream into top-level JSON texts. */
export class JsonSplitter {
  /** Chunks (or their tails) holding the value being read; empty between values. */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** Scan state for numbers outside strings: the current run of digits, and whether the
   *  value has a number that may be out of a double's range (checked after JSON.parse). */
  private digits = 0;
  private bigNumber = false;

  /** Feeds bytes; returns the complete JSON texts. Throws JsonRpcProtocolError on bad input. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    this.scan(chunk, (text) => out.push(text));
    return out;
  }

  /** Feeds bytes; hands each complete value, parsed with parseJsonText's checks, to `fn` in
   *  order. A bad value throws JsonRpcProtocolError after the values before it were handed on. */
  forEachValue(chunk: Buffer, fn: (value: unknown, bytes: number) => void): void {
    this.scan(chunk, (text, big) => fn(parseJsonText(text, big), text.length));
  }

  private scan(chunk: Buffer, emit: (text: string, mayHaveBigNumber: boolean) => void): void {
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b && c !== 0x5b) throw new JsonRpcProtocolError(`unexpected byte 0x${c.toString(16)} between JSON values`);
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c >= 0x30 && c <= 0x39) {
        // 309 digits reach past a double's range; an exponent can at any length.
        if (++this.digits > 308) this.bigNumber = true;
        continue;
      }
      if ((c === 0x65 || c === 0x45) && this.digits > 0) this.bigNumber = true;
      this.digits = 0;
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++this.depth > MAX_JSON_DEPTH) throw new JsonRpcProtocolError(`input exceeds maximum nesting depth ${MAX_JSON_DEPTH}`);
      } else if ((c === 0x7d || c === 0x5d) && --this.depth === 0) {
        const big = this.bigNumber;
        emit(this.finish(chunk.subarray(start, i + 1)), big);
        start = -1;
      }
    }
    if (this.depth > 0) {
      const tail = chunk.subarray(start);
      this.partsLen += tail.length;
      if (this.partsLen > MAX_JSON_BYTES) throw new JsonRpcProtocolError(`JSON value longer than ${MAX_JSON_BYTES} bytes`);
      this.parts.push(tail);
    }
  }

  private finish(last: Buffer): string {
    const bytes = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last]);
    this.parts = [];
    this.partsLen = 0;
    if (bytes.length > MAX_JSON_BYTES) throw new JsonRpcProtocolError(`JSON value longer than ${MAX_JSON_BYTES} bytes`);
    this.bigNumber = false;
    this.digits = 0;
    try {
      return utf8.decode(bytes);
    } catch (err) {
      throw new JsonRpcProtocolError('invalid UTF-8 in JSON text', { cause: err });
    }
  }
}

/** JSON.parse of one framed text, refusing numbers outside a double's range. */
export function parseJsonText(text: string, mayHaveBigNumber: boolean): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new JsonRpcProtocolError(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (mayHaveBigNumber && hasNonFinite(v, 0)) throw new JsonRpcProtocolError('number outside valid range');
  return v;
}

function hasNonFinite(v: unknown, depth: number): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v !== 'object' || v === null || depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) return v.some((x) => hasNonFinite(x, depth + 1));
  for (const x of Object.values(v)) if (hasNonFinite(x, depth + 1)) return true;
  return false;
}
