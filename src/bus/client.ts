/**
 * The typed bus client: connect, serve commands, request them, publish and subscribe to events.
 *
 * Contract enforcement is symmetric:
 * - request() validates the payload before sending (BusValidationError, side 'request') and the
 *   reply after receiving (envelope, then result: side 'reply');
 * - serve() validates every incoming request and answers a bad one with
 *   `{ ok: false, error: { code: 'invalid_request', field } }`; it validates the handler's result
 *   too, so a daemon bug becomes an `internal` error reply instead of a contract breach. Every
 *   request that carries a reply subject gets exactly one reply; nothing a client sends can
 *   stop the service.
 *
 * Callers must close(): it stops the services (waiting for in-flight handlers), then drains the
 * connection, so replies in flight are delivered and the process can exit.
 *
 * Neighbours: subjects.ts, codec.ts, errors.ts, rundir.ts, and @nats-io/transport-node.
 */
import { promises as fs } from 'node:fs';
import {
  connect, credsAuthenticator, NoRespondersError, RequestError, TimeoutError, tokenAuthenticator,
  type Authenticator, type Msg, type NatsConnection, type NodeConnectionOptions, type Subscription,
} from '@nats-io/transport-node';
import type { z } from 'zod';
import { decodeJson, encodeJson } from './codec.ts';
import {
  BusConnectionError, BusError, BusErrorCode, BusNoRespondersError, BusRemoteError, BusTimeoutError,
  BusValidationError, describeIssues,
} from './errors.ts';
import { replyEnvelope, type ReplyEnvelope } from './contracts/common.ts';
import { readEndpoint } from './rundir.ts';
import {
  allEventsSubject, commandSubject, Commands, eventSubject, Events, hostId, parseSubject,
  type CommandName, type EventInputOf, type EventName, type EventOf, type ParsedRequestOf,
  type ReplyInputOf, type ReplyOf, type RequestOf,
} from './subjects.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface ConnectBusOptions {
  /** NATS URL(s), e.g. "nats://127.0.0.1:4222". */
  servers: string | string[];
  /** Host id of the daemon to talk to (and, for a daemon, its own). Default hostId(). */
  host?: string;
  /** Token of the embedded server (DIR/nats.token). */
  token?: string;
  /** A NATS .creds file (JWT + NKey seed) for an external server or cluster. */
  credsFile?: string;
  /** Client name shown by the server's monitoring. Default "bvs". */
  name?: string;
  /** Connect timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** Errors that have no caller to throw to (bad events, failed replies). Default: ignored. */
  onError?: (err: Error) => void;
  /** Passed through to nats.js connect() (e.g. maxReconnectAttempts for the daemon). */
  nats?: Partial<NodeConnectionOptions>;
}

/** Context given to a command handler. */
export interface HandlerContext {
  subject: string;
  name: CommandName;
}

export type Handler<C extends CommandName> =
  (req: ParsedRequestOf<C>, ctx: HandlerContext) => ReplyInputOf<C> | Promise<ReplyInputOf<C>>;

export type Handlers = { [C in CommandName]?: Handler<C> };

/** A served command. */
export interface Service {
  readonly subject: string;
  readonly stats: { requests: number; errors: number };
  /** Stops taking requests and waits for in-flight handlers to reply. */
  stop(): Promise<void>;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Extra cancellation, e.g. AbortSignal.timeout(ms) or a shutdown signal. */
  signal?: AbortSignal;
}

/** Any event, as delivered by subscribeAll(). */
export type AnyEvent = { [E in EventName]: { name: E; host: string; payload: EventOf<E> } }[EventName];

export interface EventSubscription {
  /** Events that failed their schema and were skipped (each also went to onError). */
  readonly invalid: number;
  unsubscribe(): void;
}

function validate<S extends z.ZodType>(schema: S, value: unknown, side: 'request' | 'reply' | 'event',
  subject: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new BusValidationError(side, subject, r.error.issues);
  return r.data;
}

function errorReply(err: unknown): ReplyEnvelope {
  if (err instanceof BusError) {
    return { ok: false, error: { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) } };
  }
  return { ok: false, error: { code: BusErrorCode.Internal, message: err instanceof Error ? err.message : String(err) } };
}

function mapRequestError(subject: string, timeoutMs: number, err: unknown): Error {
  if (err instanceof BusError) return err;
  if (err instanceof TimeoutError || (err as Error)?.name === 'TimeoutError') return new BusTimeoutError(subject, timeoutMs, err);
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new BusNoRespondersError(subject, err);
  }
  return new BusConnectionError(`${subject}: ${(err as Error)?.message ?? String(err)}`, err);
}

