/**
 * src/sockets: how bvs listens, the same for every server it runs (OVSDB remotes, OpenFlow
 * management sockets, passive controllers, and the unixctl sockets to come):
 *
 * - a unix socket is owner-only: a stale file is replaced, the umask is narrowed around bind
 *   (so the socket never exists with wider permissions), then the mode is set (default 0600);
 * - a TCP listener binds the address it is given (callers default to loopback);
 * - connections past a limit are closed at accept (node's maxConnections + 'drop'), each one
 *   reported, and logged at most once a second with the count since the last line.
 */
import fs from 'node:fs';
import type net from 'node:net';

/** Listens on a unix socket with `mode` (see the note); resolves once bound. */
export async function listenUnix(server: net.Server, path: string, mode = 0o600): Promise<void> {
  fs.rmSync(path, { force: true });
  const old = process.umask(0o777 & ~mode);
  try {
    await bound(server, (done) => server.listen(path, done));
  } finally {
    process.umask(old);
  }
  fs.chmodSync(path, mode);
}

/** Listens on TCP `host`:`port` (port 0: the kernel picks); resolves once bound. */
export function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  return bound(server, (done) => server.listen({ host, port }, done));
}

function bound(server: net.Server, listen: (done: () => void) => void): Promise<void> {
  return new Promise<void>((res, rej) => {
    server.once('error', rej);
    listen(() => { server.off('error', rej); res(); });
  });
}

export interface ConnectionLimit {
  max: number;
  /** Each connection closed at accept. */
  onReject?: () => void;
  /** The log line, at most once a second: `refused` connections since the last one. */
  log: (refused: number) => void;
  /** Milliseconds (default Date.now). */
  now?: () => number;
}

/** Caps the server's open connections (see the note). */
export function limitConnections(server: net.Server, o: ConnectionLimit): void {
  const now = o.now ?? Date.now;
  server.maxConnections = o.max;
  let lastLog = -Infinity, unlogged = 0;
  server.on('drop', () => {
    unlogged++;
    o.onReject?.();
    const t = now();
    if (t - lastLog < 1000) return;
    lastLog = t;
    o.log(unlogged);
    unlogged = 0;
  });
}
