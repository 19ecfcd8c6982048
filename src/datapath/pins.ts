/**
 * Pins: where a datapath lives in bpffs, and its lifecycle (create, open, destroy, list).
 *
 * Pin layout (the root is $BVS_PIN_DIR, default /sys/fs/bpf/bvs):
 *   <root>/<dp>/<map>         every map of bvs.bpf.o, pinned by name (LIBBPF_PIN_BY_NAME)
 *   <root>/<dp>/prog          the TC program of every port (bvs_ingress)
 *   <root>/<dp>/exec          the execute program (bvs_exec, run by BPF_PROG_TEST_RUN)
 *   <root>/<dp>/link_<port>   the tcx link of each port (written by ports.ts)
 * Everything the datapath needs to forward is pinned, so packets keep flowing with no process,
 * and any process (the daemon, `bvs dpctl`) can open the datapath by name.
 *
 * Invariants:
 *   - a datapath exists under its real name only when complete: create builds it under a
 *     private name (`_creating-<name>-<pid>`) and renames it, so a crash or failure never
 *     leaves a half-made datapath under the real name;
 *   - names are letters, digits, `_` and `-` (bpffs refuses dots); a leading `_` is reserved for
 *     bvs itself (the private build names), so list() never reports one;
 *   - open checks every map's key and value size against this build's ABI (MAP_SHAPES) and
 *     refuses pins of another layout (INCOMPATIBLE_PINS) rather than misread them;
 *   - destroy works on a half-made datapath too: it detaches what is a link, unlinks the rest;
 *   - a datapath pinned by a bvs without the execute program or a newer map (meters) gets them
 *     at open: the object is loaded once more over the existing pins (maps reused, missing ones
 *     created and pinned, nothing else replaced) and its bvs_exec pinned, so forwarding is never
 *     interrupted by the upgrade (the attached program stays the old one until the datapath
 *     is re-created: its ports do not run actions it does not know, such as meter);
 *   - the pin root must be on bpffs: ensurePinRoot checks (and mounts /sys/fs/bpf when that is
 *     where it lies and nothing is mounted there), else refuses with an error naming the path.
 * This module knows nothing of flows, masks or ports beyond their pins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ABI, MAP_NAMES, MAP_SHAPES, PROGRAMS, type MapName } from './abi.ts';
import { addon, BPF_OBJECT_PATH } from './addon.ts';
import { DatapathError } from './errors.ts';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/bvs';
// bpffs refuses any name with a dot in it; names starting with '_' are reserved for bvs itself.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const TMP_PREFIX = '_creating-';
const LINK_PREFIX = 'link_';

/** Where the tcx link of a port is pinned. */
export function linkPinPath(dir: string, portNo: number): string {
  return path.join(dir, `${LINK_PREFIX}${portNo}`);
}

/** Detach the link pinned at `p` (a link whose device is gone is defunct already: fine).
 *  Throws when `p` cannot be opened; does not remove the pin. */
export function detachPinnedLink(p: string): void {
  const a = addon();
  const fd = a.objGet(p);
  try { a.linkDetach(fd); } catch { /* the device is gone: the link is defunct already */ } finally { a.close(fd); }
}

export interface CreateOptions {
  maxFlows?: number;
  /** Bytes of the upcall ring (a power of two, at least a page; default ABI.UPCALL_RING_BYTES). */
  upcallRingBytes?: number;
}

/** An fd per pinned map. */
export type Fds = Record<MapName, number>;

/** The open fds of a datapath (the caller closes them with closePins). */
export interface OpenPins {
  dir: string;
  fds: Fds;
  progFd: number;
  execFd: number;
}

const BPF_FS_MAGIC = 0xcafe4a11;
const BPFFS_MOUNT = '/sys/fs/bpf';

/**
 * Makes sure `root` is a directory on bpffs, creating it (mode 0700) if needed. When the nearest
 * existing ancestor is not on bpffs and `root` lies under /sys/fs/bpf (a mount namespace where
 * nothing is mounted there, such as `ip netns exec`'s), bpffs is mounted at /sys/fs/bpf; any
 * other place is refused. Errors name the path (an unmounted bpffs once made the daemon spin
 * in mkdir forever: sysfs answers mkdir with ENOENT and the parent with EEXIST). `mounted`
 * says a bpffs was mounted here: it lives only as long as this mount namespace, and so do the
 * pins (the caller should say so).
 */
