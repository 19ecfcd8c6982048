/**
 * Storage: a database file on disk <-> a Database in memory.
 * - create(): writes a new file holding only the schema record (ovsdb-tool create).
 * - open(): reads every good record, truncates a torn/corrupt tail (warning, never a crash),
 *   replays the transactions into a fresh Database.
 * - commit(): appends one validated ChangeSet as a record; resolves once durable (log.ts).
 * - compact(): rewrites the file as schema + snapshot online (protocol in log.ts's design note).
 * Records hold, per changed row, the full new value of each changed column (or null for a delete),
 * so replay needs no diff logic and never re-runs integrity checks.
 * Neighbours: log.ts, database.ts, schema.ts, row.ts, datum.ts.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Database, type ChangeSet } from './database.ts';
import { datumDiff, datumEquals, datumToJson } from './datum.ts';
import { OvsdbStorageError } from './errors.ts';
import { decodeRecords, encodeRecord, LogWriter } from './log.ts';
import { nonDefaultJson } from './row.ts';
import { parseSchema, type DatabaseSchema } from './schema.ts';

export interface StorageOptions {
  /** Called with warnings (torn tail dropped, ...). Defaults to stderr. */
  warn?: (msg: string) => void;
  /** Compact automatically once the file exceeds this many bytes and 4x the last snapshot. */
  autoCompactBytes?: number;
}

/** The JSON of one commit, in OVS's standalone record format. */
export function recordFromChanges(db: Database, changes: ChangeSet, comment?: string): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const [tname, rows] of changes) {
    const ts = db.table(tname)!.schema;
    const out: Record<string, unknown> = {};
    for (const [uuid, ch] of rows) {
      if (!ch.new) out[uuid] = null;
      else if (!ch.old) out[uuid] = nonDefaultJson(ch.new, ts);
      else {
        // OVS "_is_diff" form: columns of at most one value carry the new value, sets the symmetric difference, maps
        // the changed keys (new values) and removed keys (old values). Adding one port to a
        // bridge with 1000 ports then writes one uuid, not 1001.
        const cols: Record<string, unknown> = {};
        for (const c of ts.columns.values()) {
          const a = ch.old.cols[c.name];
          const b = ch.new.cols[c.name];
          if (datumEquals(a, b)) continue;
          const scalar = c.type.max === 1 && !c.type.value; // scalars and optionals: new value
          cols[c.name] = datumToJson(scalar ? b : datumDiff(a, b), c.type);
        }
        out[uuid] = cols;
      }
    }
    rec[tname] = out;
  }
  rec._date = Date.now();
  rec._is_diff = true;
  if (comment) rec._comment = comment;
  return rec;
}

function snapshotRecord(db: Database): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const [tname, table] of db.tables) {
    if (!table.rows.size) continue;
    const out: Record<string, unknown> = {};
    for (const row of table.rows.values()) out[row.uuid] = nonDefaultJson(row, table.schema);
    rec[tname] = out;
  }
  rec._date = Date.now();
  rec._comment = 'compacted by bvs';
  return rec;
}

const lockPath = (file: string): string => `${file}.bvs-lock`;

/**
 * One writer per file: FILE.bvs-lock holds the owner's pid. A lock whose pid is gone (kill -9) is
 * stale and taken over; a live one is an error, so two servers (or `ovsdb-tool compact` under a
 * running server) can never interleave records.
 */
