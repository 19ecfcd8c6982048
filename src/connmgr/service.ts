/**
 * One Controller row of a bridge (OVS connmgr.c's ofservice, with rconn.c for active targets):
 *
 *   active  (tcp:, unix:)   connect; on failure or loss wait, then retry. The wait starts at
 *                           1 s and doubles up to max_backoff; a connection that lived longer
 *                           than the current wait resets it to 1 s (rconn's rule).
 *   passive (ptcp:, punix:) listen; every accepted connection is a controller connection.
 *
 * Each connection is an OfConn (inactivity probe = Controller.inactivity_probe) whose messages
 * the bridge's OfSwitch handles as a 'primary' connection, with this controller's rate limit.
 * State changes call onChange (the connection manager writes Controller status and runs fail
 * mode from them). Timers are injected (ConnTimers), so tests drive backoff without sleeping.
 */
import fs from 'node:fs';
import net from 'node:net';
import { OfConn, type ConnTimers, type OfpVersion } from '../openflow/index.ts';
import { listenTcp, listenUnix } from '../sockets/index.ts';
import { TokenBucket, type Clock } from '../vswitch/index.ts';
import type { Limiter } from './session.ts';
import type { OfSwitch } from './switch.ts';
import { isPassive, type Target } from './target.ts';

export interface ServiceConfig {
  text: string;
  target: Target;
  maxBackoffMs: number;
  probeMs: number;
  rateLimit?: { rate: number; burst: number };
  /** Controller.enable_async_messages (default true). */
  enableAsync?: boolean;
}

export interface ServiceEnv {
  sw: OfSwitch;
  versions: () => readonly OfpVersion[];
  timers: ConnTimers;
  clock: Clock;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  onChange: () => void;
}

export type ServiceState = 'BACKOFF' | 'CONNECTING' | 'ACTIVE' | 'LISTENING' | 'VOID';

export interface ServiceStatus {
  isConnected: boolean;
  /** The role of its (first) connection: 'master', 'slave' or 'other'. */
  role: 'master' | 'slave' | 'other';
  status: Record<string, string>;
}

const INITIAL_BACKOFF_MS = 1000;
const ROLE_NAME: Record<number, ServiceStatus['role']> = { 1: 'other', 2: 'master', 3: 'slave' };

export class OfService {
  readonly conns = new Set<OfConn>();
  state: ServiceState = 'VOID';
  /** When a connection of this service last completed hello (ms of timers.now). */
  lastConnected: number | undefined;
  lastDisconnected: number | undefined;
  lastError: string | undefined;
  private backoffMs = INITIAL_BACKOFF_MS;
  private timer: unknown;
  private socket: net.Socket | undefined;
  private server: net.Server | undefined;
  private closed = false;
  private readonly limiter: Limiter | undefined;

  constructor(readonly cfg: ServiceConfig, private readonly env: ServiceEnv) {
    this.limiter = cfg.rateLimit ? new TokenBucket(cfg.rateLimit.rate, env.clock, cfg.rateLimit.burst) : undefined;
  }

  get passive(): boolean {
    return isPassive(this.cfg.target);
  }

  get connected(): boolean {
    for (const c of this.conns) if (!c.closed && c.version !== undefined) return true;
    return false;
  }

  async start(): Promise<void> {
    if (this.passive) await this.listen();
    else this.connect();
  }

  // ---- active -------------------------------------------------------------------------------

  private connect(): void {
    if (this.closed) return;
    const t = this.cfg.target;
    this.state = 'CONNECTING';
    const sock = t.kind === 'tcp' ? net.connect({ host: t.host, port: t.port }) : t.kind === 'unix' ? net.connect({ path: t.path }) : undefined;
    if (!sock) return;
    this.socket = sock;
    const onFail = (err: Error): void => {
      sock.destroy();
      this.lastError = err.message;
      this.env.log('info', `${this.cfg.text}: connection failed: ${err.message}`);
      this.retry();
    };
    sock.once('error', onFail);
    sock.once('connect', () => {
      sock.off('error', onFail);
      this.adopt(sock, () => this.retry());
    });
    this.env.onChange();
  }

