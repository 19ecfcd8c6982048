/**
 * One OpenFlow connection over a stream socket (unix or tcp): framing, the hello exchange,
 * echo, the inactivity probe, the output backlog limit, and error replies. What the messages
 * mean is the caller's (onMessage); this file only keeps the channel healthy.
 *
 * Framing: bytes arrive in chunks; the chunks are queued unjoined and a message is cut out
 * once its header's length is queued, so each byte is copied at most once (no concat of the
 * whole pending buffer per chunk). A length below 8 or above maxMessageBytes cannot be
 * resynchronised from: the connection closes ('framing').
 *
 * Hello (OpenFlow 1.3.1 §6.3.1, as OVS's vconn): both sides send HELLO at once. The peer's
 * versions are its bitmap if it sent one, else every version up to its header's version; the
 * connection speaks the highest version in both sets. With none in common it sends
 * OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE (text, in the peer's highest version) and closes.
 * Any other message before HELLO closes it too.
 *
 * After hello: an echo request is answered at once; any received byte counts as life. After
 * probeIntervalMs of silence an echo request goes out; after as long again, the connection
 * closes ('probe-timeout'). A message that fails to decode, or that the handler rejects with
 * OfpError, is answered with OFPT_ERROR carrying its first 64 bytes; the connection goes on.
 * Bytes queued for a peer that does not read are bounded: past maxBacklogBytes the connection
 * stops reading (no new requests, so no new replies) until the peer drains its output, as OVS
 * stops serving an ofconn with replies queued; past 8 times that, it closes ('backlog'). One
 * large reply (a dump of 100k flows) passes; a peer that asks without ever reading does not.
 *
 * Invariant: nothing the peer sends makes this class throw or leave a rejected promise;
 * everything ends in a reply, a handler call, or close(reason).
 */
import type { Socket } from 'node:net';
import { OfpError } from './errors.ts';
import { HEADER_LEN, MAX_MSG_LEN, readHeader, writeHeader } from './header.ts';
import { decodeMessage, encodeMessage, encodeReplies, errorMessage, type Decoded, type OfpMessage } from './messages.ts';
import { decodeHello, encodeHello } from './msg-switch.ts';
import { OFP10, type OfpVersion } from './version.ts';

export interface ConnTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const systemTimers: ConnTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type CloseReason =
  | 'eof' | 'framing' | 'hello-failed' | 'hello-timeout' | 'probe-timeout' | 'backlog' | 'socket-error' | 'local';

export interface ConnOptions {
  /** Versions this side allows (Bridge.protocols); at least one. */
  allowed: readonly OfpVersion[];
  /** Silence before an echo request, and from it to closing. 0 disables. Default 5000. */
  probeIntervalMs?: number;
  /** Bytes the socket may hold unsent before the connection is dropped. Default 4 MiB. */
  maxBacklogBytes?: number;
  /** Longest message accepted (ofp_header.length is 16 bits). Default 65535. */
  maxMessageBytes?: number;
  timers?: ConnTimers;
}

export interface ConnHandlers {
  onReady?(version: OfpVersion): void;
  /** A decoded message, and its bytes (for an error reply later). Throwing OfpError answers
   *  the peer with that error; a handler that answers later uses sendError. */
  onMessage(m: Decoded, conn: OfConn, frame: Uint8Array): void;
  onClose?(reason: CloseReason, detail: string): void;
  /** Something other than OfpError was thrown (a bug): reported, answered with OFPBRC_EPERM. */
  onDefect?(err: unknown): void;
}

const ERROR_DATA_BYTES = 64;
/** Output queued past this many times maxBacklogBytes closes the connection (see sendBytes). */
const BACKLOG_CEILING = 8;
const OFPT_HELLO = 0, OFPT_ERROR = 1, OFPT_ECHO_REQUEST = 2, OFPT_ECHO_REPLY = 3;
const hexVersions = (vs: readonly number[]): string =>
  vs.length === 0 ? 'no versions' : `version${vs.length > 1 ? 's' : ''} ${vs.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ')}`;

