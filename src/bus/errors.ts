/**
 * Errors of the NATS bus, one class per failure (nats.js style): each has a `name`, a `code`
 * that also travels in error replies, and a `cause` when it wraps another error.
 *
 * Neighbours: none (leaf module). Used by codec, client, server.
 */
import type { z } from 'zod';

/**
 * Error codes carried in `{ ok: false, error: { code } }` replies and on thrown BusErrors.
 * Stable strings: the CLI and foreign clients switch on them.
 */
export const BusErrorCode = {
  /** The payload was not valid JSON (or not UTF-8). */
  BadJson: 'bad_json',
  /** A request failed its zod schema; `field` names the offending field. */
  InvalidRequest: 'invalid_request',
  /** A reply failed its zod schema (a daemon bug or a version skew); `field` names it. */
  InvalidReply: 'invalid_reply',
  /** An event payload failed its zod schema. */
  InvalidEvent: 'invalid_event',
  /** The named bridge, port or flow does not exist. */
  NotFound: 'not_found',
  /** The change conflicts with the current state (e.g. add-br of an existing bridge). */
  Conflict: 'conflict',
  /** The daemon cannot serve this now (starting, stopping, a component is down). */
  Unavailable: 'unavailable',
  /** The encoded reply exceeds the server's max_payload. */
  TooLarge: 'too_large',
  /** The handler failed in an unexpected way. */
  Internal: 'internal',
  /** No reply within the deadline. */
  Timeout: 'timeout',
  /** Nobody serves this subject: the daemon for that host is not running. */
  NoResponders: 'no_responders',
  /** Connection-level failure (closed, auth, unreachable). */
  Connection: 'connection',
} as const;
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

export interface BusErrorOptions {
  field?: string;
  cause?: unknown;
}

/** Base class. Handlers may throw it to choose the code/field of their error reply. */
export class BusError extends Error {
  override name = 'BusError';
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, opts: BusErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.field = opts.field;
  }
}

/** Where a payload failed its schema. */
export type ValidationSide = 'request' | 'reply' | 'event';

/** A payload failed its zod schema. `field` is the zod issue path joined by '.', '' for the root. */
export class BusValidationError extends BusError {
  override name = 'BusValidationError';
  readonly side: ValidationSide;
  readonly issues: readonly z.core.$ZodIssue[];
  constructor(side: ValidationSide, subject: string, issues: readonly z.core.$ZodIssue[]) {
    const { field, message } = describeIssues(issues);
    const code = side === 'request' ? BusErrorCode.InvalidRequest
      : side === 'reply' ? BusErrorCode.InvalidReply : BusErrorCode.InvalidEvent;
    super(code, `${subject}: invalid ${side}: ${field === '' ? '(root)' : field}: ${message}`, { field });
    this.side = side;
    this.issues = issues;
  }
}

/** No reply before the deadline. */
export class BusTimeoutError extends BusError {
  override name = 'BusTimeoutError';
  constructor(subject: string, timeoutMs: number, cause?: unknown) {
    super(BusErrorCode.Timeout, `${subject}: no reply within ${timeoutMs} ms`, { cause });
  }
}

/** Nobody listens on the subject (NATS "no responders"): the daemon is not running for that host. */
export class BusNoRespondersError extends BusError {
  override name = 'BusNoRespondersError';
  constructor(subject: string, cause?: unknown) {
    super(BusErrorCode.NoResponders, `${subject}: no responders (is bvs daemon running for this host?)`, { cause });
  }
}

/** The remote side answered `{ ok: false }`: code, message and field are the remote's. */
export class BusRemoteError extends BusError {
  override name = 'BusRemoteError';
  readonly subject: string;
  constructor(subject: string, code: string, message: string, field?: string) {
    super(code, message, { field });
    this.subject = subject;
  }
}

/** Connecting or talking to the NATS server failed. */
export class BusConnectionError extends BusError {
  override name = 'BusConnectionError';
  constructor(message: string, cause?: unknown) {
    super(BusErrorCode.Connection, message, { cause });
  }
}

/**
 * Picks the first issue and names its field. An `unrecognized_keys` issue names the unknown key
 * (so a typo like `brdige` is reported as field `brdige`), not its parent object.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { field: string; message: string } {
  const first = issues[0];
  if (first === undefined) return { field: '', message: 'invalid' };
  const path = first.path.map((p) => String(p));
  if (first.code === 'unrecognized_keys' && first.keys.length > 0) {
    return { field: [...path, first.keys[0]!].join('.'), message: first.message };
  }
  return { field: path.join('.'), message: first.message };
}
