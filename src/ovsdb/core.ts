/**
 * The protocol-independent server: the open databases (with their storage), the _Server
 * database, locks, and the commit pipeline shared by network sessions and embedders.
 *
 * Commit pipeline (one place, so every writer gets the same guarantees):
 *   executeTransaction (validate; a failure returns here, nothing touched)
 *   -> db.apply + storage.commit, in the same tick (so a compaction snapshot taken in any later
 *      tick holds exactly the commits handed to the log)
 *   -> await durability (group-committed fdatasync)
 *   -> db.publish (monitors, subscribers) -> resolve the caller, who replies.
 * Publication follows the log's FIFO order, so monitors see commits in commit order.
 * Blocked "wait" operations (timeout > 0) become triggers re-run after each commit.
 * Neighbours: database.ts, storage.ts, transaction.ts, monitor.ts, locks.ts, row.ts, schema.ts.
 */
import type { ChangeSet, CommitEvent } from './database.ts';
import { Database } from './database.ts';
import { OvsdbError, OvsdbErrorTag } from './errors.ts';
import { LockManager } from './locks.ts';
import { Monitor, type MonitorVersion } from './monitor.ts';
import { Row, rowToJson } from './row.ts';
import { parseSchema, SERVER_SCHEMA_JSON, type DatabaseSchema } from './schema.ts';
import { Storage, type StorageOptions } from './storage.ts';
import { executeTransaction, type TxnContext } from './transaction.ts';
import { makeDatum, newUuid } from './datum.ts';

export interface DbEntry {
  db: Database;
  storage: Storage | null;
  readOnly: boolean;
}

interface Trigger {
  entry: DbEntry;
  ops: unknown[];
  ctx: TxnContext;
  deadline: number;
  timer: NodeJS.Timeout | null;
  resolve: (r: unknown[]) => void;
  reject: (e: Error) => void;
}

/** Changed rows of one commit, as RFC 7047 JSON rows (with _uuid and _version). */
export interface RowChangeJson {
  table: string;
  uuid: string;
  old: Record<string, unknown> | null;
  new: Record<string, unknown> | null;
}

/**
 * What an embedder (the switch daemon's ovsdb actor) uses: read rows, commit transactions, and
 * follow committed changes. Writes go through the same pipeline as network clients.
 */
export class DbHandle {
  constructor(
    private core: OvsdbCore,
    readonly entry: DbEntry,
  ) {}

  get name(): string {
    return this.entry.db.name;
  }
  get schema(): DatabaseSchema {
    return this.entry.db.schema;
  }

  /** Runs RFC 7047 operations; resolves with the result array once durable (errors inside). */
  transact(ops: unknown[]): Promise<unknown[]> {
    return this.core.transact(this.entry, ops, {});
  }

  /** All rows of a table as RFC 7047 JSON rows (including _uuid and _version). */
  rows(table: string): Record<string, unknown>[] {
    const t = this.entry.db.table(table);
    if (!t) throw new OvsdbError(OvsdbErrorTag.unknownTable, `No table named ${table}.`);
    return [...t.rows.values()].map((r) => rowToJson(r, t.schema));
  }

  /** One row by uuid, or null. */
  row(table: string, uuid: string): Record<string, unknown> | null {
    const t = this.entry.db.table(table);
    const r = t?.rows.get(uuid);
    return r && t ? rowToJson(r, t.schema) : null;
  }

  /** Calls `fn` after each durable commit with the changed rows. Returns the unsubscribe function. */
  subscribe(fn: (changes: RowChangeJson[], comment?: string) => void): () => void {
    return this.entry.db.subscribe((e: CommitEvent) => {
      const out: RowChangeJson[] = [];
      for (const [table, rows] of e.changes) {
        const ts = this.entry.db.table(table)!.schema;
        for (const [uuid, ch] of rows) out.push({ table, uuid, old: ch.old && rowToJson(ch.old, ts), new: ch.new && rowToJson(ch.new, ts) });
      }
      fn(out, e.comment);
    });
  }

  /** A monitor_cond-style monitor: `onUpdate` gets table-updates2 objects. */
  monitor(requests: unknown, onUpdate: (u: Record<string, unknown>) => void, version: MonitorVersion = 2): { initial: Record<string, unknown>; cancel: () => void } {
    const m = new Monitor(this.entry.db, null, version, requests);
    const cancel = this.entry.db.subscribe((e) => {
      const u = m.update(e);
      if (u) onUpdate(u);
    });
    return { initial: m.initial(), cancel };
  }
}

export class OvsdbCore {
  readonly databases = new Map<string, DbEntry>();
  readonly locks = new LockManager();
  private triggers = new Set<Trigger>();
  readonly serverDb: Database;

