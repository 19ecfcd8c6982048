/**
 * Every NATS subject of bvs, declared once, each paired with its zod schemas.
 *
 * Neighbours: contracts/* (schemas). Used by client.ts and by anyone naming a subject; nobody
 * else writes a subject string.
 */
import os from 'node:os';
import type { z } from 'zod';
import * as app from './contracts/appctl.ts';
import * as ev from './contracts/events.ts';
import * as of from './contracts/ofctl.ts';
import * as vs from './contracts/vsctl.ts';

/** Bumped on an incompatible change of any contract below; reported by daemon.ping. */
export const BUS_PROTOCOL_VERSION = 1;

/** First token of every subject. */
export const SUBJECT_ROOT = 'bvs';

/*
 * Subject grammar
 * ---------------
 *   subject  = "bvs" "." host "." kind "." name
 *   host     = token                      ; the daemon's host id, see hostId()
 *   kind     = "cmd"                      ; request/reply: the daemon serves, clients request
 *            | "evt"                      ; events: the daemon publishes, clients subscribe
 *   name     = token *( "." token )       ; fixed vocabulary below (keys of Commands/Events)
 *   token    = 1*64( %x61-7A / DIGIT / "-" / "_" )   ; lowercase letters, digits, '-', '_'
 *
 * Command names mirror the OVS tool and command they replace: "vsctl.add-br", "ofctl.dump-flows",
 * and appctl's "fdb/show" becomes "appctl.fdb.show" ('/' → '.').
 *
 * Bridge and port names are payload fields, never subject tokens: they may contain '.', which
 * NATS reserves as the token separator, and a fixed vocabulary keeps every subject a constant
 * that can be granted in a NATS permission ("bvs.h1.cmd.>" for operators, "bvs.h1.evt.>" for
 * monitors). Events are low-rate, so filtering by bridge happens in the subscriber.
 *
 * Wildcards (subscribers only): "bvs.<host>.evt.>" = every event of a host,
 * "bvs.*.evt.port.status" = one event from every host.
 */

/** Subject kinds (second-to-last level of the grammar). */
export const SubjectKind = { Command: 'cmd', Event: 'evt' } as const;

/** A request/reply contract: the request schema (strict) and the result schema of the reply. */
export interface CommandContract {
  readonly request: z.ZodType;
  readonly reply: z.ZodType;
  readonly summary: string;
}

/** A published event: its payload schema. */
export interface EventContract {
  readonly payload: z.ZodType;
  readonly summary: string;
}

/** Request/reply commands, by name (the subject suffix after "bvs.<host>.cmd."). */
export const Commands = {
  'daemon.ping': { request: vs.pingRequest, reply: vs.pingReply, summary: 'liveness, version and protocol' },
  'daemon.health': { request: vs.healthRequest, reply: vs.healthReply, summary: 'state of each supervised component' },

  'vsctl.add-br': { request: vs.addBrRequest, reply: vs.vsctlReply, summary: 'add a bridge (via OVSDB)' },
  'vsctl.del-br': { request: vs.delBrRequest, reply: vs.vsctlReply, summary: 'delete a bridge (via OVSDB)' },
  'vsctl.add-port': { request: vs.addPortRequest, reply: vs.vsctlReply, summary: 'add a port (via OVSDB)' },
  'vsctl.del-port': { request: vs.delPortRequest, reply: vs.vsctlReply, summary: 'delete a port (via OVSDB)' },

  'ofctl.add-flow': { request: of.addFlowRequest, reply: of.flowModReply, summary: 'add one flow' },
  'ofctl.add-flows': { request: of.addFlowsRequest, reply: of.flowModReply, summary: 'add flows, all or none' },
  'ofctl.mod-flows': { request: of.modFlowsRequest, reply: of.flowModReply, summary: 'modify actions of matching flows' },
  'ofctl.del-flows': { request: of.delFlowsRequest, reply: of.flowModReply, summary: 'delete matching flows' },
  'ofctl.dump-flows': { request: of.dumpFlowsRequest, reply: of.dumpFlowsReply, summary: 'list flows with stats' },
  'ofctl.dump-ports': { request: of.dumpPortsRequest, reply: of.dumpPortsReply, summary: 'port counters' },
  'ofctl.show': { request: of.showRequest, reply: of.showReply, summary: 'bridge features and ports' },

  'appctl.fdb.show': { request: app.fdbShowRequest, reply: app.fdbShowReply, summary: 'MAC learning table' },
  'appctl.fdb.flush': { request: app.fdbFlushRequest, reply: app.fdbFlushReply, summary: 'flush MAC tables' },
  'appctl.dpif.show': { request: app.dpifShowRequest, reply: app.dpifShowReply, summary: 'datapaths, their stats and ports' },
  'appctl.upcall.show': { request: app.upcallShowRequest, reply: app.upcallShowReply, summary: 'handlers, revalidators, flow limit' },
  'appctl.coverage.show': { request: app.coverageShowRequest, reply: app.coverageShowReply, summary: 'event counters: every resource limit hit' },
  'appctl.ofproto.trace': { request: app.traceRequest, reply: app.traceReply, summary: 'trace a flow through the live tables' },
} as const satisfies Record<string, CommandContract>;

