/**
 * One client session: the RFC 7047 §4.1 methods plus the ovsdb-server(7) extensions, independent
 * of the wire. The transport gives a `send` for notifications; `request` returns the result (or
 * throws OvsdbError) and the transport frames the reply.
 * Per-session state: monitors (by JSON of their id), held/queued locks, db-change-awareness,
 * and blocked transactions (for cancel).
 *
 * Flow control, as ovsdb-server does it: while the transport is backlogged (the client does not
 * read what was sent), commits are not turned into update notifications; each monitor keeps the
 * rows that changed, coalesced (first old, last new), and flush() sends one update for all of
 * them once the transport drains. What a slow or stuck client costs is therefore bounded by the
 * rows of the database, not by the number of commits.
 * Neighbours: core.ts, monitor.ts, locks.ts, rpc-params.ts, errors.ts.
 */
import type { OvsdbCore } from './core.ts';
import type { ChangeSet, CommitEvent } from './database.ts';
import { ZERO_UUID } from './datum.ts';
import { OvsdbError, OvsdbErrorTag, OvsdbSyntaxError } from './errors.ts';
import type { LockHolder } from './locks.ts';
import { Monitor, type MonitorVersion } from './monitor.ts';
import { isMethod, parseParams } from './rpc-params.ts';

export interface Notifier {
  notify(method: string, params: unknown[]): void;
  /** True while sent messages wait for the client to read them (then updates are held). */
  backlogged?(): boolean;
}

interface LiveMonitor {
  monitor: Monitor;
  unsubscribe: () => void;
  /** Changes held while the transport is backlogged, coalesced per row; null when none. */
  held: { changes: ChangeSet; seq: number } | null;
}

/** Adds commit `e` to the held changes: a row keeps its first old and takes the latest new. */
function hold(m: LiveMonitor, e: CommitEvent): void {
  const h = (m.held ??= { changes: new Map(), seq: e.seq });
  h.seq = e.seq;
  for (const [table, rows] of e.changes) {
    let t = h.changes.get(table);
    if (!t) h.changes.set(table, (t = new Map()));
    for (const [uuid, ch] of rows) {
      const prev = t.get(uuid);
      t.set(uuid, prev ? { old: prev.old, new: ch.new } : ch);
    }
  }
}

export class Session implements LockHolder {
  private monitors = new Map<string, LiveMonitor>();
  changeAware = false;
  private closed = false;

  constructor(
    private core: OvsdbCore,
    private out: Notifier,
  ) {}

  notify(method: string, params: unknown[]): void {
    if (!this.closed) this.out.notify(method, params);
  }