export function ensurePinRoot(root: string): { mounted: boolean } {
  const abs = path.resolve(root);
  let base = abs;
  let mounted = false;
  while (!fs.existsSync(base)) base = path.dirname(base);
  if (fs.statfsSync(base).type !== BPF_FS_MAGIC) {
    const under = abs === BPFFS_MOUNT || abs.startsWith(`${BPFFS_MOUNT}/`);
    if (!under || !fs.existsSync(BPFFS_MOUNT) || fs.statfsSync(BPFFS_MOUNT).type === BPF_FS_MAGIC) {
      throw new DatapathError('NO_BPFFS', `pin directory ${abs} is not on a BPF filesystem (bpffs): mount one there, e.g. mount -t bpf bpf ${BPFFS_MOUNT}`);
    }
    try {
      execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS_MOUNT], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new DatapathError('NO_BPFFS', `pin directory ${abs}: ${BPFFS_MOUNT} is not bpffs and mounting it failed: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`, { cause: err });
    }
    base = BPFFS_MOUNT;
    mounted = true;
  }
  // One level at a time, from the bpffs ancestor down (never fs.mkdirSync's recursive mode).
  const rest = path.relative(base, abs).split(path.sep).filter((x) => x.length > 0);
  let cur = base;
  for (const part of rest) {
    cur = path.join(cur, part);
    try {
      fs.mkdirSync(cur, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DatapathError('NO_BPFFS', `cannot create pin directory ${cur}: ${(err as Error).message}`, { cause: err });
    }
  }
  return { mounted };
}

/**
 * Remove a file or directory tree in bpffs. (fs.rmSync's recursive mode trips over bpffs: it
 * answers readdir of a missing path with EPERM.) Missing paths are fine.
 */
export function removePins(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p)) removePins(path.join(p, e));
    fs.rmdirSync(p);
  } else {
    fs.unlinkSync(p);
  }
}

export function pinRoot(): string {
  return process.env.BVS_PIN_DIR || DEFAULT_PIN_ROOT;
}

export function dirOf(name: string): string {
  return path.join(pinRoot(), name);
}

export function exists(name: string): boolean {
  return fs.existsSync(path.join(dirOf(name), 'flows'));
}

/** Names of the datapaths pinned under the pin root. */
export function list(): string[] {
  const root = pinRoot();
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).filter((n) => NAME_RE.test(n) && exists(n)).sort();
}

/** Load the program and create the maps, pinned under <root>/<name>. All or nothing. */
export function createPins(name: string, opts: CreateOptions = {}): void {
  if (!NAME_RE.test(name)) {
    throw new DatapathError('NO_SUCH_DATAPATH', `invalid datapath name "${name}" (letters, digits, _ and -; bpffs allows no dots)`);
  }
  const dir = dirOf(name);
  if (fs.existsSync(dir)) throw new DatapathError('DATAPATH_EXISTS', `datapath ${name} already exists`);
  const maxFlows = opts.maxFlows ?? ABI.DEFAULT_MAX_FLOWS;
  if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 16 * 1024 * 1024) {
    throw new DatapathError('FLOW_TABLE_FULL', `invalid flow table size ${maxFlows}`);
  }
  const ring = opts.upcallRingBytes ?? ABI.UPCALL_RING_BYTES;
  if (!Number.isInteger(ring) || ring < 4096 || ring > 1 << 30 || (ring & (ring - 1)) !== 0) {
    throw new DatapathError('BAD_RING_SIZE', `invalid upcall ring size ${ring} (a power of two from 4096 to 2^30 bytes)`);
  }
  const a = addon();
  ensurePinRoot(pinRoot());
  const tmp = path.join(pinRoot(), `${TMP_PREFIX}${name}-${process.pid}`);
  removePins(tmp);
  fs.mkdirSync(tmp, { mode: 0o700 });
  try {
    const loaded = a.load(BPF_OBJECT_PATH, { pinRoot: tmp, maxEntries: { flows: maxFlows, upcalls: ring } });
    try {
      for (const [prog, pin] of Object.entries(PROGRAMS)) a.objPin(programFd(loaded.progs, prog), path.join(tmp, pin));
    } finally {
      a.close(loaded.progFd);
      for (const fd of Object.values(loaded.progs)) a.close(fd);
      for (const fd of Object.values(loaded.maps)) a.close(fd);
    }
    fs.renameSync(tmp, dir);
  } catch (err) {
    removePins(tmp);
    throw err;
  }
}