async function lock(file: string): Promise<void> {
  const lp = lockPath(file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fsp.writeFile(lp, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OvsdbStorageError(`cannot lock ${file}`, { cause: err });
    }
    const pid = Number((await fsp.readFile(lp, 'utf8').catch(() => '')).trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new OvsdbStorageError(`${file} is in use by process ${pid} (lock file ${lp})`);
    await fsp.rm(lp, { force: true });
  }
  throw new OvsdbStorageError(`cannot lock ${file}`);
}

export class Storage {
  private compacting: Promise<void> | null = null;
  private snapshotBytes = 0;

  private constructor(
    readonly file: string,
    readonly db: Database,
    private writer: LogWriter,
    private opts: StorageOptions,
  ) {}

  /** Creates a new database file (fails if it exists), like `ovsdb-tool create`. */
  static async create(file: string, schemaJson: unknown): Promise<void> {
    parseSchema(schemaJson);
    const fh = await fsp.open(file, 'wx', 0o644).catch((err: unknown) => {
      throw new OvsdbStorageError(`cannot create ${file}`, { cause: err });
    });
    try {
      await fh.write(encodeRecord(schemaJson));
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The new directory entry must be durable too.
    const dir = await fsp.open(path.dirname(path.resolve(file)), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Reads the schema record only. */
  static async readSchema(file: string): Promise<DatabaseSchema> {
    const { records } = decodeRecords(await fsp.readFile(file));
    if (!records.length) throw new OvsdbStorageError(`${file}: no schema record`);
    return parseSchema(records[0]);
  }

  static async open(file: string, opts: StorageOptions = {}): Promise<Storage> {
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`ovsdb: warning: ${m}\n`));
    let buf: Buffer;
    try {
      buf = await fsp.readFile(file);
    } catch (err) {
      throw new OvsdbStorageError(`cannot read ${file}`, { cause: err });
    }
    await lock(file);
    try {
      return await Storage.load(file, buf, opts, warn);
    } catch (err) {
      await fsp.rm(lockPath(file), { force: true });
      throw err;
    }
  }

  private static async load(file: string, buf: Buffer, opts: StorageOptions, warn: (m: string) => void): Promise<Storage> {
    const { records, goodLength, problem } = decodeRecords(buf);
    if (!records.length) throw new OvsdbStorageError(`${file}: no valid schema record${problem ? ` (${problem})` : ''}`);
    let schema: DatabaseSchema;
    try {
      schema = parseSchema(records[0]);
    } catch (err) {
      throw new OvsdbStorageError(`${file}: bad schema record`, { cause: err });
    }
    const db = new Database(schema);
    for (let i = 1; i < records.length; i++) {
      const rec = records[i];
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new OvsdbStorageError(`${file}: record ${i} is not an object`);
      db.apply(db.changesFromRecord(rec as Record<string, unknown>));
    }
    if (problem) {
      warn(`${file}: ${problem}; dropping ${buf.length - goodLength} bytes after the last complete transaction at offset ${goodLength}`);
      const fh = await fsp.open(file, 'r+');
      try {
        await fh.truncate(goodLength);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    const writer = await LogWriter.open(file, goodLength);
    const st = new Storage(file, db, writer, { ...opts, warn });
    st.snapshotBytes = goodLength;
    return st;
  }

  /** Appends a commit; resolves when it is durable. May trigger an online compaction. */
  async commit(changes: ChangeSet, comment?: string): Promise<void> {
    const p = this.writer.append(recordFromChanges(this.db, changes, comment));
    const limit = this.opts.autoCompactBytes ?? 16 * 1024 * 1024;
    if (!this.compacting && this.writer.size > limit && this.writer.size > 4 * this.snapshotBytes) {
      this.compact().catch((err) => this.opts.warn!(`compaction failed: ${(err as Error).message}`));
    }
    await p;
  }

  /** Rewrites the file as schema + snapshot without stopping commits (see log.ts). */
  compact(): Promise<void> {
    this.compacting ??= this.doCompact().finally(() => (this.compacting = null));
    return this.compacting;
  }

  private async doCompact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const seq = this.writer.startTracking();
    const head = Buffer.concat([encodeRecord(this.db.schema.json), encodeRecord(snapshotRecord(this.db))]);
    try {
      await fsp.rm(tmp, { force: true });
      const fh = await fsp.open(tmp, 'wx', 0o644);
      try {
        await fh.write(head);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.writer.swap(tmp, seq);
      this.snapshotBytes = head.length;
    } catch (err) {
      this.writer.stopTracking();
      await fsp.rm(tmp, { force: true });
      throw new OvsdbStorageError(`compacting ${this.file} failed`, { cause: err });
    }
  }

  get size(): number {
    return this.writer.size;
  }

  async close(): Promise<void> {
    if (this.compacting) await this.compacting.catch(() => undefined);
    await this.writer.close();
    await fsp.rm(lockPath(this.file), { force: true });
  }
}
