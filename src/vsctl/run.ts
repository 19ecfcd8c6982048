/**
 * One `bvs vsctl` run, as ovs-vsctl does it: connect, read the schema and every row, run all
 * commands against that snapshot, commit their changes as one transaction, then (unless
 * --no-wait) wait until the daemon reports them applied: Open_vSwitch.cur_cfg >= the next_cfg
 * this transaction incremented. Then print every command's output, in command order.
 *
 * A "timed out" answer means a `wait` failed: another client changed a row we read, so the
 * whole run is retried from a fresh snapshot (bounded). Any other failure commits nothing.
 *
 * Neighbours: client.ts, db.ts, parse.ts, the command tables, show.ts.
 */
import path from 'node:path';
import { bridgeCommands } from './bridge-cmds.ts';
import { OvsdbClient, OvsdbRemoteError } from './client.ts';
import type { CommandContext, CommandSpec } from './context.ts';
import { ctlCommands } from './ctl-cmds.ts';
import { dbCommands } from './db-cmds.ts';
import { Db, type Row } from './db.ts';
import { SymbolTable } from './format.ts';
import { ovsRow, str } from './model.ts';
import { parseCommandLine, type GlobalOptions } from './parse.ts';
import { parseDbSchema, VsctlError, type DbSchema } from './schema.ts';
import { formatShow } from './show.ts';

const DB_NAME = 'Open_vSwitch';
const MAX_ATTEMPTS = 10;

const show: CommandSpec = {
  name: 'show', usage: 'show', minArgs: 0, maxArgs: 0, options: [], write: false,
  run(ctx) {
    const text = formatShow(ctx.db);
    if (text !== '') ctx.out.push(text.slice(0, -1));
  },
};

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [show, ...bridgeCommands, ...ctlCommands, ...dbCommands].map((c) => [c.name, c]),
);

export function usage(): string {
  const lines = [
    'usage: bvs vsctl [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...',
    'Configure bvs through its OVSDB database (DIR/db.sock), like ovs-vsctl.',
    '',
    'Commands:',
    ...[...COMMANDS.values()].map((c) => `  ${c.usage.padEnd(44)}${c.options.length ? ` [${c.options.join(' ')}]` : ''}`),
    '',
    'Options:',
    '  --db=unix:PATH|tcp:HOST:PORT  database (default unix:$BVS_RUN_DIR/db.sock, BVS_RUN_DIR=/run/bvs)',
    '  --no-wait                     do not wait for the daemon to apply the change',
    '  -t, --timeout=SECS            give up after SECS seconds (default: wait forever)',
    '  --dry-run                     do not commit changes',
    '  -f, --format=list|table|csv|json  list/find output format; -d, --data=string|bare|json',
    '  --no-headings, --bare, --oneline  as in ovs-vsctl',
  ];
  return `${lines.join('\n')}\n`;
}

export interface VsctlResult {
  stdout: string;
  /** Warnings (e.g. an interface the daemon could not set up). */
  stderr: string;
  exitCode: number;
}

export function defaultDbTarget(env: NodeJS.ProcessEnv = process.env): string {
  return `unix:${path.join(env.BVS_RUN_DIR || '/run/bvs', 'db.sock')}`;
}

function deadline<T>(p: Promise<T>, seconds: number, what: () => string): Promise<T> {
  if (seconds <= 0) return p;
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VsctlError(what())), seconds * 1000);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

interface Attempt { outputs: string[][]; warnings: string[]; newIfaces: Row[]; nextCfg: number | undefined; committed: boolean }

async function attempt(client: OvsdbClient, schema: DbSchema, cl: ReturnType<typeof parseCommandLine>, comment: string): Promise<Attempt | 'retry'> {
  const db = await Db.load(client, schema);
  const symbols = new SymbolTable();
  const newIfaces: Row[] = [];
  const hooks: ((u: Map<string, string>) => void)[] = [];
  const outputs: string[][] = [];
  const warnings: string[] = [];
  const anyWrite = cl.commands.some((c) => c.spec.write);
  if (anyWrite) ovsRow(db, true);
  for (const inv of cl.commands) {
    const out: string[] = [];
    const ctx: CommandContext = {
      db, args: inv.args, options: inv.options, out, warnings, symbols, newIfaces, style: cl.global.style,
      afterCommit: (fn) => hooks.push(fn),
    };
    inv.spec.run(ctx);
    outputs.push(out);
  }
  symbols.check();
  if (!anyWrite || !db.changed || cl.global.dryRun) {
    for (const h of hooks) h(new Map());
    return { outputs, warnings, newIfaces: [], nextCfg: undefined, committed: false };
  }
  const ops = db.ops();
  const ovs = ovsRow(db, false)!;
  let nextCfgAt = -1;
  if (!cl.global.noWait && !ovs.isNew) {
    const where = [['_uuid', '==', ['uuid', ovs.uuid.id]]];
    ops.push({ op: 'mutate', table: DB_NAME, where, mutations: [['next_cfg', '+=', 1]] });
    nextCfgAt = ops.length;
    ops.push({ op: 'select', table: DB_NAME, where, columns: ['next_cfg'] });
  }
  ops.push({ op: 'comment', comment });
  const res = await client.transact(DB_NAME, ops);
  const failed = res.find((r) => typeof r.error === 'string');
  if (failed !== undefined) {
    if (failed.error === 'timed out') return 'retry';
    throw new VsctlError(`transaction error: ${JSON.stringify({ details: failed.details, error: failed.error })}`);
  }
  const uuids = new Map<string, string>();
  ops.forEach((op, i) => {
    const o = op as { op: string; 'uuid-name'?: string };
    const u = (res[i] as { uuid?: [string, string] }).uuid;
    if (o.op === 'insert' && o['uuid-name'] !== undefined && u !== undefined) uuids.set(o['uuid-name'], u[1]);
  });
  for (const h of hooks) h(uuids);
  let nextCfg: number | undefined;
  if (nextCfgAt >= 0) nextCfg = ((res[nextCfgAt] as { rows: { next_cfg: number }[] }).rows[0]!).next_cfg;
  else if (!cl.global.noWait) nextCfg = 0; // a new Open_vSwitch row: next_cfg 0, applied once cur_cfg >= 0
  return { outputs, warnings, newIfaces: newIfaces.filter((r) => !r.deleted), nextCfg, committed: true };
}

