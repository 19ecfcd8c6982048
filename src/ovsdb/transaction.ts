/**
 * The transaction engine: executes the operations of one `transact` (RFC 7047 §5.2) against a
 * TxnState, then validates the result (integrity.ts) and returns the ChangeSet for storage.
 * A failed transaction returns results with the error in place and no ChangeSet: the committed
 * database and the journal are never touched by it.
 * Neighbours: txn-state.ts, integrity.ts, condition.ts, datum.ts, row.ts, database.ts.
 */
import { applyMutations, parseMutations, parseWhere } from './condition.ts';
import type { ChangeSet, Database, Table } from './database.ts';
import { datumEquals, datumFromJson, defaultDatum, isUuid, newUuid, type Datum } from './datum.ts';
import { OvsdbConstraintError, OvsdbError, OvsdbErrorTag, OvsdbSyntaxError } from './errors.ts';
import { checkAndBuildChanges } from './integrity.ts';
import { columnType, defaultColumns, Row, rowToJson } from './row.ts';
import { TxnState } from './txn-state.ts';

export interface TxnContext {
  /** RFC 7047 §5.2.10 assert: does the calling session own this lock? */
  ownsLock?: (name: string) => boolean;
  /** Databases like _Server accept reads only. */
  readOnly?: boolean;
  /** A trigger's deadline has passed: an unsatisfied wait now fails with "timed out". */
  expired?: boolean;
  /** Identifies the request for cancel (opaque to the engine). */
  tag?: unknown;
}

export interface TxnOutcome {
  results: unknown[];
  /** The validated changes, or null when the transaction failed or was read-only. */
  changes: ChangeSet | null;
  comment?: string;
  durable: boolean;
  /** Set when a "wait" with a non-zero timeout was not satisfied: retry later (trigger). */
  blockedWaitTimeoutMs?: number;
  error?: OvsdbError;
}

type Op = Record<string, unknown>;

class BlockedWait extends Error {
  override name = 'BlockedWait';
  constructor(readonly timeoutMs: number) {
    super('wait not yet satisfied');
  }
}

class Executor {
  readonly st: TxnState;
  readonly named = new Map<string, string>();
  comments: string[] = [];
  durable = false;
  constructor(db: Database, readonly ctx: TxnContext) {
    this.st = new TxnState(db);
  }

  resolver = (name: string): string | undefined => this.named.get(name);

  private parseRow(table: Table, j: unknown, forUpdate: boolean): Record<string, Datum> {
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new OvsdbSyntaxError(`"row" must be a JSON object`);
    const out: Record<string, Datum> = {};
    for (const [name, v] of Object.entries(j)) {
      const col = table.schema.columns.get(name);
      if (!col) {
        if (name === '_uuid' || name === '_version') throw new OvsdbConstraintError(`Cannot update immutable column ${name} in table ${table.schema.name}.`);
        throw new OvsdbError(OvsdbErrorTag.unknownColumn, `No column ${name} in table ${table.schema.name}.`);
      }
      if (forUpdate && !col.mutable) throw new OvsdbConstraintError(`Cannot update immutable column ${name} in table ${table.schema.name}.`);
      out[name] = datumFromJson(v, col.type, `${table.schema.name} column ${name}`, this.resolver);
    }
    return out;
  }

  private columns(table: Table, j: unknown): string[] | undefined {
    if (j === undefined) return undefined;
    if (!Array.isArray(j)) throw new OvsdbSyntaxError(`"columns" must be an array of column names`);
    for (const c of j) if (typeof c !== 'string' || !columnType(table.schema, c)) throw new OvsdbError(OvsdbErrorTag.unknownColumn, `No column ${String(c)} in table ${table.schema.name}.`);
    return j as string[];
  }

  private writable(op: string): void {
    if (this.ctx.readOnly) throw new OvsdbError(OvsdbErrorTag.notAllowed, `"${op}" is not allowed on database ${this.st.db.name}: it is read-only.`);
  }

  /** uuid-names already used by an executed insert (a second insert with one is an error). */
  private usedNames = new Set<string>();

  /**
   * Assigns uuids to every uuid-name first, so references may precede their insert. A repeated
   * name keeps its first uuid; the repeat fails when its insert runs (as in ovsdb-server).
   */
  preassign(ops: unknown[]): void {
    for (const op of ops) {
      if (typeof op !== 'object' || op === null || (op as Op).op !== 'insert') continue;
      const name = (op as Op)['uuid-name'];
      if (typeof name !== 'string' || this.named.has(name)) continue;
      const given = (op as Op).uuid;
      this.named.set(name, typeof given === 'string' && isUuid(given) ? given.toLowerCase() : newUuid());
    }
  }

