/**
 * The wire: JSON-RPC 1.0 over a byte stream (RFC 7047 §4), for unix and TCP sockets.
 *
 * Framing: the stream is a sequence of JSON values with no delimiter, so JsonSplitter scans bytes
 * (tracking nesting depth, strings and escapes) and hands each complete top-level value to
 * JSON.parse. State survives chunk boundaries; bytes are only copied while a value is incomplete.
 *
 * Messages exactly as OVS 3.1 clients expect (notes/ovsdb-clients.md): requests/notifications
 * {method, params, id}, replies {id, result, error} with the unused one null, notifications with
 * "id": null, and no other members. Errors:
 * - unknown method / bad params / OVSDB errors: an error reply; the connection stays up.
 * - bytes that are not JSON, or a JSON value that is not a JSON-RPC message: the stream cannot be
 *   trusted any more, so - like ovsdb-server, which drops the connection on a parse error - we log
 *   the problem and close this connection only; the server and other connections carry on.
 * Neighbours: session.ts, core.ts, errors.ts.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { OvsdbCore } from './core.ts';
import { OvsdbError, OvsdbErrorTag } from './errors.ts';
import { Session } from './session.ts';

/** BVS_OVSDB_TRACE=1 logs every received message (truncated) - for debugging clients. */
const TRACE = process.env.BVS_OVSDB_TRACE === '1';

export class JsonRpcProtocolError extends Error {
  override name = 'JsonRpcProtocolError';
}

/** Splits a byte stream into top-level JSON texts. */
export class JsonSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private start = -1;
  private depth = 0;
  private inString = false;
  private escape = false;

  /** Feeds bytes; returns the complete JSON texts. Throws JsonRpcProtocolError on a bad byte. */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    const b = this.buf;
    for (let i = this.pos; i < b.length; i++) {
      const c = b[i];
      if (this.start < 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b && c !== 0x5b) throw new JsonRpcProtocolError(`unexpected byte 0x${c.toString(16)} between JSON values`);
        this.start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          out.push(b.toString('utf8', this.start, i + 1));
          this.start = -1;
        }
      }
    }
    if (this.start < 0) {
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    } else {
      this.buf = b.subarray(this.start);
      this.pos = this.buf.length;
      this.start = 0;
      if (this.buf.length > 64 * 1024 * 1024) throw new JsonRpcProtocolError('JSON value larger than 64 MiB');
    }
    return out;
  }
}

function errorJson(err: unknown): unknown {
  // ovsdb-server answers an unknown method with the bare string, other failures with an object.
  if (err instanceof OvsdbError && err.tag === OvsdbErrorTag.unknownMethod) return err.tag;
  if (err instanceof OvsdbError) return err.toJSON();
  return { error: 'internal error', details: String((err as Error)?.message ?? err) };
}

/** Binds one socket to one Session. */
export class Connection {
  private splitter = new JsonSplitter();
  readonly session: Session;
  private open = true;

  constructor(
    core: OvsdbCore,
    private sock: net.Socket,
    private log: (m: string) => void,
  ) {
    this.session = new Session(core, { notify: (method, params) => this.send({ id: null, method, params }) });
    sock.setNoDelay?.(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => this.teardown());
    sock.on('close', () => this.teardown());
  }

  /** Requests being answered; a connection closing on bad input first answers these. */
  private inflight = 0;
  private closing = false;

  private send(msg: Record<string, unknown>): void {
    if (this.open && this.sock.writable) this.sock.write(JSON.stringify(msg));
  }

  private finish(): void {
    if (--this.inflight === 0 && this.closing) this.shut();
  }

  private shut(): void {
    this.sock.end();
    this.teardown();
  }

  private onData(d: Buffer): void {
    if (this.closing) return;
    let texts: string[];
    try {
      texts = this.splitter.push(d);
    } catch (err) {
      return this.protocolError((err as Error).message);
    }
    for (const t of texts) {
      let msg: unknown;
      try {
        msg = JSON.parse(t);
      } catch (err) {
        return this.protocolError(`invalid JSON: ${(err as Error).message}`);
      }
      if (!this.open || this.closing) return;
      if (TRACE) this.log(`jsonrpc: recv ${t.length > 2000 ? `${t.slice(0, 2000)}...(${t.length} bytes)` : t}`);
      this.dispatch(msg);
    }
  }

