/**
 * The wire: JSON-RPC 1.0 over a byte stream (RFC 7047 §4), for unix and TCP sockets.
 *
 * Framing and input limits (nesting depth, value size, UTF-8, number range): json-stream.ts.
 * Output: while the socket holds unsent bytes (the client does not read), the connection stops
 * reading requests and the session holds monitor updates (coalesced per row), exactly as
 * ovsdb-server does; both resume on 'drain'. So a client that never reads costs at most the
 * rows of the database plus the replies to what it had sent, never a copy per commit.
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
import { limitConnections, listenTcp, listenUnix } from '../sockets/index.ts';
import type { OvsdbCore } from './core.ts';
import { OvsdbError, OvsdbErrorTag } from './errors.ts';
import { JsonRpcProtocolError, JsonSplitter } from './json-stream.ts';
import { Session } from './session.ts';

export { JsonRpcProtocolError, JsonSplitter };

/** BVS_OVSDB_TRACE=1 logs every received message (size, start) - for debugging clients. */
const TRACE = process.env.BVS_OVSDB_TRACE === '1';

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
    this.session = new Session(core, {
      notify: (method, params) => this.send({ id: null, method, params }),
      backlogged: () => this.sock.writableLength > 0,
    });
    sock.setNoDelay?.(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('drain', () => this.onDrain());
    sock.on('error', () => this.teardown());
    sock.on('close', () => this.teardown());
  }

  /** Requests being answered; a connection closing on bad input first answers these. */
  private inflight = 0;
  private closing = false;

  private send(msg: Record<string, unknown>): void {
    if (!this.open || !this.sock.writable) return;
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (err) {
      // Inputs are depth-limited, so this means a bug; the connection must not take the
      // process down with it. A reply becomes an error reply; a notification cannot be
      // replaced (the client's view would silently diverge), so the connection closes.
      this.log(`jsonrpc: cannot encode ${msg.method ?? 'reply'}: ${(err as Error).message}`);
      if (msg.id === null || msg.id === undefined) return this.protocolError('an update could not be encoded');
      text = JSON.stringify({ id: msg.id, error: { error: 'internal error', details: 'the reply could not be encoded' } });
    }
    // Backpressure: past the socket's high-water mark, stop reading requests until the client
    // has read what we sent ('drain'). Monitor updates are held as soon as anything is unsent
    // (Session asks backlogged()) and flushed when the last write completes.
    if (!this.sock.write(text, this.afterWrite) && !this.paused) {
      this.paused = true;
      this.sock.pause();
    }
  }

  private paused = false;

  /** A write reached the kernel; when nothing is left unsent, held updates go out. */
  private readonly afterWrite = (): void => {
    if (this.open && this.sock.writableLength === 0) this.session.flush();
  };

  private onDrain(): void {
    if (!this.open) return;
    this.session.flush();
    if (this.paused && this.sock.writableLength === 0) {
      this.paused = false;
      if (!this.closing) this.sock.resume();
    }
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
    try {
      this.splitter.forEachValue(d, (msg, bytes) => {
        if (!this.open || this.closing) return;
        if (TRACE) this.log(`jsonrpc: recv ${bytes} bytes: ${JSON.stringify(msg).slice(0, 2000)}`);
        this.dispatch(msg);
      });
    } catch (err) {
      if (!(err instanceof JsonRpcProtocolError)) throw err;
      this.protocolError(err.message);
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

/** Connections one remote serves at once; more are closed at accept (ovsdb-server has no
 *  limit, but then the process's file descriptors are the limit, and all remotes share them). */
export const DEFAULT_MAX_CONNECTIONS = 1024;

export interface ListenerLimits {
  /** Connections served at once (default DEFAULT_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Called for each connection closed at accept because the limit was reached. */
  onReject?: (remote: string) => void;
  /** Milliseconds, for the once-a-second log of rejections (default Date.now). */
  now?: () => number;
}

export class Listener {
  private conns = new Set<Connection>();
  /** Connections closed at accept because the limit was reached, since listen. */
  rejected = 0;
  private constructor(
    readonly server: net.Server,
    readonly remote: Remote,
  ) {}

  /**
   * Listens; a unix socket is created with `mode` (default 0600) - umask is narrowed around bind.
   * Past `limits.maxConnections` open connections, node closes each new one at accept ('drop'):
   * counted here and by onReject, logged at most once a second with the count since the last line.
   */
  static async listen(core: OvsdbCore, remote: Remote, log: (m: string) => void, mode = 0o600, limits: ListenerLimits = {}): Promise<Listener> {
    const server = net.createServer();
    const l = new Listener(server, remote);
    const max = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const name = remote.kind === 'punix' ? `punix:${remote.path}` : `ptcp:${remote.port}:${remote.host}`;
    limitConnections(server, {
      max, now: limits.now,
      onReject: () => { l.rejected++; limits.onReject?.(name); },
      log: (n) => log(`${name}: ${n} connection(s) refused: ${max} connections open, the limit of this remote`),
    });
    server.on('connection', (sock) => {
      const c = new Connection(core, sock, log);
      l.conns.add(c);
      sock.on('close', () => l.conns.delete(c));
    });
    if (remote.kind === 'punix') await listenUnix(server, remote.path, mode);
    else await listenTcp(server, remote.host, remote.port);
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
