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
 * crash the process.
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
}

export interface LoadResult {
  /** fd of the TC program (SEC("tc") bvs_ingress). */
  progFd: number;
  /** fd of each map, by its name in the object. */
  maps: Record<string, number>;
}

export interface LoadOptions {
  /** Directory where maps are pinned by name (LIBBPF_PIN_BY_NAME); created maps are pinned here,
   *  existing pins are reused. Must exist. */
  pinRoot: string;
  /** Overrides of max_entries by map name, applied before load (ignored for reused pins). */
  maxEntries?: Record<string, number>;
}

export interface UpcallRing {
  /** Stop polling and free the ring buffer. Idempotent. */
  close(): void;
}

export interface Addon {
  /** Open and load a BPF object, reusing pinned maps. */
  load(objPath: string, opts: LoadOptions): LoadResult;
  /** bpf_obj_get: open a pinned object. */
  objGet(pinPath: string): number;
  /** bpf_obj_pin. */
  objPin(fd: number, pinPath: string): void;
  /** close(2). */
  close(fd: number): void;
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
   * is exhausted; `outBatch` receives the position for the next call (keySize bytes).
   */
  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array,
    keys: Uint8Array, values: Uint8Array, count: number): { count: number; done: boolean };
  /** bpf_map_update_batch; returns the number of entries written before an error (the error
   *  is thrown with `.count` set to that number). */
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  /** bpf_map_delete_batch. */
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number;

  /** Attach a TC program with a tcx link (BPF_TCX_INGRESS, or BPF_TCX_EGRESS when egress);
   *  returns the link fd. Pin it to keep it after the process exits. */
  tcxAttach(progFd: number, ifindex: number, egress: boolean): number;
  /** bpf_link_detach on a link fd. */
  linkDetach(linkFd: number): void;
  /** Link info of a link fd: { id, progId, ifindex, attachType }. */
  linkInfo(linkFd: number): { id: number; progId: number; ifindex: number; attachType: number };

  /**
   * Consume a BPF ring buffer on the libuv loop (epoll fd watched by uv_poll). `onRecords` is
   * called on the JS thread with a batch of records (each a copy), at most `maxBatch` at a time.
   */
  ringOpen(mapFd: number, maxBatch: number, onRecords: (records: Buffer[]) => void): UpcallRing;

  /** Send one frame out of ifindex through an AF_PACKET socket kept open per ifindex. */
  packetSend(ifindex: number, frame: Uint8Array): void;
  /** Close all cached AF_PACKET sockets. */
  packetCloseAll(): void;

  ifNameToIndex(name: string): number;   // 0 when absent
  ifIndexToName(ifindex: number): string | null;
  numPossibleCpus(): number;
  /** clock_gettime(CLOCK_MONOTONIC) in ns, the clock of bpf_ktime_get_ns(). */
  monotonicNs(): bigint;
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
