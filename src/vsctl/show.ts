/**
 * `ovs-vsctl show`: the configuration as an indented tree, in ovs-vsctl's exact format.
 *
 * The tree starts at the Open_vSwitch row (its UUID alone on the first line). Each level is
 * indented 4 more spaces. For every row, the columns of SHOW_COLUMNS are printed in that order:
 * a reference column to a table that has a SHOW entry recurses into each referenced row (in the
 * column's canonical, UUID, order) as `Table name`; any other column is printed as
 * `column: value` unless it holds its default value. A row is printed at most once.
 *
 * Neighbours: db.ts, model.ts, format.ts.
 */
import type { Db, Row } from './db.ts';
import { formatAtom, formatDatum } from './format.ts';
import { ovsRow } from './model.ts';
import { datumEquals, defaultDatum, Uuid } from './schema.ts';

/** Per table: the column naming a row, and the columns shown (ovs-vsctl's cmd_show_tables). */
const SHOW: Record<string, { name: string | null; columns: string[] }> = {
  Open_vSwitch: { name: null, columns: ['manager_options', 'bridges', 'ovs_version'] },
  Bridge: { name: 'name', columns: ['controller', 'fail_mode', 'ports'] },
  Port: { name: 'name', columns: ['tag', 'trunks', 'interfaces'] },
  Interface: { name: 'name', columns: ['type', 'options', 'error', 'bfd_status'] },
  Controller: { name: 'target', columns: ['is_connected'] },
  Manager: { name: 'target', columns: ['is_connected'] },
};

export function formatShow(db: Db): string {
  const root = ovsRow(db, false);
  if (root === undefined) return '';
  const lines: string[] = [root.uuid.id];
  const shown = new Set<string>();
  const indent = (level: number) => ' '.repeat(level * 4);

  const showRow = (row: Row, level: number): void => {
    shown.add(row.uuid.id);
    const spec = SHOW[row.table.name]!;
    for (const cname of spec.columns) {
      const col = row.table.columns.get(cname);
      if (col === undefined) continue; // a reduced schema: skip, as ovs-vsctl does
      const d = row.cols.get(cname)!;
      const ref = col.type.key.refTable;
      if (col.type.key.type === 'uuid' && ref !== undefined && SHOW[ref] !== undefined && d.kind === 'set') {
        for (const a of d.atoms) {
          const child = a instanceof Uuid ? db.get(ref, a) : undefined;
          if (child === undefined || shown.has(child.uuid.id)) continue;
          const nameCol = SHOW[ref]!.name;
          const nameAtom = nameCol === null ? undefined : (child.cols.get(nameCol) as { atoms: unknown[] } | undefined)?.atoms[0];
          lines.push(`${indent(level + 1)}${ref} ${nameAtom === undefined ? child.uuid.id : formatAtom(nameAtom as string)}`);
          showRow(child, level + 1);
        }
      } else if (!datumEquals(d, defaultDatum(col.type))) {
        lines.push(`${indent(level + 1)}${cname}: ${formatDatum(d, col.type)}`);
      }
    }
  };
  showRow(root, 0);
  return `${lines.join('\n')}\n`;
}
