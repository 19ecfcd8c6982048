/** Unit tests of src/vsctl without a server: the command-line parser, values, show formatting. */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import {
  COMMANDS, Db, formatAtom, formatDatum, formatShow, parseCommandLine, parseDatum, parseDbSchema, splitColumnArg,
  VsctlError, type Atom, type ColumnType, type Datum,
} from '../../src/vsctl/index.ts';

const t = suite('vsctl-unit');
const schema = parseDbSchema(JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')));
const col = (table: string, c: string): ColumnType => schema.tables.get(table)!.columns.get(c)!.type;
const parse = (...argv: string[]) => parseCommandLine(argv, COMMANDS);
function throwsMsg(fn: () => unknown, msg: string | RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, VsctlError);
    if (typeof msg === 'string') assert.is((err as Error).message, msg);
    else assert.match((err as Error).message, msg);
    return;
  }
  assert.unreachable(`expected VsctlError ${msg}`);
}

t('command line: global options, "--" groups, per-command options', () => {
  const p = parse('--db=unix:/x.sock', '--no-wait', '--may-exist', 'add-br', 'br0', '--', '--if-exists', 'del-port', 'p1',
    '--', 'set', 'Interface', 'p1', 'type=internal');
  assert.equal(p.global, {
    db: 'unix:/x.sock', noWait: true, timeout: 0, dryRun: false, help: false,
    style: { format: 'list', data: 'string', headings: true }, oneline: false,
  });
  assert.equal(parse('--bare', '-f', 'csv', 'show').global.style, { format: 'csv', data: 'bare', headings: false });
  assert.equal(p.commands.map((c) => [c.spec.name, c.args, [...c.options.keys()]]), [
    ['add-br', ['br0'], ['--may-exist']],
    ['del-port', ['p1'], ['--if-exists']],
    ['set', ['Interface', 'p1', 'type=internal'], []],
  ]);
  const q = parse('--timeout', '5', '--db', 'unix:/y', '--', '--columns=name,tag', 'find', 'Port', 'tag=10');
  assert.equal([q.global.timeout, q.global.db, q.commands[0]!.options.get('--columns')], [5, 'unix:/y', 'name,tag']);
  assert.ok(parse('--help').global.help);
});

t('command line errors name the command, option or count', () => {
  throwsMsg(() => parse('frob'), "unknown command 'frob'; use --help for help");
  throwsMsg(() => parse('--may-exist', 'list-br'), "'list-br' command has no '--may-exist' option");
  throwsMsg(() => parse('add-port', 'br0'), "'add-port' command requires at least 2 arguments");
  throwsMsg(() => parse('list-br', '--x'), /takes at most 0 arguments \(note that options must precede/);
  throwsMsg(() => parse('add-br', 'br0', '--'), 'missing command name after "--" (group 2)');
  throwsMsg(() => parse(), 'missing command name (use --help for help)');
  throwsMsg(() => parse('--timeout=soon', 'show'), '--timeout: "soon" is not a valid number of seconds');
  throwsMsg(() => parse('--format=xml', 'show'), '"xml": unknown --format (expected list, table, csv or json)');
});

t('values: parse and print like ovs-vsctl (quoting, sets, maps, ranges, constraints)', () => {
  assert.equal(['br0', 'e.x', 'x-y.z_', 'a b', '1abc', 'true', '', 'q"t', '-x'].map((s) => formatAtom(s)),
    ['br0', 'e.x', 'x-y.z_', '"a b"', '"1abc"', '"true"', '""', '"q\\"t"', '"-x"']);
  assert.is(formatAtom('5b28ebed-97b3-48d1-acbd-b9ba2ac486ef'), '"5b28ebed-97b3-48d1-acbd-b9ba2ac486ef"');
  const trunks = col('Port', 'trunks');
  const tag = col('Port', 'tag');
  const ext = col('Bridge', 'external_ids');
  assert.is(formatDatum(parseDatum('30,10 20', trunks), trunks), '[10, 20, 30]');
  assert.is(formatDatum(parseDatum('[1-3, 7]', trunks), trunks), '[1, 2, 3, 7]');
  assert.is(formatDatum(parseDatum('[]', tag), tag), '[]');
  assert.is(formatDatum(parseDatum('10', tag), tag), '10');
  assert.is(formatDatum(parseDatum('{b=2, a="x y"}', ext), ext), '{a="x y", b="2"}');
  assert.is(formatDatum(parseDatum('k=v', ext), ext), '{k=v}');
  throwsMsg(() => parseDatum('abc', tag), '"abc" is not a valid integer or range');
  throwsMsg(() => parseDatum('4096', tag), 'constraint violation: 4096 is not in the valid range 0 to 4095 (inclusive)');
  throwsMsg(() => parseDatum('1,2', tag), '1,2: 2 value(s) specified but the maximum number is 1');
  throwsMsg(() => parseDatum('bogus', col('Bridge', 'fail_mode')), 'constraint violation: bogus is not one of the allowed values ([secure, standalone])');
  throwsMsg(() => parseDatum('a=b=c', ext), /syntax error in map item/);
  throwsMsg(() => parseDatum('"open', ext), /unterminated quoted string/);
});

t('COLUMN[:KEY]=VALUE arguments', () => {
  assert.equal(splitColumnArg('tag=10', ['=']), { column: 'tag', op: '=', value: '10' });
  assert.equal(splitColumnArg('other_config:a=b=c', ['=']), { column: 'other_config', key: 'a', op: '=', value: 'b=c' });
  assert.equal(splitColumnArg('external_ids:"x=y"=1', ['=']), { column: 'external_ids', key: '"x=y"', op: '=', value: '1' });
  assert.equal(splitColumnArg('tag!=10', ['!=', '=']), { column: 'tag', op: '!=', value: '10' });
  assert.equal(splitColumnArg('name', []), { column: 'name' });
  throwsMsg(() => splitColumnArg('tag~10', ['=']), 'tag~10: argument does not end in "=" followed by a value.');
});

t('show: the ovs-vsctl tree, children in UUID order, defaults omitted', () => {
  const db = new Db(schema);
  const set = (...a: Atom[]): Datum => ({ kind: 'set', atoms: a });
  const iface = (name: string, type?: string) => db.insert('Interface', { name: set(name), ...(type ? { type: set(type) } : {}) });
  const i0 = iface('br0', 'internal');
  const i1 = iface('p 1');
  const p0 = db.insert('Port', { name: set('br0'), interfaces: set(i0.uuid) });
  const p1 = db.insert('Port', { name: set('p 1'), interfaces: set(i1.uuid), tag: set(10), trunks: set() });
  const ctl = db.insert('Controller', { target: set('tcp:1.2.3.4:6653'), is_connected: set(true) });
  const br = db.insert('Bridge', { name: set('br0'), ports: set(p1.uuid, p0.uuid), controller: set(ctl.uuid) });
  db.insert('Open_vSwitch', { bridges: set(br.uuid) });
  const text = formatShow(db);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^bvs_row\d+$/);
  assert.equal(lines.slice(1), [
    '    Bridge br0',
    '        Controller "tcp:1.2.3.4:6653"',
    '            is_connected: true',
    '        Port br0',
    '            Interface br0',
    '                type: internal',
    '        Port "p 1"',
    '            tag: 10',
    '            Interface "p 1"',
    '',
  ]);
  assert.is(formatShow(new Db(schema)), '', 'no Open_vSwitch row: nothing');
});

t.run();
