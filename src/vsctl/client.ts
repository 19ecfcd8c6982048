/**
 * The OVSDB JSON-RPC 1.0 client (RFC 7047 §4) over a unix or TCP stream: `bvs vsctl` uses it, and
 * so do the tests and the OVSDB benchmark (one client for all, so what they measure and check is
 * what the product speaks).
 *
 * Framing is the server's: a stream of JSON values with no delimiter, split with src/ovsdb's
 * JsonSplitter. Requests carry increasing integer ids (the first is 1); each reply settles its
 * request, in whatever order replies come, so requests may be pipelined. The server's `echo`
 * requests are answered (RFC 7047 §4.1.11); notifications (`update`, `update2`, `update3`,
 * `locked`, `stolen`) go to the listeners registered with onNotify(). Only JSON-RPC 1.0 members
 * are sent (notes/ovsdb-clients.md: an extra member such as "jsonrpc" is a protocol error for OVS).
 *
 * Two levels: request()/transact() give the result and turn an error reply into
 * OvsdbRemoteError; requestMessage() gives the reply message as the server framed it, and
 * onMessage()/writeRaw() see and write the wire itself (protocol tests, malformed input).
 *
 * Callers must close(). A lost connection rejects every pending request with OvsdbClientError.
 *
 * Neighbours: src/ovsdb (JsonSplitter), schema.ts (VsctlError).
 */
import * as net from 'node:net';
import { JsonSplitter } from '../ovsdb/index.ts';
import { VsctlError } from './schema.ts';

export class OvsdbClientError extends VsctlError {
  override name = 'OvsdbClientError';
}

/** An error object returned by the server (RFC 7047 §3.1 <error>). */
export class OvsdbRemoteError extends VsctlError {
  override name = 'OvsdbRemoteError';
  constructor(readonly method: string, readonly error: { error?: string; details?: string }) {
    super(`${method} error: ${JSON.stringify(error)}`);
  }
}

/** Where the database is: `unix:PATH` or `tcp:HOST:PORT` (ovs-vsctl --db syntax). */
export function parseDbTarget(target: string): net.NetConnectOpts {
  if (target.startsWith('unix:') && target.length > 5) return { path: target.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(target);
  if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  throw new VsctlError(`${target}: unknown database remote (expected unix:PATH or tcp:HOST:PORT)`);
}

/** A JSON-RPC 1.0 message as received: a reply ({id, result, error}) or a request/notification. */
export type JsonRpcMessage = Record<string, unknown>;

type Pending = { resolve: (m: JsonRpcMessage) => void; reject: (e: Error) => void };

export class OvsdbClient {
  readonly #sock: net.Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(method: string, params: unknown) => void>();
  readonly #wire = new Set<(m: JsonRpcMessage) => void>();
  #nextId = 1;
  #closed = false;

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    const splitter = new JsonSplitter();
    sock.on('data', (chunk: Buffer) => {
      let texts: string[];
      try {
        texts = splitter.push(chunk);
      } catch (err) {
        this.#fail(new OvsdbClientError(`bad data from the server: ${(err as Error).message}`));
        return;
      }
      for (const t of texts) this.#dispatch(JSON.parse(t) as JsonRpcMessage);
    });
    sock.on('error', (err) => this.#fail(new OvsdbClientError(`connection failed: ${err.message}`, { cause: err })));
    sock.on('close', () => this.#fail(new OvsdbClientError('connection closed by the server')));
  }

  /** Connects; `target` as parseDbTarget. Fails with a message naming the socket. */
  static connect(target: string, timeoutMs = 10_000): Promise<OvsdbClient> {
    const opts = parseDbTarget(target);
    return new Promise((resolve, reject) => {
      const sock = net.connect(opts);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new OvsdbClientError(`${target}: connection timed out`));
      }, timeoutMs);
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ' (is bvs daemon or bvs ovsdb-server running?)' : '';
        reject(new OvsdbClientError(`${target}: database connection failed (${err.code === 'ENOENT' ? 'No such file or directory' : err.message})${hint}`, { cause: err }));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        sock.setNoDelay(true); // request/reply: no Nagle delay on TCP (a no-op on unix sockets)
        resolve(new OvsdbClient(sock));
      });
    });
  }

  #dispatch(m: JsonRpcMessage): void {
    for (const w of this.#wire) w(m);
    if (typeof m.method === 'string') {
      if (m.method === 'echo' && m.id !== null && m.id !== undefined) {
        this.#send({ id: m.id, result: m.params ?? [], error: null });
      } else {
        for (const l of this.#listeners) l(m.method, m.params);
      }
      return;
    }
    const p = typeof m.id === 'number' ? this.#pending.get(m.id) : undefined;
    if (p === undefined) return;
    this.#pending.delete(m.id as number);
    p.resolve(m);
  }

  #send(msg: Record<string, unknown>): void {
    this.#sock.write(JSON.stringify(msg));
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#sock.destroy();
  }

  /** Whether the connection is gone (closed by either side, or failed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request; resolves with its result, rejects with OvsdbRemoteError on an error reply. */
  async request(method: string, params: unknown[]): Promise<unknown> {
    const m = await this.requestMessage(method, params);
    if (m.error !== null && m.error !== undefined) throw new OvsdbRemoteError(method, m.error as { error?: string });
    return m.result;
  }

  /** Sends a request; resolves with the whole reply message, error or not (exactly as framed). */
  requestMessage(method: string, params: unknown[]): Promise<JsonRpcMessage> {
    if (this.#closed) return Promise.reject(new OvsdbClientError('connection is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ method, params, id });
    });
  }

  /** Sends a notification (id null), e.g. `cancel` of a blocked transact (RFC 7047 §4.1.4). */
  notify(method: string, params: unknown[]): void {
    if (!this.#closed) this.#send({ method, params, id: null });
  }

  /** Writes `text` as it is: malformed or split input, for tests of the server's framing. */
  writeRaw(text: string): void {
    if (!this.#closed) this.#sock.write(text);
  }

  /** Calls `listener` with every message received, before it is dispatched. Returns the remover. */
  onMessage(listener: (m: JsonRpcMessage) => void): () => void {
    this.#wire.add(listener);
    return () => this.#wire.delete(listener);
  }

  onNotify(listener: (method: string, params: unknown) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** transact: returns the per-operation results; the first failed operation becomes an error. */
  async transact(db: string, ops: unknown[]): Promise<Record<string, unknown>[]> {
    const r = await this.request('transact', [db, ...ops]) as (Record<string, unknown> | null)[];
    return r.map((x) => x ?? {});
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new OvsdbClientError('connection closed'));
    this.#pending.clear();
    this.#sock.end();
    this.#sock.destroy();
  }
}