/** Waits for Open_vSwitch.cur_cfg >= nextCfg via a monitor (RFC 7047 §4.1.5). */
function waitApplied(client: OvsdbClient, nextCfg: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (rows: unknown): boolean => {
      for (const r of Object.values((rows ?? {}) as Record<string, { new?: { cur_cfg?: number } }>)) {
        if (typeof r.new?.cur_cfg === 'number' && r.new.cur_cfg >= nextCfg) return true;
      }
      return false;
    };
    const off = client.onNotify((method, params) => {
      if (method !== 'update' || !Array.isArray(params)) return;
      if (check((params[1] as Record<string, unknown> | undefined)?.[DB_NAME])) {
        off();
        resolve();
      }
    });
    client.request('monitor', [DB_NAME, 'bvs-vsctl-wait', { [DB_NAME]: { columns: ['cur_cfg'] } }]).then((initial) => {
      if (check((initial as Record<string, unknown>)[DB_NAME])) {
        off();
        resolve();
      }
    }, reject);
  });
}

/** After the change is live: warnings for new interfaces the daemon could not set up. */
async function ifaceErrors(client: OvsdbClient, names: string[]): Promise<string> {
  if (names.length === 0) return '';
  const res = await client.transact(DB_NAME, names.map((n) => ({ op: 'select', table: 'Interface', where: [['name', '==', n]], columns: ['name', 'error'] })));
  let s = '';
  for (const r of res) {
    for (const row of (r.rows ?? []) as { name: string; error: unknown }[]) {
      if (typeof row.error === 'string' && row.error !== '') {
        s += `bvs vsctl: Error detected while setting up '${row.name}': ${row.error}.  See the bvs daemon log for details.\n`;
      }
    }
  }
  return s;
}

/** Runs a whole command line; throws VsctlError (with exitCode) on failure. */
export async function runVsctl(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<VsctlResult> {
  const cl = parseCommandLine(argv, COMMANDS);
  if (cl.global.help) return { stdout: usage(), stderr: '', exitCode: 0 };
  const g: GlobalOptions = cl.global;
  const target = g.db ?? defaultDbTarget(env);
  const client = await deadline(OvsdbClient.connect(target), g.timeout, () => `${target}: timed out connecting to the database`);
  try {
    const work = async (): Promise<VsctlResult> => {
      let schema: DbSchema;
      try {
        schema = parseDbSchema(await client.request('get_schema', [DB_NAME]));
      } catch (err) {
        if (err instanceof OvsdbRemoteError) throw new VsctlError(`${target}: the server has no ${DB_NAME} database`, { cause: err });
        throw err;
      }
      const comment = `bvs vsctl: ${argv.join(' ')}`;
      for (let n = 1; ; n++) {
        const a = await attempt(client, schema, cl, comment);
        if (a === 'retry') {
          if (n >= MAX_ATTEMPTS) throw new VsctlError(`gave up after ${n} attempts: the database kept changing under the transaction`);
          continue;
        }
        let stderr = a.warnings.map((w) => `bvs vsctl: warning: ${w}\n`).join('');
        if (a.committed && a.nextCfg !== undefined) {
          await waitApplied(client, a.nextCfg);
          stderr += await ifaceErrors(client, a.newIfaces.map((r) => str(r, 'name')));
        }
        const stdout = g.oneline ? a.outputs.map((o) => `${o.join('\\n')}\n`).join('')
          : a.outputs.filter((o) => o.length > 0).map((o) => `${o.join('\n')}\n`).join('');
        return { stdout, stderr, exitCode: 0 };
      }
    };
    return await deadline(work(), g.timeout, () => `timed out after ${g.timeout} s${g.noWait ? '' : ' waiting for the daemon to apply the change (cur_cfg < next_cfg): is bvs daemon running? (--no-wait skips the wait)'}`);
  } finally {
    client.close();
  }
}
