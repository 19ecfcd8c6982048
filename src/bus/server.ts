/**
 * The embedded nats-server: the daemon's private bus when no --nats URL is given.
 *
 * What it is: Debian's /usr/sbin/nats-server run as a child process, bound to loopback on a
 * random port (`port: -1`, which nats-server resolves itself, so there is no free-port race),
 * with a random token (authorization) so that only users who can read DIR/nats.token (0600)
 * can command the switch. Its URL is published in DIR/nats.url once it accepts connections.
 *
 * Never left behind: nats-server is started under a tiny bash guard (GUARD below) whose stdin
 * is a pipe from this process. The kernel closes that pipe whenever we die, SIGKILL included;
 * the guard reads EOF and stops nats-server. Normal stop: SIGTERM to the guard, which forwards
 * it (as SIGINT) and waits; after `stopTimeoutMs`, SIGKILL to the guard's whole process group (it
 * runs in its own session, `detached`), which contains nats-server. As a last line, start()
 * reaps a stale server named by DIR/nats.pid (one whose guard is gone, e.g. after the whole
 * group was SIGKILLed) before starting a new one. We reap rather than adopt: a fresh server gets
 * a fresh token, and ownership stays simple (the server is always our child's child).
 *
 * Invariants:
 * - At most one embedded server per run dir. A server whose guard is still alive after a grace
 *   period belongs to a running daemon: start() fails with NatsServerBusyError and touches
 *   nothing. (The daemon should still hold its own run-dir lock.)
 * - DIR/nats.url exists only while the server accepts connections (removed on stop).
 * - The token never appears in argv: it is in DIR/nats.conf (0600).
 *
 * Neighbours: rundir.ts (files), proc.ts (/proc), subjects.ts (host ids). No NATS client here: readiness is a TCP probe
 * that reads the server's INFO line (NATS protocol: the server speaks first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, procArgv, procStat, signal, waitGone } from './proc.ts';
import { RunDirFile, removeEndpoint, writeEndpoint, writeFileAtomic } from './rundir.ts';
import { isHostToken } from './subjects.ts';

export const DEFAULT_NATS_SERVER = '/usr/sbin/nats-server';
/** Marker in the guard's argv ($0 of `bash -c`), used to recognise our guard in /proc. */
const GUARD_NAME = 'bvs-nats-guard';

/*
 * $0 = GUARD_NAME, "$@" = nats-server argv. fd 3 keeps the parent's pipe for the watcher; the
 * server gets /dev/null as stdin and no fd 3. `wait` returns 128+N early when a trapped signal
 * arrives, hence the loop: while the server runs, wait again; once it is gone (bash may have
 * reaped it meanwhile and kept its status), a second wait yields its real status, or 127 when
 * the first wait already did (the server died of a signal). The watcher is killed once the server exits.
 * SIGINT, not SIGTERM, is what we send nats-server: both shut it down gracefully, but it exits
 * 1 on SIGTERM and 0 on SIGINT, and a clean stop should look clean to a supervisor.
 */
const GUARD = `
exec 3<&0
"$@" </dev/null 3<&- &
srv=$!
( while read -r _ <&3; do :; done; kill -INT "$srv" 2>/dev/null ) </dev/null &
watch=$!
exec 3<&-
trap 'kill -INT "$srv" 2>/dev/null' TERM INT HUP
while :; do
  wait "$srv"; rc=$?
  [ "$rc" -le 128 ] && break
  kill -0 "$srv" 2>/dev/null && continue
  wait "$srv"; r=$?
  [ "$r" -ne 127 ] && rc=$r
  break
done
kill "$watch" 2>/dev/null
exit "$rc"
`;

export interface NatsServerOptions {
  /** Run directory: nats.conf, nats.pid, nats.url, nats.token live here. Created if missing. */
  runDir: string;
  /** Bind address. Default 127.0.0.1; anything else exposes the switch's control plane. */
  bind?: string;
  /** Client port. Default: random (nats-server's `-1`). */
  port?: number;
  /** Default $BVS_NATS_SERVER or /usr/sbin/nats-server. */
  binary?: string;
  /** Token auth: a string, or true (default) for a random one, or false for none. */
  token?: string | boolean;
  /** max_payload in bytes. Default 8 MiB, so large dump-flows replies fit. */
  maxPayload?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** The daemon's host id, published in DIR/nats.host for local CLIs. */
  hostId?: string;
  /** Each line nats-server logs (stderr), e.g. to forward to pino. */
  onLog?: (line: string) => void;
}