  exec(opj: unknown): unknown {
    if (typeof opj !== 'object' || opj === null || Array.isArray(opj)) throw new OvsdbSyntaxError(`operation must be a JSON object: ${JSON.stringify(opj)}`);
    const op = opj as Op;
    switch (op.op) {
      case 'insert': {
        this.writable('insert');
        const table = this.st.table(op.table);
        if (op.uuid !== undefined && !(typeof op.uuid === 'string' && isUuid(op.uuid))) throw new OvsdbSyntaxError(`"uuid" must be a UUID string`);
        const name = op['uuid-name'];
        if (name !== undefined) {
          if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new OvsdbSyntaxError(`bad uuid-name ${JSON.stringify(name)}`);
          if (this.usedNames.has(name)) throw new OvsdbError(OvsdbErrorTag.duplicateUuidName, `This "uuid-name" appeared on an earlier "insert" operation.`);
          this.usedNames.add(name);
        }
        const uuid = typeof name === 'string' ? this.named.get(name)! : typeof op.uuid === 'string' ? op.uuid.toLowerCase() : newUuid();
        if (this.st.get(table.schema.name, uuid)) throw new OvsdbError(OvsdbErrorTag.duplicateUuid, `This UUID would duplicate a UUID already present within the table or deleted within the same transaction: ${uuid}`);
        const cols = { ...defaultColumns(table.schema), ...this.parseRow(table, op.row ?? {}, false) };
        this.st.put(table.schema.name, new Row(uuid, '', cols));
        this.st.inserted.add(uuid);
        return { uuid: ['uuid', uuid] };
      }
      case 'select': {
        const table = this.st.table(op.table);
        const conds = parseWhere(op.where, table.schema, this.resolver);
        const cols = this.columns(table, op.columns);
        return { rows: this.st.select(table, conds).map((r) => rowToJson(r, table.schema, cols)) };
      }
      case 'update': {
        this.writable('update');
        const table = this.st.table(op.table);
        const conds = parseWhere(op.where, table.schema, this.resolver);
        const upd = this.parseRow(table, op.row, true);
        const rows = this.st.select(table, conds);
        for (const r of rows) this.st.put(table.schema.name, new Row(r.uuid, r.version, { ...r.cols, ...upd }));
        return { count: rows.length };
      }
      case 'mutate': {
        this.writable('mutate');
        const table = this.st.table(op.table);
        const conds = parseWhere(op.where, table.schema, this.resolver);
        const muts = parseMutations(op.mutations, table.schema, this.resolver);
        const rows = this.st.select(table, conds);
        for (const r of rows) this.st.put(table.schema.name, new Row(r.uuid, r.version, applyMutations(muts, r.cols as Record<string, Datum>, table.schema)));
        return { count: rows.length };
      }
      case 'delete': {
        this.writable('delete');
        const table = this.st.table(op.table);
        const rows = this.st.select(table, parseWhere(op.where, table.schema, this.resolver));
        for (const r of rows) this.st.remove(table.schema.name, r.uuid);
        return { count: rows.length };
      }
      case 'wait':
        return this.wait(op);
      case 'commit':
        if (typeof op.durable !== 'boolean') throw new OvsdbSyntaxError(`"commit" needs a boolean "durable"`);
        this.durable ||= op.durable;
        return {};
      case 'abort':
        throw new OvsdbError(OvsdbErrorTag.aborted);
      case 'comment':
        if (typeof op.comment !== 'string') throw new OvsdbSyntaxError(`"comment" needs a string "comment"`);
        this.comments.push(op.comment);
        return {};
      case 'assert':
        if (typeof op.lock !== 'string') throw new OvsdbSyntaxError(`"assert" needs a string "lock"`);
        if (!this.ctx.ownsLock?.(op.lock)) throw new OvsdbError(OvsdbErrorTag.notOwner, `Asserted lock ${op.lock} not held by this session.`);
        return {};
      default:
        throw new OvsdbSyntaxError(`No operation "${String(op.op)}"`);
    }
  }

