/**
 * The native addon's surface (addon/src/*.cc), typed. The addon is thin: it wraps libbpf and a
 * few syscalls, one call each, and throws AddonError-shaped errors. Policy (naming, retries,
 * pin layout, refcounts) lives in TypeScript.
 *
 * Every function that fails throws an Error with:
 *   code:  the errno name, e.g. 'ENOENT' (or 'EINVAL' for bad arguments from JS)
 *   errno: the positive errno number
 *   op:    the libbpf call or syscall that failed, e.g. 'bpf_map_update_elem'
 * Bad arguments from JS (wrong types, wrong buffer sizes) throw TypeError/RangeError; they never
 * crash the process. Those carry code 'EINVAL', errno 22 and op = the addon function's name
 * ('mapLookup'), and their message names the argument.
 *
 * Buffer sizes are checked against the map's key/value sizes, which the addon caches per fd.
 * Close map fds with `close()` below (not fs.closeSync) so that cache stays right; the kernel
 * reuses fd numbers.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface MapInfo {
  id: number;
  name: string;
  type: number;       // enum bpf_map_type
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags (BPF_F_*). */
  flags: number;
}

/** The extra fields of every Error the addon throws (see the header comment). */
export interface AddonErrorFields {
  code: string;
  errno: number;
  op: string;
  /** mapUpdateBatch/mapDeleteBatch: entries done before the failure. */
  count?: number;
  /** load: the libbpf log (warnings, verifier output) up to the failure, last 64 KiB. */
  log?: string;
}

export interface LoadResult {
  /** fd of the TC program: `opts.program` if given, else the object's first program. */
  progFd: number;
  /** fd of each map, by its name in the object (libbpf's internal maps such as
   *  "<obj>.rodata", if any, included). The caller owns and must close every fd. */
  maps: Record<string, number>;
  /** fd of every program, by its name in the object (its own fds, besides progFd). The caller
   *  owns and must close every fd. */
  progs: Record<string, number>;
}

export interface LoadOptions {
  /** Directory where maps are pinned by name (LIBBPF_PIN_BY_NAME); created maps are pinned here,
   *  existing pins are reused. Should exist (libbpf creates the last component only). */
  pinRoot: string;
  /** Overrides of max_entries by map name, applied before load. A reused pin keeps its own
   *  max_entries (its capacity is copied into the object before load), so an override only
   *  affects maps being created. A reused pin whose type, key or value size or flags differ
   *  fails the load (op 'bpf_object__load', EINVAL, "parameter mismatch" in the log). An
   *  unknown map name is a RangeError. */
  maxEntries?: Record<string, number>;
  /** Name of the program whose fd is returned as progFd (default: the first in the object). */
  program?: string;
}

export interface UpcallRing {
  /** Stop polling and free the ring buffer. Idempotent; callable from inside onRecords (the
   *  rest of the records already consumed in that wakeup are then dropped). */
  close(): void;
}

export interface Addon {
  /** Open and load a BPF object, reusing pinned maps. The bpf_object is closed before this
   *  returns: only the returned (dup'ed) fds keep the program and maps alive. A failure throws
   *  with op 'bpf_object__open_file' or 'bpf_object__load' and the libbpf log's tail appended
   *  to the message (full text in `.log`), so a verifier rejection is readable. */
  load(objPath: string, opts: LoadOptions): LoadResult;
  /** bpf_obj_get: open a pinned object. */
  objGet(pinPath: string): number;
  /** bpf_obj_pin. */
  objPin(fd: number, pinPath: string): void;
  /** close(2). */
  close(fd: number): void;
  /** bpf_obj_get_info_by_fd on a map fd (EINVAL when the fd is another kind of BPF object). */
  mapInfo(fd: number): MapInfo;