  private protocolError(details: string): void {
    // As ovsdb-server: log it, answer what came before it, then drop this connection.
    this.log(`jsonrpc: closing connection: ${details}`);
    this.closing = true;
    if (this.inflight === 0) this.shut();
  }

  private dispatch(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.protocolError('JSON-RPC message must be an object');
    const m = msg as Record<string, unknown>;
    const id = m.id ?? null;
    if (typeof m.method === 'string') {
      if (id === null) {
        // Notifications: cancel is the only one a client sends (RFC 7047 §4.1.4).
        if (m.method === 'cancel' && Array.isArray(m.params)) this.session.cancel(m.params[0]);
        return;
      }
      const t0 = TRACE ? performance.now() : 0;
      this.inflight++;
      this.session.request(m.method, m.params, id).then(
        (result) => {
          this.send({ id, result: result ?? null, error: null });
          if (TRACE) this.log(`jsonrpc: ${m.method} answered in ${(performance.now() - t0).toFixed(2)} ms`);
        },
        (err: unknown) => {
          if (!(err instanceof OvsdbError)) this.log(`jsonrpc: internal error in ${m.method}: ${(err as Error)?.stack ?? err}`);
          this.send({ id, error: errorJson(err) });
        },
      ).finally(() => this.finish());
      return;
    }
    if ('result' in m || 'error' in m) return; // a reply to our echo; nothing to do
    this.protocolError('message has neither "method" nor "result"');
  }

  private teardown(): void {
    if (!this.open) return;
    this.open = false;
    this.session.close();
    this.sock.destroy();
  }

  close(): void {
    this.teardown();
  }
}

export type Remote = { kind: 'punix'; path: string } | { kind: 'ptcp'; port: number; host: string };

/** Parses "punix:PATH" or "ptcp:PORT[:IP]" (ovsdb-server(1) --remote syntax; IP defaults to 127.0.0.1). */
export function parseRemote(s: string): Remote {
  if (s.startsWith('punix:') && s.length > 6) return { kind: 'punix', path: s.slice(6) };
  const m = /^ptcp:(\d+)(?::(.+))?$/.exec(s);
  if (m) {
    const port = Number(m[1]);
    if (port > 65535) throw new RangeError(`remote "${s}": port ${port} out of range`);
    return { kind: 'ptcp', port, host: m[2]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1' };
  }
  throw new RangeError(`remote "${s}": expected punix:PATH or ptcp:PORT[:IP]`);
}

export class Listener {
  private conns = new Set<Connection>();
  private constructor(
    readonly server: net.Server,
    readonly remote: Remote,
  ) {}

  /** Listens; a unix socket is created with `mode` (default 0600) - umask is narrowed around bind. */
  static async listen(core: OvsdbCore, remote: Remote, log: (m: string) => void, mode = 0o600): Promise<Listener> {
    const server = net.createServer();
    const l = new Listener(server, remote);
    server.on('connection', (sock) => {
      const c = new Connection(core, sock, log);
      l.conns.add(c);
      sock.on('close', () => l.conns.delete(c));
    });
    if (remote.kind === 'punix') {
      try {
        fs.unlinkSync(remote.path);
      } catch {
        /* no stale socket */
      }
      const old = process.umask(0o777 & ~mode);
      try {
        await new Promise<void>((res, rej) => {
          server.once('error', rej);
          server.listen(remote.path, () => res());
        });
      } finally {
        process.umask(old);
      }
      fs.chmodSync(remote.path, mode);
    } else {
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen(remote.port, remote.host, () => res());
      });
    }
    return l;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    await new Promise<void>((r) => this.server.close(() => r()));
    if (this.remote.kind === 'punix') fs.rmSync(this.remote.path, { force: true });
  }
}