/** Open the pins of a datapath, checking each map's shape against this build's ABI. */
export function openPins(name: string): OpenPins {
  const dir = dirOf(name);
  if (!exists(name)) throw new DatapathError('NO_SUCH_DATAPATH', `no datapath named ${name}`);
  const a = addon();
  const fds: Partial<Fds> = {};
  let progFd = -1;
  let execFd = -1;
  try {
    completePins(dir);
    for (const m of MAP_NAMES) {
      fds[m] = a.objGet(path.join(dir, m));
      if (m === 'upcalls') continue;
      const info = a.mapInfo(fds[m]!);
      const want = MAP_SHAPES[m];
      if (info.keySize !== want.key || info.valueSize !== want.value) {
        throw new DatapathError('INCOMPATIBLE_PINS',
          `datapath ${name}: map ${m} has key/value ${info.keySize}/${info.valueSize} bytes, this bvs expects ${want.key}/${want.value}; delete and re-create the datapath`);
      }
    }
    progFd = a.objGet(path.join(dir, PROGRAMS.bvs_ingress));
    execFd = a.objGet(path.join(dir, PROGRAMS.bvs_exec));
  } catch (err) {
    for (const fd of Object.values(fds)) a.close(fd);
    if (progFd >= 0) a.close(progFd);
    if (execFd >= 0) a.close(execFd);
    if (err instanceof DatapathError) throw err;
    throw new DatapathError('INCOMPATIBLE_PINS', `datapath ${name} is incomplete: ${(err as Error).message}`, { cause: err });
  }
  return { dir, fds: fds as Fds, progFd, execFd };
}

function programFd(progs: Record<string, number>, name: string): number {
  const fd = progs[name];
  if (fd === undefined) throw new DatapathError('INCOMPATIBLE_PINS', `${BPF_OBJECT_PATH} has no program ${name}`);
  return fd;
}

/**
 * Adds what an older bvs did not pin (the execute program, a newer map) by loading the object
 * over the pins (see above).
 */
function completePins(dir: string): void {
  const a = addon();
  const pin = path.join(dir, PROGRAMS.bvs_exec);
  const missing = MAP_NAMES.some((m) => !fs.existsSync(path.join(dir, m)));
  if (!missing && fs.existsSync(pin)) return;
  const loaded = a.load(BPF_OBJECT_PATH, { pinRoot: dir });
  try {
    if (!fs.existsSync(pin)) {
      try {
        a.objPin(programFd(loaded.progs, 'bvs_exec'), pin);
      } catch (err) {
        // Another process pinned it first: use theirs.
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    a.close(loaded.progFd);
    for (const fd of Object.values(loaded.progs)) a.close(fd);
    for (const fd of Object.values(loaded.maps)) a.close(fd);
  }
}

/** Close what openPins opened. */
export function closePins(p: Pick<OpenPins, 'fds' | 'progFd' | 'execFd'>): void {
  const a = addon();
  for (const fd of Object.values(p.fds)) a.close(fd);
  a.close(p.progFd);
  a.close(p.execFd);
}

/** Detach every port and remove every pin of the datapath. Works on a half-made one too. */
export function destroyPins(name: string): void {
  const dir = dirOf(name);
  if (!fs.existsSync(dir)) throw new DatapathError('NO_SUCH_DATAPATH', `no datapath named ${name}`);
  for (const entry of fs.readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (entry.startsWith(LINK_PREFIX)) {
      try { detachPinnedLink(p); } catch { /* not a link: just unlink it */ }
    }
    removePins(p);
  }
  fs.rmdirSync(dir);
}
