/**
 * What a vsctl command sees while it runs: the snapshot, its arguments and options, where its
 * output goes, and the hooks that run after the commit (to print the UUIDs of created rows).
 *
 * Neighbours: db.ts, format.ts.
 */
import type { Db, Row } from './db.ts';
import type { SymbolTable } from './format.ts';
import type { TableStyle } from './table.ts';

export interface CommandContext {
  readonly db: Db;
  readonly args: string[];
  /** Per-command options, e.g. {"--may-exist": "", "--columns": "name,ports"}. */
  readonly options: Map<string, string>;
  /** Lines this command prints (each without its newline). */
  readonly out: string[];
  /** Warnings for stderr (each without its newline). */
  readonly warnings: string[];
  /** `@name` row ids made by --id=@name in this invocation. */
  readonly symbols: SymbolTable;
  /** Interfaces this invocation created: after the change is applied, their `error` is reported. */
  readonly newIfaces: Row[];
  /** How list/find print their rows (global table formatting options). */
  readonly style: TableStyle;
  /** Runs after a successful commit with the real UUIDs of inserted rows (uuid-name -> uuid). */
  afterCommit(fn: (uuids: Map<string, string>) => void): void;
}

export interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Accepted per-command options (without values), e.g. ["--may-exist"]. */
  readonly options: readonly string[];
  /** False for read-only commands: the run then commits nothing and never waits. */
  readonly write: boolean;
  run(ctx: CommandContext): void;
}