  /** Handles a request; `id` identifies it for cancel. */
  async request(method: string, params: unknown, id: unknown): Promise<unknown> {
    if (!isMethod(method)) throw new OvsdbError(OvsdbErrorTag.unknownMethod);
    switch (method) {
      case 'list_dbs':
        parseParams(method, params);
        return [...this.core.databases.keys()];
      case 'get_schema': {
        const [db] = parseParams(method, params);
        return this.core.lookup(db, method).db.schema.json;
      }
      case 'transact': {
        const [db, ...ops] = parseParams(method, params);
        const entry = this.core.lookup(db, method);
        return this.core.transact(entry, ops, { ownsLock: (n) => this.core.locks.owns(this, n), tag: { session: this, id: JSON.stringify(id) } });
      }
      case 'cancel':
        return undefined;
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since': {
        const p = parseParams(method, params);
        const version: MonitorVersion = method === 'monitor' ? 1 : method === 'monitor_cond' ? 2 : 3;
        const entry = this.core.lookup(p[0], method);
        const key = JSON.stringify(p[1]);
        if (this.monitors.has(key)) throw new OvsdbSyntaxError('duplicate monitor ID');
        const monitor = new Monitor(entry.db, p[1], version, p[2]);
        const initial = monitor.initial();
        const live: LiveMonitor = { monitor, unsubscribe: () => {}, held: null };
        live.unsubscribe = entry.db.subscribe((e) => {
          if (live.held || this.out.backlogged?.()) hold(live, e);
          else this.sendUpdate(live, e);
        });
        this.monitors.set(key, live);
        return version === 3 ? [false, ZERO_UUID, initial] : initial;
      }
      case 'monitor_cond_change': {
        const [oldId, newId, reqs] = parseParams(method, params);
        const key = JSON.stringify(oldId);
        const m = this.monitors.get(key);
        if (!m) throw new OvsdbError(OvsdbErrorTag.unknownMonitor, key);
        // The new conditions apply to the rows as they are now: the client must first see what
        // was held for it, or the insert/delete set below would be computed against a newer
        // state than the one it has.
        if (m.held) {
          const h = m.held;
          m.held = null;
          this.sendUpdate(m, { db: m.monitor.db, changes: h.changes, seq: h.seq });
        }
        const u = m.monitor.changeConditions(reqs);
        const newKey = JSON.stringify(newId);
        if (newKey !== key) {
          if (this.monitors.has(newKey)) throw new OvsdbError(OvsdbErrorTag.duplicateMonitor, newKey);
          this.monitors.delete(key);
          this.monitors.set(newKey, m);
          (m.monitor as { id: unknown }).id = newId;
        }
        if (Object.keys(u).length) {
          queueMicrotask(() => this.notify(m.monitor.version === 3 ? 'update3' : 'update2', m.monitor.version === 3 ? [newId, ZERO_UUID, u] : [newId, u]));
        }
        return {};
      }
      case 'monitor_cancel': {
        const [id0] = parseParams(method, params);
        const key = JSON.stringify(id0);
        const m = this.monitors.get(key);
        if (!m) throw new OvsdbError(OvsdbErrorTag.unknownMonitor, key);
        m.unsubscribe();
        this.monitors.delete(key);
        return {};
      }
      case 'lock': {
        const [name] = parseParams(method, params);
        if (this.core.locks.isQueued(this, name)) throw new OvsdbSyntaxError('must issue "unlock" before new "lock"');
        return { locked: this.core.locks.lock(this, name) };
      }
      case 'steal': {
        const [name] = parseParams(method, params);
        this.core.locks.steal(this, name);
        return { locked: true };
      }
      case 'unlock': {
        const [name] = parseParams(method, params);
        if (!this.core.locks.isQueued(this, name)) throw new OvsdbSyntaxError('unlock: "unlock" without "lock" or "steal"');
        this.core.locks.unlock(this, name);
        return {};
      }
      case 'echo':
        return parseParams(method, params);
      case 'set_db_change_aware': {
        const [on] = parseParams(method, params);
        this.changeAware = on;
        return {};
      }
      case 'get_server_id':
        return ZERO_UUID;
    }
  }

  private sendUpdate(m: LiveMonitor, e: CommitEvent): void {
    const u = m.monitor.update(e);
    if (!u) return;
    const id = m.monitor.id;
    if (m.monitor.version === 1) this.notify('update', [id, u]);
    else if (m.monitor.version === 2) this.notify('update2', [id, u]);
    // Standalone databases keep no transaction history, so the last-txn-id stays all zeros
    // and monitor_cond_since always answers found=false with full initial contents, exactly
    // as a standalone ovsdb-server does.
    else this.notify('update3', [id, ZERO_UUID, u]);
  }

  /** The transport drained: send what each monitor held, one update per monitor. */
  flush(): void {
    for (const m of this.monitors.values()) {
      if (this.out.backlogged?.()) return;
      const h = m.held;
      if (!h) continue;
      m.held = null;
      this.sendUpdate(m, { db: m.monitor.db, changes: h.changes, seq: h.seq });
    }
  }

  /** Rows held for monitors of this session (a measure of what a stuck client costs). */
  heldRows(): number {
    let n = 0;
    for (const m of this.monitors.values()) for (const t of m.held?.changes.values() ?? []) n += t.size;
    return n;
  }

  /** RFC 7047 §4.1.4 cancel notification: abort the blocked transact with this id. */
  cancel(id: unknown): void {
    const key = JSON.stringify(id);
    this.core.cancelTrigger((_ops, ctx) => {
      const tag = ctx.tag as { session: Session; id: string } | undefined;
      return tag?.session === this && tag.id === key;
    });
  }

  close(): void {
    this.closed = true;
    for (const m of this.monitors.values()) m.unsubscribe();
    this.monitors.clear();
    this.core.locks.releaseAll(this);
    while (this.core.cancelTrigger((_ops, ctx) => (ctx.tag as { session: Session } | undefined)?.session === this));
  }
}
