/**
 * The MAC learning table of the NORMAL action (after OVS lib/mac-learning.c): (VLAN, MAC) ->
 * port, with idle aging (300 s default) and a size limit (8192 default; the least recently
 * learned entry is evicted).
 *
 * Revalidation contract: a megaflow built by NORMAL depends on the entries it looked up (its
 * `macDeps`). Every change of an entry (learned, moved to another port, expired, evicted) bumps
 * `generation` and records that generation for the (VLAN, MAC) key. A megaflow translated when
 * the table was at generation g is still valid iff none of its deps changed after g:
 * isValid(deps, g). To bound memory, the change log is dropped when it grows past 4x the size
 * limit; flows older than that point are then all reported stale (conservative, never wrong).
 * `onMove` fires when a MAC is learned on a new port, so the daemon can revalidate promptly.
 */

export interface MacEntry {
  vlan: number;
  mac: number;
  port: number;
  used: number;
}

export interface MacDep {
  vlan: number;
  mac: number;
}

export type LearnResult = 'new' | 'moved' | 'refreshed' | 'ignored';

export interface MacTableOptions {
  maxEntries?: number;
  idleSeconds?: number;
  now?: () => number;
  onMove?: (e: MacEntry, oldPort: number) => void;
}

const key = (vlan: number, mac: number): string => `${vlan}/${mac}`;

export function isMulticastMac(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

export class MacTable {
  readonly maxEntries: number;
  readonly idleMs: number;
  private readonly now: () => number;
  private readonly onMove: ((e: MacEntry, oldPort: number) => void) | undefined;
  /** Insertion order = learning recency (refresh re-inserts), so the first entry is the oldest. */
  private readonly entries = new Map<string, MacEntry>();
  private readonly changes = new Map<string, number>();
  private floor = 0;
  generation = 0;

  constructor(opts: MacTableOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 8192;
    this.idleMs = (opts.idleSeconds ?? 300) * 1000;
    this.now = opts.now ?? Date.now;
    this.onMove = opts.onMove;
  }

  get size(): number {
    return this.entries.size;
  }

  private changed(k: string): void {
    this.generation++;
    this.changes.set(k, this.generation);
    if (this.changes.size > 4 * this.maxEntries) {
      this.changes.clear();
      this.floor = this.generation;
    }
  }

  /** Learns that `mac` on `vlan` is behind `port`. Multicast sources are ignored. */
  learn(vlan: number, mac: number, port: number, now: number = this.now()): LearnResult {
    if (isMulticastMac(mac)) return 'ignored';
    const k = key(vlan, mac);
    const e = this.entries.get(k);
    if (e && now - e.used < this.idleMs) {
      this.entries.delete(k);
      this.entries.set(k, e);
      e.used = now;
      if (e.port === port) return 'refreshed';
      const old = e.port;
      e.port = port;
      this.changed(k);
      this.onMove?.(e, old);
      return 'moved';
    }
    if (e) this.entries.delete(k);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.changed(oldest);
    }
    this.entries.set(k, { vlan, mac, port, used: now });
    this.changed(k);
    return 'new';
  }

  /** The port `mac` was learned on in `vlan`, or undefined (expired entries count as absent). */
  lookup(vlan: number, mac: number, now: number = this.now()): number | undefined {
    const e = this.entries.get(key(vlan, mac));
    if (!e || now - e.used >= this.idleMs) return undefined;
    return e.port;
  }

  /** Removes entries idle for the aging time; returns them. */
  expire(now: number = this.now()): MacEntry[] {
    const out: MacEntry[] = [];
    for (const [k, e] of this.entries) {
      if (now - e.used >= this.idleMs) {
        this.entries.delete(k);
        this.changed(k);
        out.push(e);
      }
    }
    return out;
  }

  /** Forgets every entry on `port` (port deleted or its VLAN config changed). */
  flushPort(port: number): void {
    for (const [k, e] of this.entries) {
      if (e.port === port) { this.entries.delete(k); this.changed(k); }
    }
  }

  /** See the revalidation contract in the module note. */
  isValid(deps: readonly MacDep[], builtAt: number): boolean {
    if (builtAt < this.floor) return false;
    for (const d of deps) if ((this.changes.get(key(d.vlan, d.mac)) ?? 0) > builtAt) return false;
    return true;
  }

  *[Symbol.iterator](): IterableIterator<MacEntry> {
    yield* this.entries.values();
  }
}