/** A connection to the bus, bound to one host id. */
export class Bus {
  readonly host: string;
  readonly nc: NatsConnection;
  readonly #services = new Set<Service>();
  readonly #onError: (err: Error) => void;

  constructor(nc: NatsConnection, host: string, onError?: (err: Error) => void) {
    this.nc = nc;
    this.host = host;
    this.#onError = onError ?? (() => {});
  }

  /**
   * Serves one command: validates requests, runs `handler`, replies with the envelope.
   * A handler's BusError chooses the reply's code and field; any other throw becomes 'internal'.
   * Requests are handled concurrently, in arrival order of their start.
   */
  serve<C extends CommandName>(name: C, handler: Handler<C>, opts: { queue?: string } = {}): Service {
    const contract = Commands[name];
    const subject = commandSubject(this.host, name);
    const inflight = new Set<Promise<void>>();
    const stats = { requests: 0, errors: 0 };
    const handle = async (msg: Msg): Promise<void> => {
      stats.requests++;
      let envelope: ReplyEnvelope;
      try {
        const req = validate(contract.request, decodeJson(msg.data), 'request', subject) as ParsedRequestOf<C>;
        const result = await handler(req, { subject, name });
        const checked = contract.reply.safeParse(result);
        if (!checked.success) {
          const { field, message } = describeIssues(checked.error.issues);
          throw new BusError(BusErrorCode.Internal, `${subject}: the daemon built an invalid reply (${field}: ${message})`);
        }
        envelope = { ok: true, result: checked.data };
      } catch (err) {
        stats.errors++;
        envelope = errorReply(err);
        if (!(err instanceof BusError) || err.code === BusErrorCode.Internal) this.#onError(err as Error);
      }
      this.#reply(msg, subject, envelope);
    };
    const sub = this.nc.subscribe(subject, {
      ...(opts.queue === undefined ? {} : { queue: opts.queue }),
      callback: (err, msg) => {
        if (err !== null) {
          this.#onError(new BusConnectionError(`${subject}: subscription failed: ${err.message}`, err));
          return;
        }
        const p = handle(msg).catch((e: unknown) => this.#onError(e as Error)).finally(() => inflight.delete(p));
        inflight.add(p);
      },
    });
    let stopping: Promise<void> | null = null;
    const service: Service = {
      subject,
      stats,
      stop: () => (stopping ??= (async () => {
        this.#services.delete(service);
        if (!sub.isClosed()) await sub.drain().catch(() => {});
        await Promise.allSettled([...inflight]);
      })()),
    };
    this.#services.add(service);
    return service;
  }

  /** Serves every command in `handlers`; one Service per command. */
  serveAll(handlers: Handlers, opts: { queue?: string } = {}): Service[] {
    return (Object.keys(handlers) as CommandName[]).map((name) =>
      this.serve(name, handlers[name] as Handler<typeof name>, opts));
  }

  #reply(msg: Msg, subject: string, envelope: ReplyEnvelope): void {
    if (msg.reply === undefined || msg.reply === '') {
      this.#onError(new BusError(BusErrorCode.InvalidRequest, `${subject}: message without a reply subject (use request, not publish)`));
      return;
    }
    let data = encodeJson(envelope);
    const max = this.nc.info?.max_payload ?? Infinity;
    if (data.length > max) {
      data = encodeJson(errorReply(new BusError(BusErrorCode.TooLarge,
        `${subject}: reply of ${data.length} bytes exceeds the server's max_payload of ${max}`)));
    }
    try {
      msg.respond(data);
    } catch (err) {
      this.#onError(new BusConnectionError(`${subject}: reply failed: ${(err as Error).message}`, err));
    }
  }

  /**
   * Requests a command and returns its validated result (u64 fields as bigints).
   * Throws BusValidationError (bad payload, or bad reply), BusRemoteError (the daemon's
   * `{ ok: false }`, with its code and field), BusTimeoutError, BusNoRespondersError,
   * BusConnectionError.
   */
  async request<C extends CommandName>(name: C, payload: RequestOf<C>, opts: RequestOptions = {}): Promise<ReplyOf<C>> {
    const contract = Commands[name];
    const subject = commandSubject(this.host, name);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const req = validate(contract.request, payload, 'request', subject);
    let msg: Msg;
    try {
      const pending = this.nc.request(subject, encodeJson(req), { timeout: timeoutMs });
      msg = opts.signal === undefined ? await pending : await raceAbort(pending, opts.signal);
    } catch (err) {
      throw mapRequestError(subject, timeoutMs, err);
    }
    const envelope = validate(replyEnvelope, decodeJson(msg.data), 'reply', subject);
    if (!envelope.ok) {
      throw new BusRemoteError(subject, envelope.error.code, envelope.error.message, envelope.error.field);
    }
    return validate(contract.reply, envelope.result, 'reply', subject) as ReplyOf<C>;
  }