  /** RFC 7047 §5.2.6: compare the selected rows, as a multiset over `columns`, with `rows`. */
  private wait(op: Op): unknown {
    const table = this.st.table(op.table);
    const conds = parseWhere(op.where, table.schema, this.resolver);
    const cols = this.columns(table, op.columns) ?? ['_uuid', '_version', ...table.schema.columns.keys()];
    if (op.until !== '==' && op.until !== '!=') throw new OvsdbSyntaxError(`"until" must be "==" or "!="`);
    if (!Array.isArray(op.rows)) throw new OvsdbSyntaxError(`"rows" must be an array`);
    const timeout = op.timeout === undefined ? Infinity : op.timeout;
    if (typeof timeout !== 'number' || timeout < 0) throw new OvsdbSyntaxError(`"timeout" must be a non-negative integer`);
    const parsedRows: Record<string, Datum>[] = op.rows.map((rj) => {
      if (typeof rj !== 'object' || rj === null) throw new OvsdbSyntaxError(`"rows" must hold row objects`);
      const parsed: Record<string, Datum> = {};
      for (const [c, v] of Object.entries(rj)) {
        const t = columnType(table.schema, c);
        if (!t || !cols.includes(c)) throw new OvsdbError(OvsdbErrorTag.unknownColumn, `No column ${c} in table ${table.schema.name} (or not in "columns").`);
        parsed[c] = datumFromJson(v, t, `wait row column ${c}`, this.resolver);
      }
      return parsed;
    });
    // Columns a given row leaves out compare against their defaults (as in ovsdb-server).
    const want = (r: Record<string, Datum>, c: string): Datum => r[c] ?? (c === '_uuid' || c === '_version' ? { keys: [''] } : defaultDatum(table.schema.columns.get(c)!.type));
    const have = this.st.select(table, conds);
    let equal: boolean;
    if (parsedRows.length <= 1) {
      // The common case (ovs-vsctl verifies one row per op): compare directly.
      equal = have.length === parsedRows.length && (have.length === 0 || cols.every((c) => datumEquals(have[0].get(c), want(parsedRows[0], c))));
    } else {
      // Multiset comparison over the projected columns.
      const key = (get: (c: string) => Datum): string => JSON.stringify(cols.map(get));
      const counts = new Map<string, number>();
      for (const r of parsedRows) {
        const k = key((c) => want(r, c));
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      equal = have.length === parsedRows.length;
      for (const r of have) {
        if (!equal) break;
        const k = key((c) => r.get(c));
        const n = counts.get(k);
        if (!n) equal = false;
        else counts.set(k, n - 1);
      }
    }
    if (equal === (op.until === '==')) return {};
    if (timeout === 0 || this.ctx.expired) throw new OvsdbError(OvsdbErrorTag.timedOut, `"wait" timed out`);
    throw new BlockedWait(timeout);
  }
}

/**
 * Runs one transaction. Never throws for OVSDB errors (they land in `results`); rethrows only bugs.
 * RFC 7047 §4.1.3: results has one entry per operation; after a failure, the failing operation
 * holds the error and the rest are null; a commit-time failure is appended as an extra element.
 */
export function executeTransaction(db: Database, ops: unknown[], ctx: TxnContext = {}): TxnOutcome {
  const ex = new Executor(db, ctx);
  const results: unknown[] = [];
  let error: OvsdbError | undefined;
  try {
    ex.preassign(ops);
  } catch (err) {
    if (!(err instanceof OvsdbError)) throw err;
    error = err;
    results.push(err.toJSON());
  }
  for (let i = 0; !error && i < ops.length; i++) {
    try {
      results.push(ex.exec(ops[i]));
    } catch (err) {
      if (err instanceof BlockedWait) return { results: [], changes: null, durable: false, blockedWaitTimeoutMs: err.timeoutMs };
      if (!(err instanceof OvsdbError)) throw err;
      error = err;
      results.push(err.toJSON());
    }
  }
  let changes: ChangeSet | null = null;
  if (!error) {
    try {
      changes = checkAndBuildChanges(ex.st);
    } catch (err) {
      if (!(err instanceof OvsdbError)) throw err;
      error = err;
      results.push(err.toJSON());
    }
  }
  while (results.length < ops.length) results.push(null);
  if (error) return { results, changes: null, durable: false, error };
  return { results, changes: changes!.size ? changes : null, comment: ex.comments.join('\n') || undefined, durable: ex.durable };
}

