/**
 * Rows: an immutable snapshot of one table row (RFC 7047 §3.2: every row has _uuid and _version).
 * A change to a row produces a new Row object, so committed rows can be shared with monitors and
 * readers without copying.
 * Neighbours: datum.ts, schema.ts.
 */
import { datumToJson, defaultDatum, isDefault, type Datum } from './datum.ts';
import type { ColumnType, TableSchema } from './schema.ts';

export const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

export class Row {
  constructor(
    readonly uuid: string,
    readonly version: string,
    readonly cols: Readonly<Record<string, Datum>>,
  ) {}

  get(column: string): Datum {
    if (column === '_uuid') return { keys: [this.uuid] };
    if (column === '_version') return { keys: [this.version] };
    return this.cols[column];
  }
}

/** The type of a column, including the _uuid/_version pseudo-columns. */
export function columnType(table: TableSchema, name: string): ColumnType | undefined {
  if (name === '_uuid' || name === '_version') return UUID_TYPE;
  return table.columns.get(name)?.type;
}

export function defaultColumns(table: TableSchema): Record<string, Datum> {
  const cols: Record<string, Datum> = {};
  for (const c of table.columns.values()) cols[c.name] = defaultDatum(c.type);
  return cols;
}

/** RFC 7047 <row> for the given columns (all, plus _uuid and _version, when omitted). */
export function rowToJson(row: Row, table: TableSchema, columns?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!columns) {
    out._uuid = ['uuid', row.uuid];
    out._version = ['uuid', row.version];
    for (const c of table.columns.values()) out[c.name] = datumToJson(row.cols[c.name], c.type);
    return out;
  }
  for (const name of columns) out[name] = datumToJson(row.get(name), columnType(table, name)!);
  return out;
}

/** Only the columns that differ from their defaults (journal inserts, update2 "insert"). */
export function nonDefaultJson(row: Row, table: TableSchema, columns?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of columns ?? table.columns.keys()) {
    const c = table.columns.get(name);
    if (!c) continue;
    const d = row.cols[name];
    if (!isDefault(d, c.type)) out[name] = datumToJson(d, c.type);
  }
  return out;
}
