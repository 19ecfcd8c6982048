/**
 * The journal: an append-only file of framed JSON records, in the format of OVS's standalone
 * database files so `ovsdb-tool show-log` can read ours (ovsdb/log.c):
 *
 *   "OVSDB JSON " <len> " " <sha1 hex of body> "\n" <body: JSON text + "\n", len bytes>
 *
 * Record 0 is the schema; every later record is one committed transaction (or, after compaction,
 * record 1 is a snapshot of the whole database written as one transaction of inserts).
 *
 * Invariants
 * - A record counts iff its header parses and its body has exactly `len` bytes with that sha1. A
 *   transaction is one record, so it is present entirely or not at all: replay never applies half.
 * - The file only grows by appends of whole records, except (a) on open, where a torn or corrupt
 *   tail is truncated back to the end of the last good record (with a warning), and (b) compaction,
 *   which replaces the file atomically by rename.
 * - A commit's promise resolves only after the bytes holding it were written and fdatasync'd
 *   (group commit: records queued while one fdatasync runs share the next one). The caller replies
 *   to the client only then, so an acknowledged transaction survives kill -9 and power loss.
 * - Preallocation: the file is extended ahead of the write position with zeros that are written and
 *   fsync'd once per MiB. Records then overwrite already-allocated blocks, so an fdatasync flushes
 *   data only, with no file-size/extent metadata to journal (about 3x cheaper on ext4 here than
 *   appending). Readers treat an all-zero tail at a record boundary as the end of the log; a clean
 *   close truncates it away, so a closed file is byte-for-byte OVS format.
 *
 * Crash cases
 * - Crash mid-write: the last record is short or its sha1 mismatches -> dropped at next open.
 *   It was never acknowledged (the fsync had not returned), so no acknowledged commit is lost.
 * - Crash during compaction before the rename: the old file is intact (plus a stale temp file,
 *   removed at next compaction). After the rename: the new file is complete (it was fsync'd before
 *   the rename), and the directory fsync makes the rename durable.
 *
 * Compaction while commits continue (see `swap`): the caller takes a snapshot at commit sequence T
 * (synchronously, so it holds exactly the commits <= T) and writes it to a temp file + fsync while
 * the writer keeps appending to the old file. Then, with the writer paused between batches, the
 * records > T already written to the old file are copied after the snapshot, the temp file is
 * fsync'd and renamed over the old one, the directory fsync'd, and the writer switches to the new
 * file. Queued records > T go to the new file; queued records <= T are already in the snapshot,
 * so they are dropped from the queue and acknowledged once the new file is durable.
 * Neighbours: errors.ts only. Used by storage.ts.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { OvsdbStorageError } from './errors.ts';

const MAGIC = 'OVSDB JSON';

export function encodeRecord(json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json) + '\n');
  const sha = createHash('sha1').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} ${body.length} ${sha}\n`), body]);
}

export interface ReadResult {
  records: unknown[];
  /** Byte offset just past the last good record. */
  goodLength: number;
  /** Why reading stopped early (torn or corrupt tail), if it did. */
  problem?: string;
  /** The file ends in preallocated zeros after the last record (normal after a crash). */
  zeroTail?: boolean;
}

/** Parses records from the start of `buf`, stopping at the first bad one. */
export function decodeRecords(buf: Buffer): ReadResult {
  const records: unknown[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) {
      // The preallocated, zero-filled tail (see LogWriter): the end of the log, unless garbage follows.
      for (let i = off; i < buf.length; i++) if (buf[i] !== 0) return { records, goodLength: off, problem: `non-zero byte at offset ${i} inside the zero-filled tail` };
      return { records, goodLength: off, zeroTail: true };
    }
    const nl = buf.indexOf(10, off);
    if (nl < 0 || nl - off > 200) return { records, goodLength: off, problem: `incomplete record header at offset ${off}` };
    const m = /^OVSDB JSON (\d+) ([0-9a-f]{40})$/.exec(buf.toString('latin1', off, nl));
    if (!m) return { records, goodLength: off, problem: `bad record header at offset ${off}` };
    const len = Number(m[1]);
    const start = nl + 1;
    if (start + len > buf.length) return { records, goodLength: off, problem: `record at offset ${off} is truncated (${buf.length - start} of ${len} bytes)` };
    const body = buf.subarray(start, start + len);
    if (createHash('sha1').update(body).digest('hex') !== m[2]) return { records, goodLength: off, problem: `record at offset ${off} fails its sha1 check` };
    try {
      records.push(JSON.parse(body.toString('utf8')));
    } catch {
      return { records, goodLength: off, problem: `record at offset ${off} is not valid JSON` };
    }
    off = start + len;
  }
  return { records, goodLength: off };
}

interface Pending {
  seq: number;
  bytes: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
}

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);
const PREALLOC = 1 << 20;
/** BVS_OVSDB_NO_PREALLOC=1 appends instead (for measuring what preallocation buys). */
const NO_PREALLOC = process.env.BVS_OVSDB_NO_PREALLOC === '1';
const ZEROS = Buffer.alloc(PREALLOC);