  constructor() {
    this.serverDb = new Database(parseSchema(structuredClone(SERVER_SCHEMA_JSON)));
    this.databases.set('_Server', { db: this.serverDb, storage: null, readOnly: true });
  }

  /** Opens a database file and registers it (and its _Server row). */
  async openFile(file: string, opts: StorageOptions = {}): Promise<DbHandle> {
    const storage = await Storage.open(file, opts);
    return this.add({ db: storage.db, storage, readOnly: false });
  }

  /** Registers an in-memory database (tests, or a caller that manages persistence itself). */
  addMemory(schemaJson: unknown): DbHandle {
    return this.add({ db: new Database(parseSchema(schemaJson)), storage: null, readOnly: false });
  }

  private add(entry: DbEntry): DbHandle {
    const name = entry.db.name;
    if (this.databases.has(name)) throw new OvsdbError(OvsdbErrorTag.notAllowed, `database ${name} is already open`);
    this.databases.set(name, entry);
    entry.db.subscribe(() => this.runTriggers(entry));
    // _Server.Database row (ovsdb-server(5)): a standalone database, always connected and leader.
    const cols = {
      name: { keys: [name] },
      model: { keys: ['standalone'] },
      connected: { keys: [true] },
      leader: { keys: [true] },
      schema: makeDatum([JSON.stringify(entry.db.schema.json)]),
      cid: { keys: [] },
      sid: { keys: [] },
      index: { keys: [] },
    };
    const uuid = newUuid();
    const changes: ChangeSet = new Map([['Database', new Map([[uuid, { old: null, new: new Row(uuid, newUuid(), cols) }]])]]);
    this.serverDb.publish(changes, this.serverDb.apply(changes));
    return new DbHandle(this, entry);
  }

  /** The open database `name`, or OvsdbError "unknown database" worded as ovsdb-server does. */
  lookup(name: unknown, method = 'request'): DbEntry {
    const e = typeof name === 'string' ? this.databases.get(name) : undefined;
    if (!e) throw new OvsdbError(OvsdbErrorTag.unknownDatabase, `${method} request specifies unknown database ${String(name)}`);
    return e;
  }

  /** The commit pipeline (see the design note). Resolves with RFC 7047 results. */
  transact(entry: DbEntry, ops: unknown[], ctx: TxnContext, deadline?: number): Promise<unknown[]> {
    const out = executeTransaction(entry.db, ops, { ...ctx, readOnly: entry.readOnly, expired: deadline !== undefined && Date.now() >= deadline });
    if (out.blockedWaitTimeoutMs !== undefined) {
      return new Promise((resolve, reject) => {
        const dl = deadline ?? Date.now() + out.blockedWaitTimeoutMs!;
        const t: Trigger = { entry, ops, ctx, deadline: dl, timer: null, resolve, reject };
        if (Number.isFinite(dl)) t.timer = setTimeout(() => this.fireTrigger(t), Math.max(0, dl - Date.now()));
        this.triggers.add(t);
      });
    }
    if (!out.changes) return Promise.resolve(out.results);
    const changes = out.changes;
    const seq = entry.db.apply(changes);
    const durable = entry.storage ? entry.storage.commit(changes, out.comment) : Promise.resolve();
    return durable.then(
      () => {
        entry.db.publish(changes, seq, out.comment);
        return out.results;
      },
      (err: unknown) => {
        throw new OvsdbError(OvsdbErrorTag.io, (err as Error).message, { cause: err });
      },
    );
  }

  private fireTrigger(t: Trigger): void {
    if (!this.triggers.delete(t)) return;
    if (t.timer) clearTimeout(t.timer);
    this.transact(t.entry, t.ops, t.ctx, t.deadline).then(t.resolve, t.reject);
  }

  private runTriggers(entry: DbEntry): void {
    for (const t of [...this.triggers]) if (t.entry === entry) this.fireTrigger(t);
  }

  /** Cancels a blocked transaction (RFC 7047 §4.1.4); returns whether one was pending. */
  cancelTrigger(match: (ops: unknown[], ctx: TxnContext) => boolean): boolean {
    for (const t of this.triggers) {
      if (match(t.ops, t.ctx)) {
        this.triggers.delete(t);
        if (t.timer) clearTimeout(t.timer);
        t.reject(new OvsdbError(OvsdbErrorTag.canceled));
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    for (const t of this.triggers) {
      if (t.timer) clearTimeout(t.timer);
      t.reject(new OvsdbError(OvsdbErrorTag.io, 'server closing'));
    }
    this.triggers.clear();
    for (const e of this.databases.values()) await e.storage?.close();
  }
}
