/**
 * OVSDB helpers shared by the tests and bench/ovsdb. The client is the product's own
 * (src/vsctl OvsdbClient); these only wait for it, collect what it is told, and watch a server's
 * connections from the server side.
 *
 * - connectWhenUp: a server that was just spawned accepts connections some time later; poll
 *   (waitFor) until it does, and fail at once if its process exits first.
 * - Notes: the notifications a client received, in order, with waitFor-based waiting.
 * - tapConnections: what each client of an in-process server sent, and an echo probe
 *   (RFC 7047 §4.1.11) that proves a client has read everything the server sent it before: a
 *   client answers the echo only after it has dispatched the messages that came before it on
 *   the same stream. That is the positive signal a test waits for before asserting that a
 *   client did NOT do something (exit, send another request) after a given reply.
 */
import type { ChildProcess } from 'node:child_process';
import type * as net from 'node:net';
import { JsonSplitter } from '../../src/ovsdb/index.ts';
import { OvsdbClient, type JsonRpcMessage } from '../../src/vsctl/index.ts';
import { waitFor, type WaitOptions } from './wait.ts';

export class ServerExitedError extends Error {
  override name = 'ServerExitedError';
}

/** Connects to `unix:SOCK` as soon as the server accepts; `child` is the server's process. */
export async function connectWhenUp(sock: string, child?: ChildProcess, log: () => string = () => ''): Promise<OvsdbClient> {
  const got = await waitFor(`a server accepting on ${sock}`, async () => {
    if (child && (child.exitCode !== null || child.signalCode !== null)) return 'exited' as const;
    return OvsdbClient.connect(`unix:${sock}`); // throws (ENOENT, ECONNREFUSED) until it listens
  });
  if (got === 'exited') throw new ServerExitedError(`the server for ${sock} exited (${child!.exitCode ?? child!.signalCode}) ${log()}`);
  return got;
}

export interface Note {
  method: string;
  params: unknown;
}

/** The notifications a client receives, in arrival order. */
export class Notes {
  readonly list: Note[] = [];

  constructor(client: OvsdbClient) {
    client.onNotify((method, params) => this.list.push({ method, params }));
  }

  /** The first notification from index `from` on that matches `pred`, waiting for it. */
  next(what: string, pred: (n: Note) => boolean, from = 0, opts?: WaitOptions): Promise<Note> {
    return waitFor(what, () => this.list.slice(from).find(pred), opts);
  }
}

/** One accepted connection, seen from the server's side. */
export interface TappedConnection {
  readonly sock: net.Socket;
  /** Every message the client sent, in order (requests, notifications, replies to echoes). */
  readonly received: JsonRpcMessage[];
  /** Sends an echo request to the client and waits for its reply (see the header). */
  probe(): Promise<void>;
}

let probes = 0;

/** Taps every connection `server` accepts from now on (it must be the in-process server's). */
export function tapConnections(server: net.Server): { conns: TappedConnection[]; stop(): void } {
  const conns: TappedConnection[] = [];
  const onConnection = (sock: net.Socket): void => {
    const received: JsonRpcMessage[] = [];
    const splitter = new JsonSplitter();
    sock.on('data', (d: Buffer) => {
      for (const t of splitter.push(d)) received.push(JSON.parse(t) as JsonRpcMessage);
    });
    conns.push({
      sock,
      received,
      async probe() {
        const id = `bvs-test-probe-${++probes}`;
        // The server answers the echo reply with nothing (jsonrpc.ts ignores replies).
        sock.write(JSON.stringify({ method: 'echo', params: [id], id }));
        await waitFor(`the client to answer echo ${id}`, () => {
          if (received.some((m) => m.id === id && 'result' in m)) return true;
          if (sock.destroyed) throw new Error('the client closed its connection');
          return false;
        });
      },
    });
  };
  server.on('connection', onConnection);
  return { conns, stop: () => server.off('connection', onConnection) };
}