export interface NatsServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NatsServerError extends Error {
  override name = 'NatsServerError';
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
  }
}

/** The run dir's server belongs to a live daemon (its guard is alive). */
export class NatsServerBusyError extends NatsServerError {
  override name = 'NatsServerBusyError';
  constructor(readonly runDir: string, readonly pid: number, readonly guardPid: number) {
    super(`${runDir}: nats-server pid ${pid} is owned by a live bvs guard (pid ${guardPid}); another daemon uses this run dir`);
  }
}

/** A running embedded server. */
export interface NatsServer {
  readonly url: string;
  readonly token: string | undefined;
  /** nats-server's pid (not the guard's). */
  readonly pid: number;
  readonly runDir: string;
  /**
   * Settles when the server exits, for whatever reason. After an unexpected exit, a supervisor
   * calls stop() (which then only removes the files) and starts a new server.
   */
  readonly exited: Promise<NatsServerExit>;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; removes nats.url/nats.token/nats.pid. Idempotent. */
  stop(): Promise<void>;
}

async function readPidFile(file: string): Promise<number | null> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

async function isGuard(pid: number): Promise<boolean> {
  return (await procArgv(pid))?.includes(GUARD_NAME) ?? false;
}

/**
 * Kills a stale embedded server of `runDir` (one named by DIR/nats.pid that runs nats-server
 * with this run dir's nats.conf and has no live guard), and removes its files.
 * Returns its pid, or null when there was none. Throws NatsServerBusyError if it is owned.
 */
export async function reapStaleNatsServer(runDir: string): Promise<number | null> {
  const pidFile = path.join(runDir, RunDirFile.Pid);
  const pid = await readPidFile(pidFile);
  let reaped: number | null = null;
  if (pid !== null && (await isAlive(pid))) {
    const argv = await procArgv(pid);
    const ours = argv !== null && path.basename(argv[0] ?? '') === 'nats-server'
      && argv.includes(path.join(runDir, RunDirFile.Conf));
    if (ours) {
      const ppid = (await procStat(pid))?.ppid ?? 0;
      // An orphaned guard kills its server within milliseconds of reading EOF: give it a moment
      // before deciding the guard (hence a daemon) is alive.
      if (ppid > 1 && (await isGuard(ppid)) && !(await waitGone(pid, 1000))) {
        if (await isAlive(ppid)) throw new NatsServerBusyError(runDir, pid, ppid);
      }
      signal(pid, 'SIGTERM');
      if (!(await waitGone(pid, 3000))) {
        signal(pid, 'SIGKILL');
        await waitGone(pid, 2000);
      }
      reaped = pid;
    }
  }
  await fs.rm(pidFile, { force: true });
  if (pid !== null) await fs.rm(path.join(runDir, `nats-server_${pid}.ports`), { force: true });
  await removeEndpoint(runDir);
  return reaped;
}

function confString(s: string): string {
  if (/["\\\n\r]/.test(s)) throw new NatsServerError(`unsupported character in ${JSON.stringify(s)}`);
  return `"${s}"`;
}

function renderConf(o: { runDir: string; bind: string; port: number; token?: string; maxPayload: number }): string {
  const lines = [
    '# Written by bvs (src/bus/server.ts) at each start; do not edit.',
    `host: ${confString(o.bind)}`,
    `port: ${o.port}`,
    `pid_file: ${confString(path.join(o.runDir, RunDirFile.Pid))}`,
    `ports_file_dir: ${confString(o.runDir)}`,
    `max_payload: ${o.maxPayload}`,
  ];
  if (o.token !== undefined) lines.push('authorization {', `  token: ${confString(o.token)}`, '}');
  return `${lines.join('\n')}\n`;
}

/** Connects, waits for the server's "INFO {...}" greeting, closes. */
function probeInfo(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('INFO '));
    });
    sock.on('error', () => done(false));
  });
}

/**
 * The client port from nats-server's ports file ({"nats":["nats://127.0.0.1:40959"],...}), or
 * null while it is missing or partly written (nats-server does not write it atomically).
 */
async function readPortsFile(file: string): Promise<number | null> {
  try {
    const first = (JSON.parse(await fs.readFile(file, 'utf8')) as { nats?: unknown[] }).nats?.[0];
    const port = typeof first === 'string' ? Number(new URL(first).port) : NaN;
    return Number.isInteger(port) && port > 0 ? port : null;
  } catch {
    return null;
  }
}