export class OfConn {
  /** The negotiated version; undefined until hello completes. */
  version: OfpVersion | undefined;
  closed = false;
  private readonly chunks: Buffer[] = [];
  private headOff = 0; // bytes of chunks[0] already consumed
  private queued = 0;
  private readonly timers: ConnTimers;
  private readonly probeMs: number;
  private readonly maxBacklog: number;
  private readonly maxMsg: number;
  private readonly allowed: readonly OfpVersion[];
  private timer: unknown;
  private lastRx: number;
  private probeSentAt: number | undefined;
  private echoXid = 0;
  private corked = false;
  private readPaused = false;
  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.socket.destroyed) this.socket.uncork();
  };

  constructor(private readonly socket: Socket, opts: ConnOptions, private readonly h: ConnHandlers) {
    this.timers = opts.timers ?? systemTimers;
    this.probeMs = opts.probeIntervalMs ?? 5000;
    this.maxBacklog = opts.maxBacklogBytes ?? 4 << 20;
    this.maxMsg = Math.min(opts.maxMessageBytes ?? MAX_MSG_LEN, MAX_MSG_LEN);
    this.allowed = [...new Set(opts.allowed)].sort((a, b) => a - b);
    this.lastRx = this.timers.now();
    socket.on('data', (c: Buffer) => this.guard(() => this.onData(c)));
    socket.on('error', (e) => this.close('socket-error', e.message));
    socket.on('close', () => this.close('eof', 'peer closed the connection'));
    const top = this.allowed[this.allowed.length - 1];
    if (top === undefined) { this.close('hello-failed', 'no versions allowed'); return; }
    // A 1.0-only side sends no bitmap: 1.0 peers do not expect one.
    const only10 = this.allowed.length === 1 && top === OFP10;
    this.sendBytes(this.frameHello(top, only10 ? {} : { versions: [...this.allowed] }));
    this.arm(this.probeMs);
  }

  /** Sends one message in the negotiated version. False if the connection is closed. */
  send(msg: OfpMessage, xid: number): boolean {
    if (this.closed || this.version === undefined) return false;
    return this.sendBytes(encodeMessage(this.version, xid, msg));
  }

  /** Sends a (multipart) reply, split into several messages if it does not fit in one. */
  sendReplies(msg: OfpMessage, xid: number): boolean {
    if (this.closed || this.version === undefined) return false;
    for (const b of encodeReplies(this.version, xid, msg)) if (!this.sendBytes(b)) return false;
    return true;
  }

  /** Bytes written but not yet taken by the peer. */
  get backlog(): number { return this.socket.writableLength; }

  close(reason: CloseReason, detail: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    // What was sent before closing (a hello-failed error, say) leaves first.
    if (this.corked) this.uncork();
    this.socket.destroy();
    this.chunks.length = 0;
    this.h.onClose?.(reason, detail);
  }

  // ---- input

  private onData(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    this.lastRx = this.timers.now();
    this.chunks.push(chunk);
    this.queued += chunk.length;
    while (!this.closed && this.queued >= HEADER_LEN) {
      const len = this.peekLength();
      if (len < HEADER_LEN || len > this.maxMsg) {
        this.close('framing', `message length ${len} outside ${HEADER_LEN}..${this.maxMsg}`);
        return;
      }
      if (this.queued < len) return;
      this.onFrame(this.take(len));
    }
  }

  private peekLength(): number {
    const c = this.chunks[0]!;
    if (c.length - this.headOff >= 4) return c.readUInt16BE(this.headOff + 2);
    const hdr = this.copy(4, false);
    return (hdr[2]! << 8) | hdr[3]!;
  }

  /** The next n queued bytes, consumed. A view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    const c = this.chunks[0]!;
    if (c.length - this.headOff >= n) {
      const out = c.subarray(this.headOff, this.headOff + n);
      this.advance(n);
      return out;
    }
    return this.copy(n, true);
  }

  private copy(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let got = 0, i = 0, off = this.headOff;
    while (got < n) {
      const c = this.chunks[i]!;
      const k = Math.min(n - got, c.length - off);
      out.set(c.subarray(off, off + k), got);
      got += k; i++; off = 0;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.queued -= n;
    while (n > 0) {
      const left = this.chunks[0]!.length - this.headOff;
      if (n < left) { this.headOff += n; return; }
      n -= left; this.chunks.shift(); this.headOff = 0;
    }
  }

  private onFrame(frame: Uint8Array): void {
    const hdr = readHeader(frame);
    if (this.version === undefined) { this.onHello(hdr.version, hdr.type, frame); return; }
    if (hdr.type === OFPT_ECHO_REQUEST && hdr.version === this.version) {
      const reply = Uint8Array.from(frame);
      reply[1] = OFPT_ECHO_REPLY;
      this.sendBytes(reply);
      return;
    }
    if (hdr.type === OFPT_ECHO_REPLY && hdr.version === this.version) return; // life, counted on arrival
    if (hdr.type === OFPT_HELLO && hdr.version === this.version) return; // a repeated hello changes nothing
    let decoded: Decoded;
    try {
      if (hdr.version !== this.version) {
        throw new OfpError('OFPBRC_BAD_VERSION', `version 0x${hdr.version.toString(16)} on a 0x${this.version.toString(16)} connection`);
      }
      decoded = decodeMessage(frame);
      this.h.onMessage(decoded, this, frame);
    } catch (e) {
      this.sendError(e, hdr.xid, frame);
    }
  }

  private onHello(hv: number, type: number, frame: Uint8Array): void {
    if (type !== OFPT_HELLO) {
      this.close('hello-failed', `message type ${type} before hello`);
      return;
    }
    let peer: number[] | undefined;
    try {
      peer = decodeHello(hv, frame.subarray(HEADER_LEN)).versions;
    } catch {
      peer = undefined; // unknown data in a hello: fall back to its header, as OVS does
    }
    const peerSet = peer ?? Array.from({ length: hv }, (_, i) => i + 1);
    const common = this.allowed.filter((v) => peerSet.includes(v));
    const best = common[common.length - 1];
    if (best === undefined) {
      const text = `We support ${hexVersions(this.allowed)}, you support ${hexVersions(peerSet)}, no common versions.`;
      this.sendBytes(this.frameHelloFailed(peerSet.reduce((a, b) => Math.max(a, b), hv), text));
      this.close('hello-failed', text);
      return;
    }
    this.version = best;
    this.h.onReady?.(best);
  }

  /** Answers a failed message with OFPT_ERROR (its first 64 bytes); a bug is reported too. */
  sendError(e: unknown, xid: number, frame: Uint8Array): void {
    if (!(e instanceof OfpError)) this.h.onDefect?.(e);
    const name = e instanceof OfpError ? e.ofperr : 'OFPBRC_EPERM';
    const data = frame.slice(0, ERROR_DATA_BYTES);
    this.guard(() => { if (this.version !== undefined) this.sendBytes(encodeMessage(this.version, xid, errorMessage(name, data))); });
  }

  // ---- output

  private sendBytes(b: Uint8Array): boolean {
    if (this.closed) return false;
    // Messages sent in one tick leave in one write (a dump of thousands of flows, a barrier
    // reply per flow-mod): corked now, uncorked on the next tick.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(b);
    const queued = this.socket.writableLength;
    if (queued > BACKLOG_CEILING * this.maxBacklog) {
      this.close('backlog', `${queued} bytes queued for a peer that does not read (limit ${BACKLOG_CEILING * this.maxBacklog})`);
      return false;
    }
    if (queued > this.maxBacklog && !this.readPaused) {
      // As OVS: stop taking requests until the peer has read what it asked for. A dump of
      // many flows may exceed the limit on its own; a peer that asks without reading is held
      // (its requests wait in its socket) and the inactivity probe ends it if it never reads.
      this.readPaused = true;
      this.socket.pause();
      this.socket.once('drain', () => { this.readPaused = false; if (!this.closed) this.socket.resume(); });
    }
    return true;
  }

  private frameHello(version: number, body: { versions?: number[] }): Uint8Array {
    const b = encodeHello(version, body);
    const out = new Uint8Array(HEADER_LEN + b.length);
    writeHeader(out, { version, type: OFPT_HELLO, length: out.length, xid: 0 });
    out.set(b, HEADER_LEN);
    return out;
  }

  /** OFPET_HELLO_FAILED (0) / OFPHFC_INCOMPATIBLE (0): the same numbers in every version. */
  private frameHelloFailed(version: number, text: string): Uint8Array {
    const t = Buffer.from(text, 'latin1');
    const out = new Uint8Array(HEADER_LEN + 4 + t.length);
    writeHeader(out, { version: version & 0xff, type: OFPT_ERROR, length: out.length, xid: 0 });
    out.set(t, HEADER_LEN + 4);
    return out;
  }

  // ---- the inactivity probe

  private arm(ms: number): void {
    if (this.probeMs <= 0 || this.closed) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.guard(() => this.tick()), Math.max(ms, 1));
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.timers.now(), idle = now - this.lastRx;
    if (this.version === undefined) {
      // No hello yet: no echo to send (no version to send it in); give up after the interval.
      if (idle >= this.probeMs) this.close('hello-timeout', `no hello in ${idle} ms`);
      else this.arm(this.probeMs - idle);
      return;
    }
    if (this.probeSentAt !== undefined && this.lastRx >= this.probeSentAt) this.probeSentAt = undefined;
    if (this.probeSentAt === undefined) {
      if (idle < this.probeMs) { this.arm(this.probeMs - idle); return; }
      this.probeSentAt = now;
      this.send({ kind: 'echo_request', data: new Uint8Array(0) }, (this.echoXid = (this.echoXid + 1) >>> 0));
      this.arm(this.probeMs);
      return;
    }
    const waited = now - this.probeSentAt;
    if (waited >= this.probeMs) this.close('probe-timeout', `no reply to an echo request in ${waited} ms`);
    else this.arm(this.probeMs - waited);
  }

  /** Runs a callback from the socket or a timer: nothing may escape to the event loop. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.h.onDefect?.(e);
      this.close('framing', `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
