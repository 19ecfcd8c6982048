/**
 * Public surface of src/ovsdb: an RFC 7047 OVSDB server with a crash-safe journal.
 * Layers (each file names the neighbours it may use):
 *   log.ts (framed records, group commit) -> storage.ts (file <-> Database, compaction)
 *   -> schema.ts / datum.ts / row.ts / condition.ts (values) -> database.ts (committed state)
 *   -> txn-state.ts / transaction.ts / integrity.ts (the transaction engine)
 *   -> monitor.ts, locks.ts -> core.ts (commit pipeline, protocol-independent)
 *   -> session.ts (methods) -> jsonrpc.ts (the wire) -> server.ts (embeddable whole).
 */
export { OvsdbServer, type OvsdbServerOptions } from './server.ts';
export { OvsdbCore, DbHandle, type RowChangeJson } from './core.ts';
export { Storage, type StorageOptions } from './storage.ts';
export { decodeRecords, encodeRecord } from './log.ts';
export {
  parseSchema, type DatabaseSchema, type TableSchema, type ColumnSchema, type ColumnType, type BaseType, type AtomicType,
} from './schema.ts';
export { DEFAULT_MAX_CONNECTIONS, parseRemote, type ListenerLimits } from './jsonrpc.ts';
export { JsonRpcProtocolError, JsonSplitter, MAX_JSON_BYTES, MAX_JSON_DEPTH } from './json-stream.ts';
export {
  OvsdbError,
  OvsdbErrorTag,
  OvsdbSyntaxError,
  OvsdbConstraintError,
  OvsdbReferentialIntegrityError,
  OvsdbStorageError,
  OvsdbSchemaError,
} from './errors.ts';
import { fileURLToPath } from 'node:url';
/** Path of the bvs Open_vSwitch schema. */
export const VSWITCH_SCHEMA_PATH = fileURLToPath(new URL('./schema/vswitch.ovsschema', import.meta.url));