function urlHost(bind: string): string {
  const h = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  return h.includes(':') ? `[${h}]` : h;
}

/**
 * Starts the embedded nats-server for `opts.runDir` and resolves once it accepts connections
 * and DIR/nats.url is written. Reaps a stale server first. On failure nothing is left running,
 * and the error carries the tail of nats-server's log.
 */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServer> {
  const runDir = path.resolve(opts.runDir);
  const bind = opts.bind ?? '127.0.0.1';
  const binary = opts.binary ?? process.env.BVS_NATS_SERVER ?? DEFAULT_NATS_SERVER;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  const token = opts.token === false ? undefined
    : typeof opts.token === 'string' ? opts.token : randomBytes(24).toString('base64url');
  if (opts.hostId !== undefined && !isHostToken(opts.hostId)) {
    throw new NatsServerError(`invalid host id ${JSON.stringify(opts.hostId)} (use hostId() to sanitize)`);
  }
  const port = opts.port ?? -1;
  if (!Number.isInteger(port) || port < -1 || port > 65535) throw new NatsServerError(`invalid port ${port}`);

  await fs.mkdir(runDir, { recursive: true, mode: 0o755 });
  await reapStaleNatsServer(runDir);
  const confPath = path.join(runDir, RunDirFile.Conf);
  await writeFileAtomic(confPath, renderConf({ runDir, bind, port, token, maxPayload: opts.maxPayload ?? 8 << 20 }), 0o600);

  const child: ChildProcess = spawn('bash', ['-c', GUARD, GUARD_NAME, binary, '-c', confPath], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true, // own session and process group: SIGKILL -pgid reaches nats-server too
  });
  child.stdin!.on('error', () => { /* EPIPE after the guard exits: nothing to do */ });
  const tail: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    opts.onLog?.(line);
  });
  const logClosed = new Promise<void>((resolve) => lines.once('close', resolve));
  let exit: NatsServerExit | null = null;
  const exited = new Promise<NatsServerExit>((resolve) => {
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      resolve(exit);
    });
    child.on('error', (err) => {
      tail.push(`spawn: ${err.message}`);
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });

  let srvPid = 0;
  const killAll = async (): Promise<void> => {
    if (exit === null && child.pid !== undefined) {
      signal(child.pid, 'SIGTERM');
      const graceful = await Promise.race([exited.then(() => true), sleep(stopTimeoutMs).then(() => false)]);
      if (!graceful) {
        signal(-child.pid, 'SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
    }
    if (srvPid > 0 && !(await waitGone(srvPid, 1000))) {
      signal(srvPid, 'SIGKILL');
      await waitGone(srvPid, 1000);
    }
    await removeEndpoint(runDir);
    await fs.rm(path.join(runDir, RunDirFile.Pid), { force: true });
    if (srvPid > 0) await fs.rm(path.join(runDir, `nats-server_${srvPid}.ports`), { force: true });
  };

  let url = '';
  try {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exit !== null) throw new NatsServerError(`nats-server exited during start (${JSON.stringify(exit)})`);
      if (Date.now() > deadline) throw new NatsServerError(`nats-server not ready within ${startTimeoutMs} ms`);
      if (srvPid === 0) srvPid = (await readPidFile(path.join(runDir, RunDirFile.Pid))) ?? 0;
      if (srvPid > 0) {
        const actual = await readPortsFile(path.join(runDir, `nats-server_${srvPid}.ports`));
        if (actual !== null) {
          const host = urlHost(bind);
          if (await probeInfo(host.replace(/^\[|\]$/g, ''), actual, 1000)) {
            url = `nats://${host}:${actual}`;
            break;
          }
        }
      }
      await sleep(20);
    }
    await writeEndpoint(runDir, {
      url, ...(token === undefined ? {} : { token }), ...(opts.hostId === undefined ? {} : { host: opts.hostId }),
    });
  } catch (err) {
    await killAll();
    await Promise.race([logClosed, sleep(500)]); // the last lines say why it failed
    const log = tail.length > 0 ? `\n${tail.join('\n')}` : '';
    throw new NatsServerError(`${(err as Error).message}${log}`, { cause: err });
  }

  let stopping: Promise<void> | null = null;
  return {
    url,
    token,
    pid: srvPid,
    runDir,
    exited,
    stop: () => (stopping ??= killAll()),
  };
}