  /** Fills `value` and returns true, or returns false when the key is absent (ENOENT). For a
   *  per-CPU map, `value` must hold valueSize rounded up to 8, times numPossibleCpus(). */
  mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean;
  /** flags: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST. */
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  /** Returns false when the key was absent. */
  mapDelete(fd: number, key: Uint8Array): boolean;
  /** Writes the key after `key` (null: the first key) into `next`; false at the end. */
  mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean;
  /**
   * bpf_map_lookup_batch: reads up to `count` entries into keys/values (packed arrays) starting
   * at the position in `inBatch` (null: the start). Returns the number read and whether the map
   * is exhausted; `outBatch` receives the position for the next call (at least
   * max(keySize, 4) bytes: hash maps use a 4-byte bucket index). A hash bucket holding more
   * than `count` entries throws ENOSPC: retry with a larger count.
   */
  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array,
    keys: Uint8Array, values: Uint8Array, count: number): { count: number; done: boolean };
  /** bpf_map_update_batch; returns the number of entries written before an error (the error
   *  is thrown with `.count` set to that number). `flags` is the batch's elem_flags: kernel
   *  6.18 accepts only 0 or BPF_F_LOCK (4) there, BPF_NOEXIST/BPF_EXIST give EINVAL. */
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  /** bpf_map_delete_batch. */
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number;

  /** Attach a TC program with a tcx link (BPF_TCX_INGRESS, or BPF_TCX_EGRESS when egress);
   *  returns the link fd. Pin it to keep it after the process exits. */
  tcxAttach(progFd: number, ifindex: number, egress: boolean): number;
  /** bpf_link_detach on a link fd. */
  linkDetach(linkFd: number): void;
  /** Link info of a link fd: { id, progId, ifindex, attachType, type }. ifindex/attachType are
   *  filled for tcx (type 11), netkit and XDP links; a detached tcx link reports ifindex 0. */
  linkInfo(linkFd: number): { id: number; progId: number; ifindex: number; attachType: number; type: number };

  /**
   * Consume a BPF ring buffer on the libuv loop (epoll fd watched by uv_poll). `onRecords` is
   * called on the JS thread with a batch of records (each a copy), at most `maxBatch` at a time
   * (1..2^20), through a callback scope: its promise jobs and nextTicks run right after it.
   * At most max(4096, maxBatch) records are taken per wakeup before yielding to the loop.
   * An open ring keeps the loop alive and stays open even if the handle is dropped: close it.
   * An exception thrown by onRecords becomes an 'uncaughtException', as from any I/O callback.
   * `onError` receives a consume or poll failure (without it, those are uncaught exceptions);
   * a poll failure also stops the ring.
   */
  ringOpen(mapFd: number, maxBatch: number, onRecords: (records: Buffer[]) => void,
    onError?: (err: Error) => void): UpcallRing;

  /**
   * BPF_PROG_TEST_RUN: run a loaded program `repeat` times (default 1) on an skb built from
   * `data` (an Ethernet frame), on skb->dev = `ifindex` when given (> 1), without a device
   * hook. Map updates and ring buffer records really happen, once per run. Returns the last
   * return value, the mean duration per run, and, with `dataOut`, the length of the frame after
   * the program (ENOSPC when dataOut is too short).
   */
  progTestRun(progFd: number, data: Uint8Array,
    opts?: { repeat?: number; ifindex?: number; dataOut?: Uint8Array }): { retval: number; durationNs: number; dataOutLen: number };

  /** Send one frame (14..65535 bytes, starting with the Ethernet header) out of ifindex through
   *  an AF_PACKET socket kept open per ifindex, in this process's netns. Never blocks: a full
   *  socket buffer throws EAGAIN/ENOBUFS. ENXIO/ENODEV (no such interface) also drop the
   *  cached socket. */
  packetSend(ifindex: number, frame: Uint8Array): void;
  /** Close all cached AF_PACKET sockets. */
  packetCloseAll(): void;

  ifNameToIndex(name: string): number;   // 0 when absent
  ifIndexToName(ifindex: number): string | null;
  numPossibleCpus(): number;
  /** clock_gettime(CLOCK_MONOTONIC) in ns, the clock of bpf_ktime_get_ns(). */
  monotonicNs(): bigint;

  /** Native state counters, for leak checks in tests (not an API). */
  _internals(): { openRings: number; liveRings: number; packetSockets: number; cachedMapFds: number };
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const ADDON_PATH = path.resolve(here, '../../addon/build/Release/bvs_addon.node');
export const BPF_OBJECT_PATH = path.resolve(here, '../../bpf/.output/bvs.bpf.o');

let cached: Addon | undefined;

/** Load the addon (once). Throws a clear error when it has not been built. */
export function addon(): Addon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(ADDON_PATH) as Addon;
  } catch (err) {
    throw new Error(`bvs native addon not built (${ADDON_PATH}); run: bash scripts/setup.sh`, { cause: err });
  }
  return cached;
}
