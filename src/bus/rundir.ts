/**
 * The NATS files in the daemon's run directory (DIR, default /run/bvs), and how to read them.
 *
 *   DIR/nats.conf     0600  config of the embedded nats-server (holds the token: never in argv,
 *                           which every local user can read in /proc/PID/cmdline)
 *   DIR/nats.pid      0644  pid of the embedded nats-server (written by nats-server itself)
 *   DIR/nats.url      0644  client URL, e.g. nats://127.0.0.1:40959, written once it accepts
 *   DIR/nats.token    0600  auth token of the embedded server (absent when auth is off)
 *   DIR/nats.host     0644  the daemon's host id, so a CLI addresses bvs.<that host>.… even when
 *                           $BVS_HOST differs between the daemon and the CLI
 *   DIR/nats-server_<pid>.ports   written and removed by nats-server (--ports_file_dir)
 *
 * The url is written after the token, and removed before it, so a reader that finds the url
 * finds the token too. Only root (the daemon's user) can read the token: that is what makes
 * the loopback server as private as DIR/db.sock (mode 0600).
 *
 * Neighbours: none. Used by server.ts (writes) and client.ts / the CLI (reads).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BusConnectionError } from './errors.ts';

export const RunDirFile = {
  Conf: 'nats.conf',
  Pid: 'nats.pid',
  Url: 'nats.url',
  Token: 'nats.token',
  Host: 'nats.host',
} as const;

/** Where to reach the bus: a URL and, for the embedded server, its token. */
export interface BusEndpoint {
  url: string;
  token?: string;
  /** The daemon's host id (subject token). */
  host?: string;
}

/** Writes `data` to `file` atomically (temp file + rename) with `mode`. */
export async function writeFileAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data, { mode });
  await fs.chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await fs.rename(tmp, file);
}

/**
 * Publishes where the bus is. The embedded server calls this; a daemon using an external server
 * (--nats URL) may call it too, without a token (credentials stay in the creds file), so that
 * local CLIs find the bus. Pair it with removeEndpoint() on exit.
 */
export async function writeEndpoint(runDir: string, ep: BusEndpoint): Promise<void> {
  if (ep.host !== undefined) await writeFileAtomic(path.join(runDir, RunDirFile.Host), `${ep.host}\n`, 0o644);
  if (ep.token !== undefined) await writeFileAtomic(path.join(runDir, RunDirFile.Token), `${ep.token}\n`, 0o600);
  else await fs.rm(path.join(runDir, RunDirFile.Token), { force: true });
  await writeFileAtomic(path.join(runDir, RunDirFile.Url), `${ep.url}\n`, 0o644);
}

export async function removeEndpoint(runDir: string): Promise<void> {
  await fs.rm(path.join(runDir, RunDirFile.Url), { force: true });
  await fs.rm(path.join(runDir, RunDirFile.Token), { force: true });
  await fs.rm(path.join(runDir, RunDirFile.Host), { force: true });
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    const v = (await fs.readFile(file, 'utf8')).trim();
    return v === '' ? undefined : v;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BusConnectionError(`cannot read ${file}${(cause as NodeJS.ErrnoException).code === 'EACCES'
      ? ' (mode 0600: run as the daemon\'s user)' : ''}`, cause);
  }
}

/**
 * Reads DIR/nats.url (and DIR/nats.token, DIR/nats.host when present). Throws
 * BusConnectionError when there is no url: no daemon runs with that run dir (or it uses an
 * external server and did not publish it; pass --nats URL then).
 */
export async function readEndpoint(runDir: string): Promise<BusEndpoint> {
  let url: string;
  try {
    url = (await fs.readFile(path.join(runDir, RunDirFile.Url), 'utf8')).trim();
  } catch (cause) {
    throw new BusConnectionError(
      `cannot read ${path.join(runDir, RunDirFile.Url)}: is bvs daemon running with --run-dir ${runDir}?`, cause);
  }
  if (url === '') throw new BusConnectionError(`${path.join(runDir, RunDirFile.Url)} is empty`);
  const token = await readOptional(path.join(runDir, RunDirFile.Token));
  const host = await readOptional(path.join(runDir, RunDirFile.Host));
  return { url, ...(token === undefined ? {} : { token }), ...(host === undefined ? {} : { host }) };
}