/** Appends records with group commit. One LogWriter per open file; not shared across processes. */
export class LogWriter {
  /**
   * fdatasync on the event loop thread (default) or on libuv's threadpool. Synchronous is faster
   * per commit on a busy host (no thread handoff, ~100 us saved here) and still group-commits:
   * the flush runs in setImmediate, after every request read in this loop turn, and requests that
   * arrive during the fdatasync are read and batched by the next turn. Set
   * BVS_OVSDB_ASYNC_FLUSH=1 (or LogWriter.syncFlush = false) to keep the loop free instead.
   */
  static syncFlush = process.env.BVS_OVSDB_ASYNC_FLUSH !== '1';
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private seq = 0;
  private exclusive: Promise<void> | null = null;
  private inFlight: Promise<void> | null = null;
  private broken: Error | null = null;
  /** Records written since startTracking() (compaction's tail). */
  private tracked: { seq: number; bytes: Buffer }[] | null = null;
  /** Physical file size (>= size; the difference is zero-filled preallocation). */
  private allocated: number;

  private constructor(
    private fd: number,
    readonly file: string,
    /** Logical size: the end of the last record. */
    public size: number,
  ) {
    this.allocated = fs.fstatSync(fd).size;
  }

  /** Opens `file` for appending at byte `size` (the end of its last good record). */
  static async open(file: string, size: number): Promise<LogWriter> {
    return new LogWriter(fs.openSync(file, 'r+'), file, size);
  }

  /** Sequence number of the last record handed to append(). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Queues a record; resolves once it is durable. */
  append(json: unknown): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const bytes = encodeRecord(json);
    return new Promise((resolve, reject) => {
      this.queue.push({ seq: ++this.seq, bytes, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  /** Makes sure [size, size + n) lies inside fsync'd, zero-filled space. */
  private async reserve(n: number): Promise<void> {
    if (this.size + n <= this.allocated || NO_PREALLOC) return;
    const target = Math.ceil((this.size + n + PREALLOC) / PREALLOC) * PREALLOC;
    for (let off = this.allocated; off < target; off += PREALLOC) fs.writeSync(this.fd, ZEROS, 0, Math.min(PREALLOC, target - off), off);
    if (LogWriter.syncFlush) fs.fsyncSync(this.fd);
    else await fsync(this.fd);
    this.allocated = target;
  }

  private async flushLoop(): Promise<void> {
    try {
      // Let the current tick's other requests queue up too: they share this flush's fdatasync.
      await new Promise((r) => setImmediate(r));
      while (this.queue.length) {
        if (this.exclusive) await this.exclusive;
        const batch = this.queue;
        this.queue = [];
        if (!batch.length) continue;
        let done!: () => void;
        this.inFlight = new Promise((r) => (done = r));
        try {
          const buf = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((p) => p.bytes));
          await this.reserve(buf.length);
          let off = 0;
          while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off, this.size + off);
          if (LogWriter.syncFlush) fs.fdatasyncSync(this.fd);
          else await fdatasync(this.fd);
          this.size += buf.length;
          if (this.tracked) for (const p of batch) this.tracked.push({ seq: p.seq, bytes: p.bytes });
          for (const p of batch) p.resolve();
        } catch (err) {
          // After a failed write/fsync the file's durable contents are unknown: refuse further commits.
          this.broken = new OvsdbStorageError(`writing ${this.file} failed`, { cause: err });
          for (const p of [...batch, ...this.queue]) p.reject(this.broken);
          this.queue = [];
        } finally {
          this.inFlight = null;
          done();
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Starts recording written records for a compaction whose snapshot covers seq <= lastSeq. */
  startTracking(): number {
    this.tracked = [];
    return this.seq;
  }

  stopTracking(): void {
    this.tracked = null;
  }

  /**
   * Completes a compaction: `tmp` holds schema + snapshot (up to seq `snapSeq`) and is fsync'd.
   * Pauses the writer, copies the written records > snapSeq into `tmp`, and renames it over the file.
   */
  async swap(tmp: string, snapSeq: number): Promise<void> {
    let release!: () => void;
    this.exclusive = new Promise((r) => (release = r));
    try {
      // A batch in flight lands first (and is tracked); the loop then waits on `exclusive`.
      while (this.inFlight) await this.inFlight;
      const tail = (this.tracked ?? []).filter((r) => r.seq > snapSeq);
      const fh = await fsp.open(tmp, 'a');
      try {
        if (tail.length) await fh.writev(tail.map((r) => r.bytes));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.file);
      const dir = await fsp.open(path.dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      const old = this.fd;
      this.fd = fs.openSync(this.file, 'r+');
      this.size = this.allocated = fs.fstatSync(this.fd).size;
      fs.closeSync(old);
      // Queued records already covered by the snapshot are durable now.
      const covered = this.queue.filter((p) => p.seq <= snapSeq);
      this.queue = this.queue.filter((p) => p.seq > snapSeq);
      for (const p of covered) p.resolve();
    } finally {
      this.tracked = null;
      this.exclusive = null;
      release();
      if (this.queue.length && !this.flushing) this.flushing = this.flushLoop();
    }
  }

  /** Waits for queued records, drops the preallocated tail, and closes the file. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.allocated > this.size && !this.broken) {
      fs.ftruncateSync(this.fd, this.size);
      await fsync(this.fd);
    }
    fs.closeSync(this.fd);
  }
}
