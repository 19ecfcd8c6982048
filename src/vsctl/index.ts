/**
 * `bvs vsctl`: an OVSDB JSON-RPC client and the common ovs-vsctl commands on it (public surface).
 *
 *   const r = await runVsctl(['--no-wait', 'add-br', 'br0']);   // { stdout, stderr, exitCode }
 *
 * Layers: client.ts (the wire) -> schema.ts (types, values) -> format.ts (text) -> db.ts
 * (snapshot + transaction) -> model.ts (bridges/ports, record lookup) -> bridge-cmds.ts,
 * db-cmds.ts, show.ts (commands) -> parse.ts (command line) -> run.ts (one run).
 */
export { OvsdbClient, OvsdbClientError, OvsdbRemoteError, parseDbTarget, type JsonRpcMessage } from './client.ts';
export { runVsctl, defaultDbTarget, usage, COMMANDS, type VsctlResult } from './run.ts';
export { parseCommandLine, type GlobalOptions, type Invocation, type ParsedCommandLine } from './parse.ts';
export { formatAtom, formatDatum, parseAtom, parseDatum, splitColumnArg } from './format.ts';
export { formatShow } from './show.ts';
export { Db, type Row } from './db.ts';
export { parseDbSchema, VsctlError, Uuid, type Atom, type Datum, type DbSchema, type ColumnType } from './schema.ts';