  /** Publishes an event of this host after validating it (a bad payload throws: a caller bug). */
  publish<E extends EventName>(name: E, payload: EventInputOf<E>): void {
    const subject = eventSubject(this.host, name);
    const data = validate(Events[name].payload, payload, 'event', subject);
    this.nc.publish(subject, encodeJson(data));
  }

  /**
   * Subscribes to one event of this host (or of every host with `{ host: '*' }`). Payloads that
   * fail their schema are skipped, counted in `invalid` and passed to onError.
   */
  subscribe<E extends EventName>(name: E, cb: (payload: EventOf<E>, meta: { subject: string; host: string }) => void,
    opts: { host?: string } = {}): EventSubscription {
    return this.#subscribeEvents(eventSubject(opts.host ?? this.host, name), (ev) => {
      if (ev.name === name) cb(ev.payload as EventOf<E>, { subject: eventSubject(ev.host, name), host: ev.host });
    });
  }

  /** Subscribes to every event of this host (or of every host with `{ host: '*' }`). */
  subscribeAll(cb: (event: AnyEvent) => void, opts: { host?: string } = {}): EventSubscription {
    return this.#subscribeEvents(allEventsSubject(opts.host ?? this.host), cb);
  }

  #subscribeEvents(pattern: string, cb: (event: AnyEvent) => void): EventSubscription {
    let invalid = 0;
    const sub: Subscription = this.nc.subscribe(pattern, {
      callback: (err, msg) => {
        if (err !== null) return this.#onError(new BusConnectionError(`${pattern}: ${err.message}`, err));
        const parsed = parseSubject(msg.subject);
        if (parsed === null || parsed.kind !== 'evt') return; // an unknown event of a newer daemon
        try {
          const payload = validate(Events[parsed.name].payload, decodeJson(msg.data), 'event', msg.subject);
          cb({ name: parsed.name, host: parsed.host, payload } as AnyEvent);
        } catch (e) {
          if (e instanceof BusError) invalid++;
          this.#onError(e as Error);
        }
      },
    });
    return {
      get invalid() { return invalid; },
      unsubscribe: () => sub.unsubscribe(),
    };
  }

  /**
   * Round trip to the server: once it resolves, every serve()/subscribe() made before is
   * registered there. Await it before announcing a service (e.g. publishing daemon.started),
   * or a client may request before the subscription exists and get no responders.
   */
  async flush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (err) {
      throw new BusConnectionError(`flush failed: ${(err as Error).message}`, err);
    }
  }

  /** Stops every service (in-flight replies are sent), then drains and closes the connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#services].map((s) => s.stop()));
    if (!this.nc.isClosed()) {
      try {
        await this.nc.drain();
      } catch {
        await this.nc.close().catch(() => {});
      }
    }
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  return reason?.name === 'TimeoutError' ? new TimeoutError({ cause: reason })
    : new BusError('aborted', `request aborted: ${reason?.message ?? 'aborted'}`, { cause: reason });
}

/** Connects to NATS. Throws BusConnectionError (unreachable, auth failed, bad creds file). */
export async function connectBus(opts: ConnectBusOptions): Promise<Bus> {
  const authenticator: Authenticator[] = [];
  if (opts.token !== undefined) authenticator.push(tokenAuthenticator(opts.token));
  if (opts.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await fs.readFile(opts.credsFile);
    } catch (cause) {
      throw new BusConnectionError(`cannot read NATS credentials ${opts.credsFile}`, cause);
    }
    authenticator.push(credsAuthenticator(creds));
  }
  const host = hostId(opts.host);
  try {
    const nc = await connect({
      servers: opts.servers,
      name: opts.name ?? 'bvs',
      timeout: opts.timeoutMs ?? 5_000,
      ...(authenticator.length > 0 ? { authenticator } : {}),
      ...opts.nats,
    });
    return new Bus(nc, host, opts.onError);
  } catch (cause) {
    throw new BusConnectionError(`cannot connect to NATS ${String(opts.servers)}: ${(cause as Error).message}`, cause);
  }
}

/**
 * Connects to the bus a run dir publishes (DIR/nats.url, DIR/nats.token), addressing the host id
 * in DIR/nats.host unless `opts.host` is given.
 */
export async function connectRunDir(runDir: string, opts: Omit<ConnectBusOptions, 'servers' | 'token'> = {}): Promise<Bus> {
  const ep = await readEndpoint(runDir);
  return connectBus({
    ...opts,
    servers: ep.url,
    ...(ep.token === undefined ? {} : { token: ep.token }),
    ...(opts.host === undefined && ep.host !== undefined ? { host: ep.host } : {}),
  });
}
