/**
 * Table output of `list` and `find`, with ovs-vsctl's formatting options (ovs-vsctl(8) "Table
 * Formatting Options"): --format=list|table|csv|json, --data=string|bare|json, --no-headings,
 * and --bare (= list format, bare data, no headings).
 *
 *   list   `%-20s: value` per column, a blank line between rows (values alone without headings)
 *   table  headings, a dash rule, then columns padded to their widest cell, trailing blanks cut
 *   csv    RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled
 *   json   {"data":[[cell,...],...],"headings":[...]}, cells always in OVSDB JSON (RFC 7047 §5.1)
 *
 * Neighbours: schema.ts, format.ts.
 */
import { formatBare, formatDatum } from './format.ts';
import { atomToWire, VsctlError, type ColumnType, type Datum } from './schema.ts';

export interface TableStyle {
  format: 'list' | 'table' | 'csv' | 'json';
  data: 'string' | 'bare' | 'json';
  headings: boolean;
}

export const DEFAULT_STYLE: TableStyle = { format: 'list', data: 'string', headings: true };

export interface Cell {
  datum: Datum;
  type: ColumnType;
}

export function parseFormat(v: string): TableStyle['format'] {
  if (v === 'list' || v === 'table' || v === 'csv' || v === 'json') return v;
  throw new VsctlError(`"${v}": unknown --format (expected list, table, csv or json)`);
}

export function parseData(v: string): TableStyle['data'] {
  if (v === 'string' || v === 'bare' || v === 'json') return v;
  throw new VsctlError(`"${v}": unknown --data (expected string, bare or json)`);
}

/** ovsdb_datum_to_json: a one-element set is its atom; otherwise ["set",[...]] or ["map",[...]]. */
function cellJson(c: Cell): unknown {
  const d = c.datum;
  if (d.kind === 'map') return ['map', d.pairs.map(([k, v]) => [atomToWire(k), atomToWire(v)])];
  return d.atoms.length === 1 ? atomToWire(d.atoms[0]!) : ['set', d.atoms.map(atomToWire)];
}

function cellText(c: Cell, data: TableStyle['data']): string {
  if (data === 'bare') return formatBare(c.datum);
  if (data === 'json') return JSON.stringify(cellJson(c));
  return formatDatum(c.datum, c.type);
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The lines (without newlines) that print `rows` under `headings`. */
export function formatTable(headings: string[], rows: Cell[][], style: TableStyle): string[] {
  switch (style.format) {
    case 'json':
      return [JSON.stringify({ data: rows.map((r) => r.map(cellJson)), headings })];
    case 'csv': {
      const out = style.headings ? [headings.map(csvCell).join(',')] : [];
      return [...out, ...rows.map((r) => r.map((c) => csvCell(cellText(c, style.data))).join(','))];
    }
    case 'table': {
      const text = rows.map((r) => r.map((c) => cellText(c, style.data)));
      const widths = headings.map((h, i) => Math.max(style.headings ? h.length : 0, ...text.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join(' ').trimEnd();
      const head = style.headings ? [line(headings), line(widths.map((w) => '-'.repeat(w)))] : [];
      return [...head, ...text.map(line)];
    }
    default: {
      const out: string[] = [];
      rows.forEach((r, i) => {
        if (i > 0) out.push('');
        r.forEach((c, j) => out.push(style.headings ? `${headings[j]!.padEnd(20)}: ${cellText(c, style.data)}` : cellText(c, style.data)));
      });
      return out;
    }
  }
}