  private retry(): void {
    this.socket = undefined;
    if (this.closed) return;
    const now = this.env.timers.now();
    // rconn: a connection that lasted longer than the wait resets it.
    if (this.lastConnected !== undefined && now - this.lastConnected >= this.backoffMs) this.backoffMs = INITIAL_BACKOFF_MS;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.cfg.maxBackoffMs, this.backoffMs * 2);
    this.state = 'BACKOFF';
    this.env.log('info', `${this.cfg.text}: waiting ${wait / 1000} seconds before reconnect`);
    this.timer = this.env.timers.setTimeout(() => { this.timer = undefined; this.connect(); }, wait);
    this.env.onChange();
  }

  // ---- passive ------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const t = this.cfg.target;
    const server = net.createServer((sock) => this.adopt(sock));
    this.server = server;
    try {
      if (t.kind === 'punix') await listenUnix(server, t.path);
      else if (t.kind === 'ptcp') await listenTcp(server, t.host, t.port);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.env.log('warn', `${this.cfg.text}: cannot listen: ${this.lastError}`);
      this.server = undefined;
      this.env.onChange();
      return;
    }
    this.state = 'LISTENING';
    this.env.onChange();
  }

  /** The TCP port a ptcp service listens on (useful with ptcp:0). */
  get boundPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  // ---- connections --------------------------------------------------------------------------

  private adopt(sock: net.Socket, onLost?: () => void): void {
    const { sw } = this.env;
    const conn: OfConn = new OfConn(sock, { allowed: this.env.versions(), probeIntervalMs: this.cfg.probeMs }, {
      onReady: () => {
        sw.attach(conn, 'primary', this.limiter, this.cfg.enableAsync === false);
        this.lastConnected = this.env.timers.now();
        if (!this.passive) this.state = 'ACTIVE';
        this.env.log('info', `${this.cfg.text}: connected`, { version: conn.version });
        this.env.onChange();
      },
      onMessage: (d, c, frame) => sw.receive(d, c, frame),
      onClose: (reason, detail) => {
        const wasUp = conn.version !== undefined;
        sw.detach(conn);
        this.conns.delete(conn);
        if (wasUp) this.lastDisconnected = this.env.timers.now();
        if (reason !== 'local') this.lastError = `${reason}: ${detail}`;
        if (wasUp) this.env.log('info', `${this.cfg.text}: connection closed (${reason})`, { detail });
        if (onLost) onLost(); else this.env.onChange();
      },
      onDefect: (err) => this.env.log('warn', 'OpenFlow message handling failed (a bug); answered OFPBRC_EPERM', { target: this.cfg.text, err }),
    });
    this.conns.add(conn);
  }

  status(): ServiceStatus {
    const now = this.env.timers.now();
    const first = [...this.conns].find((c) => c.version !== undefined);
    const status: Record<string, string> = { state: this.connected && !this.passive ? 'ACTIVE' : this.state };
    if (this.lastError !== undefined) status.last_error = this.lastError;
    if (this.lastConnected !== undefined) status.sec_since_connect = String(Math.floor((now - this.lastConnected) / 1000));
    if (this.lastDisconnected !== undefined) status.sec_since_disconnect = String(Math.floor((now - this.lastDisconnected) / 1000));
    if (this.passive && this.boundPort !== undefined) status.bound_port = String(this.boundPort);
    if (this.passive) status.n_connections = String(this.conns.size);
    const role = first ? ROLE_NAME[this.env.sw.roleOf(first)] ?? 'other' : 'other';
    return { isConnected: this.connected, role, status };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.env.timers.clearTimeout(this.timer);
    this.socket?.destroy();
    for (const c of [...this.conns]) c.close('local', 'controller removed');
    this.conns.clear();
    const server = this.server;
    if (server) {
      await new Promise<void>((r) => server.close(() => r()));
      if (this.cfg.target.kind === 'punix') fs.rmSync(this.cfg.target.path, { force: true });
    }
  }
}