/** Events, by name (the subject suffix after "bvs.<host>.evt."). */
export const Events = {
  'port.status': { payload: ev.portStatusEvent, summary: 'a port went up or down' },
  'flow-limit': { payload: ev.flowLimitEvent, summary: 'the datapath flow limit was reached' },
  'packet-in': { payload: ev.packetInEvent, summary: 'a packet sent to the controller' },
  'config.changed': { payload: ev.configChangedEvent, summary: 'a change was committed to OVSDB' },
  'config.applied': { payload: ev.configAppliedEvent, summary: 'cur_cfg advanced: a change is live' },
  'daemon.started': { payload: ev.daemonStartedEvent, summary: 'the daemon is serving' },
  'daemon.stopping': { payload: ev.daemonStoppingEvent, summary: 'the daemon is shutting down' },
} as const satisfies Record<string, EventContract>;

export type CommandName = keyof typeof Commands;
export type EventName = keyof typeof Events;

/** What a caller passes (defaults optional, bigints or numbers). */
export type RequestOf<C extends CommandName> = z.input<(typeof Commands)[C]['request']>;
/** What a handler receives (validated, transformed). */
export type ParsedRequestOf<C extends CommandName> = z.output<(typeof Commands)[C]['request']>;
/** What a handler returns. */
export type ReplyInputOf<C extends CommandName> = z.input<(typeof Commands)[C]['reply']>;
/** What a caller receives (validated, transformed: u64 fields are bigints). */
export type ReplyOf<C extends CommandName> = z.output<(typeof Commands)[C]['reply']>;
export type EventInputOf<E extends EventName> = z.input<(typeof Events)[E]['payload']>;
export type EventOf<E extends EventName> = z.output<(typeof Events)[E]['payload']>;

const TOKEN = /^[a-z0-9_-]{1,64}$/;

/** True when `s` is a valid host token of the grammar. */
export function isHostToken(s: string): boolean {
  return TOKEN.test(s);
}

/**
 * The host id that names this daemon's subjects: `explicit`, else $BVS_HOST, else os.hostname(),
 * sanitized into a token: lowercased, each run of characters outside [a-z0-9_-] (including the
 * dots of an FQDN) replaced by one '-', leading/trailing '-' trimmed, cut to 64 characters;
 * "localhost" if nothing is left. So "Node1.Example.com" → "node1-example-com".
 */
export function hostId(explicit?: string): string {
  const raw = explicit ?? process.env.BVS_HOST ?? os.hostname();
  const token = raw.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64)
    .replace(/-+$/, '');
  return token === '' ? 'localhost' : token;
}

function checkHost(host: string, allowWildcard: boolean): void {
  if (isHostToken(host) || (allowWildcard && host === '*')) return;
  throw new TypeError(`invalid host token ${JSON.stringify(host)} (use hostId() to sanitize)`);
}

/** "bvs.<host>.cmd.<name>": the subject a command is requested on. */
export function commandSubject(host: string, name: CommandName): string {
  checkHost(host, false);
  return `${SUBJECT_ROOT}.${host}.${SubjectKind.Command}.${name}`;
}

/** "bvs.<host>.evt.<name>"; host may be '*' to subscribe across hosts. */
export function eventSubject(host: string, name: EventName): string {
  checkHost(host, true);
  return `${SUBJECT_ROOT}.${host}.${SubjectKind.Event}.${name}`;
}

/** "bvs.<host>.evt.>": every event of a host (or of every host with '*'). */
export function allEventsSubject(host: string): string {
  checkHost(host, true);
  return `${SUBJECT_ROOT}.${host}.${SubjectKind.Event}.>`;
}

/** "bvs.<host>.cmd.>": every command of a host (for permissions; the daemon serves each one). */
export function allCommandsSubject(host: string): string {
  checkHost(host, false);
  return `${SUBJECT_ROOT}.${host}.${SubjectKind.Command}.>`;
}

/** Inverse of the builders: splits a concrete subject into host, kind and known name, or null. */
export function parseSubject(subject: string):
  | { host: string; kind: 'cmd'; name: CommandName }
  | { host: string; kind: 'evt'; name: EventName }
  | null {
  const parts = subject.split('.');
  if (parts.length < 4 || parts[0] !== SUBJECT_ROOT || !isHostToken(parts[1]!)) return null;
  const host = parts[1]!;
  const name = parts.slice(3).join('.');
  if (parts[2] === SubjectKind.Command && Object.hasOwn(Commands, name)) {
    return { host, kind: 'cmd', name: name as CommandName };
  }
  if (parts[2] === SubjectKind.Event && Object.hasOwn(Events, name)) {
    return { host, kind: 'evt', name: name as EventName };
  }
  return null;
}
