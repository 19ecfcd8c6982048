/** RFC 7047 §5.2 operations, one by one, on an in-memory database (no sockets, no files). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OvsdbCore, type DbHandle } from '../../src/ovsdb/index.ts';

const t = suite('ovsdb-txn');

const SCHEMA = {
  name: 'T',
  version: '1.0.0',
  tables: {
    Root: {
      isRoot: true,
      maxRows: 3,
      columns: {
        name: { type: 'string', mutable: false },
        kids: { type: { key: { type: 'uuid', refTable: 'Kid' }, min: 0, max: 'unlimited' } },
        watch: { type: { key: { type: 'uuid', refTable: 'Kid', refType: 'weak' }, min: 0, max: 'unlimited' } },
        must: { type: { key: { type: 'uuid', refTable: 'Kid', refType: 'weak' }, min: 0, max: 1 } },
        n: { type: 'integer' },
        r: { type: 'real' },
        color: { type: { key: { type: 'string', enum: ['set', ['red', 'blue']] }, min: 0, max: 1 } },
        vlan: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 4 } },
        m: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
      },
      indexes: [['name']],
    },
    Kid: {
      columns: {
        name: { type: 'string' },
        pets: { type: { key: { type: 'uuid', refTable: 'Pet' }, min: 0, max: 'unlimited' } },
      },
    },
    Pet: { columns: { name: { type: 'string' } } },
    Strict: { isRoot: true, columns: { one: { type: { key: { type: 'uuid', refTable: 'Pet', refType: 'weak' }, min: 1, max: 1 } } } },
  },
};

let core: OvsdbCore;
let db: DbHandle;
const tx = (...ops: unknown[]): Promise<unknown[]> => db.transact(ops);
const err = (r: unknown[]): Record<string, unknown> | undefined => r.find((x) => x && typeof x === 'object' && 'error' in x) as Record<string, unknown> | undefined;
const count = (table: string): number => db.rows(table).length;

t.before.each(() => {
  core = new OvsdbCore();
  db = core.addMemory(SCHEMA);
});

t('insert returns a uuid; select returns the row with _uuid and _version', async () => {
  const [ins] = (await tx({ op: 'insert', table: 'Root', row: { name: 'a', n: 5, m: ['map', [['k', 'v']]] } })) as { uuid: [string, string] }[];
  assert.is(ins.uuid[0], 'uuid');
  const [sel] = (await tx({ op: 'select', table: 'Root', where: [['name', '==', 'a']] })) as { rows: Record<string, unknown>[] }[];
  assert.is(sel.rows.length, 1);
  assert.equal(sel.rows[0]._uuid, ins.uuid);
  assert.is((sel.rows[0]._version as unknown[])[0], 'uuid');
  assert.is(sel.rows[0].n, 5);
  assert.equal(sel.rows[0].m, ['map', [['k', 'v']]]);
  assert.equal(sel.rows[0].color, ['set', []]);
  const [cols] = (await tx({ op: 'select', table: 'Root', where: [], columns: ['name'] })) as { rows: unknown[] }[];
  assert.equal(cols.rows, [{ name: 'a' }]);
});

t('update and mutate report counts; _version changes only on real change', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a', n: 1 } });
  const v0 = db.rows('Root')[0]._version;
  const r = await tx({ op: 'update', table: 'Root', where: [['n', '>=', 1]], row: { n: 2 } }, { op: 'mutate', table: 'Root', where: [], mutations: [['n', '*=', 10], ['vlan', 'insert', ['set', [1, 2]]], ['m', 'insert', ['map', [['a', '1']]]]] });
  assert.equal(r, [{ count: 1 }, { count: 1 }]);
  const row = db.rows('Root')[0];
  assert.is(row.n, 20);
  assert.equal(row.vlan, ['set', [1, 2]]);
  assert.not.equal(row._version, v0);
  const v1 = row._version;
  await tx({ op: 'update', table: 'Root', where: [], row: { n: 20 } });
  assert.equal(db.rows('Root')[0]._version, v1, 'no-op update keeps _version');
  await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['m', 'delete', ['set', ['a']]], ['vlan', 'delete', 1]] });
  assert.equal(db.rows('Root')[0].m, ['map', []]);
  assert.is(db.rows('Root')[0].vlan, 2);
});

t('mutate errors: division by zero, range, constraint, immutable', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a', vlan: 4000 } });
  assert.is(err(await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['n', '/=', 0]] }))!.error, 'domain error');
  assert.is(err(await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['vlan', '+=', 1000]] }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['vlan', 'insert', ['set', [1, 2, 3, 5]]]] }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['name', 'insert', 'x']] }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'update', table: 'Root', where: [], row: { name: 'b' } }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['n', '+=', 9007199254740991], ['n', '+=', 9007199254740991]] }))!.error, 'range error');
});

t('constraints on insert: enum, range, set size, type', async () => {
  const e1 = err(await tx({ op: 'insert', table: 'Root', row: { name: 'a', color: 'green' } }))!;
  assert.is(e1.error, 'constraint violation');
  assert.match(String(e1.details), /green/);
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { name: 'a', vlan: 5000 } }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { name: 'a', vlan: ['set', [1, 2, 3, 4, 5]] } }))!.error, 'constraint violation');
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { name: 'a', n: 'x' } }))!.error, 'syntax error');
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { name: 'a', n: 1.5 } }))!.error, 'syntax error');
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { bogus: 1 } }))!.error, 'unknown column');
  assert.is(err(await tx({ op: 'insert', table: 'Nope', row: {} }))!.error, 'unknown table');
  assert.is(count('Root'), 0, 'failed transactions leave nothing behind');
});

t('failed op: error in place, later ops null; commit errors appended', async () => {
  const r = await tx({ op: 'insert', table: 'Root', row: { name: 'a' } }, { op: 'select', table: 'Root', where: [['bogus', '==', 1]] }, { op: 'comment', comment: 'x' });
  assert.is(r.length, 3);
  assert.is((r[1] as { error: string }).error, 'unknown column');
  assert.is(r[2], null);
  assert.is(count('Root'), 0);
  const r2 = await tx({ op: 'insert', table: 'Root', row: { name: 'a', kids: ['uuid', '11111111-1111-1111-1111-111111111111'] } });
  assert.is(r2.length, 2);
  assert.is((r2[1] as { error: string }).error, 'referential integrity violation');
});

t('unique index and maxRows', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a' } });
  const e = err(await tx({ op: 'insert', table: 'Root', row: { name: 'a' } }))!;
  assert.is(e.error, 'constraint violation');
  assert.match(String(e.details), /index on column "name"/);
  assert.is(err(await tx({ op: 'insert', table: 'Root', row: { name: 'x' } }, { op: 'insert', table: 'Root', row: { name: 'x' } }))!.error, 'constraint violation');
  // Deleting the holder and reinserting the key in one transaction is fine.
  assert.is(err(await tx({ op: 'delete', table: 'Root', where: [['name', '==', 'a']] }, { op: 'insert', table: 'Root', row: { name: 'a' } })), undefined);
  await tx({ op: 'insert', table: 'Root', row: { name: 'b' } }, { op: 'insert', table: 'Root', row: { name: 'c' } });
  assert.match(String(err(await tx({ op: 'insert', table: 'Root', row: { name: 'd' } }))!.details), /limit of 3/);
});

t('strong refs: named-uuid, GC of unreferenced non-root rows, cascading', async () => {
  await tx(
    { op: 'insert', table: 'Root', row: { name: 'a', kids: ['set', [['named-uuid', 'k1'], ['named-uuid', 'k2']]] } },
    { op: 'insert', table: 'Kid', 'uuid-name': 'k1', row: { name: 'k1', pets: ['named-uuid', 'p1'] } },
    { op: 'insert', table: 'Kid', 'uuid-name': 'k2', row: { name: 'k2' } },
    { op: 'insert', table: 'Pet', 'uuid-name': 'p1', row: { name: 'p1' } },
    { op: 'insert', table: 'Pet', row: { name: 'orphan' } },
  );
  assert.is(count('Kid'), 2);
  assert.is(count('Pet'), 1, 'an inserted non-root row with no references is collected at once');
  const k1 = db.rows('Kid').find((r) => r.name === 'k1')!._uuid;
  await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['kids', 'delete', k1]] });
  assert.is(count('Kid'), 1);
  assert.is(count('Pet'), 0, 'GC cascades through Kid to Pet');
  await tx({ op: 'delete', table: 'Root', where: [] });
  assert.is(count('Kid'), 0);
});

t('deleting a referenced row is a referential integrity violation', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a', kids: ['named-uuid', 'k'] } }, { op: 'insert', table: 'Kid', 'uuid-name': 'k', row: { name: 'k' } });
  const e = err(await tx({ op: 'delete', table: 'Kid', where: [] }))!;
  assert.is(e.error, 'referential integrity violation');
  assert.is(count('Kid'), 1);
});

t('weak refs vanish with their target; min=1 weak column makes it a constraint violation', async () => {
  await tx(
    { op: 'insert', table: 'Root', row: { name: 'a', kids: ['set', [['named-uuid', 'k1'], ['named-uuid', 'k2']]], watch: ['set', [['named-uuid', 'k1'], ['named-uuid', 'k2']]], must: ['named-uuid', 'k1'] } },
    { op: 'insert', table: 'Kid', 'uuid-name': 'k1', row: { name: 'k1' } },
    { op: 'insert', table: 'Kid', 'uuid-name': 'k2', row: { name: 'k2' } },
  );
  const k1 = db.rows('Kid').find((r) => r.name === 'k1')!._uuid;
  await tx({ op: 'mutate', table: 'Root', where: [], mutations: [['kids', 'delete', k1]] });
  const row = db.rows('Root')[0];
  assert.is((row.watch as unknown[])[0], 'uuid', 'one weak ref left');
  assert.equal(row.must, ['set', []]);
  await tx({ op: 'insert', table: 'Root', row: { name: 'b', kids: ['named-uuid', 'k'] } }, { op: 'insert', table: 'Kid', 'uuid-name': 'k', row: { name: 'k', pets: ['named-uuid', 'p'] } }, { op: 'insert', table: 'Pet', 'uuid-name': 'p', row: { name: 'p' } }, { op: 'insert', table: 'Strict', row: { one: ['named-uuid', 'p'] } });
  assert.is(count('Strict'), 1);
  const e = err(await tx({ op: 'mutate', table: 'Kid', where: [['name', '==', 'k']], mutations: [['pets', 'delete', ['set', [db.rows('Pet')[0]._uuid]]]] }))!;
  assert.is(e.error, 'constraint violation');
  assert.is(count('Pet'), 1);
});

t('wait: == and != with timeout 0; columns absent means whole rows', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a', n: 1 } });
  assert.equal(await tx({ op: 'wait', table: 'Root', where: [['name', '==', 'a']], columns: ['n'], until: '==', rows: [{ n: 1 }], timeout: 0 }), [{}]);
  assert.is(err(await tx({ op: 'wait', table: 'Root', where: [], columns: ['n'], until: '==', rows: [{ n: 2 }], timeout: 0 }))!.error, 'timed out');
  assert.equal(await tx({ op: 'wait', table: 'Root', where: [], columns: ['n'], until: '!=', rows: [{ n: 2 }], timeout: 0 }), [{}]);
  assert.equal(await tx({ op: 'wait', table: 'Root', where: [['name', '==', 'zz']], until: '==', rows: [], timeout: 0 }), [{}]);
});

t('wait with timeout blocks until another commit satisfies it, or times out', async () => {
  let settled = false;
  const blocked = tx({ op: 'wait', table: 'Root', where: [['name', '==', 'late']], columns: ['n'], until: '==', rows: [{ n: 7 }], timeout: 60_000 }, { op: 'update', table: 'Root', where: [['name', '==', 'late']], row: { n: 8 } })
    .finally(() => (settled = true));
  // A commit that does not satisfy the wait re-runs it (triggers run after every commit): once
  // that commit is durable, the wait has been tried again and must still be blocked.
  await tx({ op: 'insert', table: 'Root', row: { name: 'other', n: 7 } });
  await Promise.resolve();
  assert.is(settled, false, 'still blocked after a commit that does not satisfy it');
  await tx({ op: 'insert', table: 'Root', row: { name: 'late', n: 7 } });
  assert.equal(await blocked, [{}, { count: 1 }]);
  assert.is(db.rows('Root').find((r) => r.name === 'late')!.n, 8);
  // The timeout, measured against a timer of the same event loop started just before it (the
  // core has no injectable clock; a wall-clock bound would fail on a stalled host, while two
  // overdue timers still fire in the order of their deadlines). 95, not 100: the core computes
  // its delay from Date.now() twice, so it may arm 99 ms.
  let earlier = false;
  const marker = setTimeout(() => (earlier = true), 95);
  const r = await tx({ op: 'wait', table: 'Root', where: [], columns: ['n'], until: '==', rows: [], timeout: 100 });
  clearTimeout(marker);
  assert.is((r[0] as { error: string }).error, 'timed out');
  assert.ok(earlier, 'not before its timeout');
});

t('commit, abort, comment, assert', async () => {
  assert.equal(await tx({ op: 'comment', comment: 'hi' }, { op: 'commit', durable: true }), [{}, {}]);
  const r = await tx({ op: 'insert', table: 'Root', row: { name: 'a' } }, { op: 'abort' });
  assert.is((r[1] as { error: string }).error, 'aborted');
  assert.is(count('Root'), 0);
  assert.is(err(await tx({ op: 'assert', lock: 'L' }))!.error, 'not owner');
  assert.is(err(await tx({ op: 'frobnicate' }))!.error, 'syntax error');
  const dup = await tx({ op: 'insert', table: 'Root', 'uuid-name': 'a', row: { name: 'a' } }, { op: 'insert', table: 'Root', 'uuid-name': 'a', row: { name: 'b' } });
  assert.is((dup[1] as { error: string }).error, 'duplicate uuid-name', 'the repeat fails where it stands');
  assert.is(err(await tx({ op: 'commit' }))!.error, 'syntax error');
});

t('conditions: includes/excludes on sets and maps, ordered on reals', async () => {
  await tx({ op: 'insert', table: 'Root', row: { name: 'a', vlan: ['set', [1, 2]], m: ['map', [['k', 'v']]], r: 1.5 } }, { op: 'insert', table: 'Root', row: { name: 'b', vlan: 3, r: 2 } });
  const names = async (where: unknown[]): Promise<string[]> => (((await tx({ op: 'select', table: 'Root', where, columns: ['name'] }))[0] as { rows: { name: string }[] }).rows.map((x) => x.name).sort());
  assert.equal(await names([['vlan', 'includes', 1]]), ['a']);
  assert.equal(await names([['vlan', 'excludes', ['set', [1]]]]), ['b']);
  assert.equal(await names([['m', 'includes', ['map', [['k', 'v']]]]]), ['a']);
  assert.equal(await names([['m', 'includes', ['map', [['k', 'w']]]]]), []);
  assert.equal(await names([['r', '<', 2]]), ['a']);
  assert.equal(await names([['r', '>=', 1.5], ['name', '!=', 'a']]), ['b']);
  assert.is(err(await tx({ op: 'select', table: 'Root', where: [['name', '<', 'x']] }))!.error, 'syntax error');
});

t('embedded API: subscribe sees committed changes with old and new rows', async () => {
  const seen: string[] = [];
  const off = db.subscribe((ch) => seen.push(...ch.map((c) => `${c.table}:${c.old ? 'old' : ''}${c.new ? 'new' : ''}`)));
  await tx({ op: 'insert', table: 'Root', row: { name: 'a' } });
  await tx({ op: 'update', table: 'Root', where: [], row: { n: 3 } });
  await tx({ op: 'delete', table: 'Root', where: [] });
  off();
  await tx({ op: 'insert', table: 'Root', row: { name: 'z' } });
  assert.equal(seen, ['Root:new', 'Root:oldnew', 'Root:old']);
});

t('a monitor created while a commit awaits durability reports the row once', async () => {
  const pending = tx({ op: 'insert', table: 'Root', row: { name: 'race' } });
  const updates: unknown[] = [];
  const m = db.monitor({ Root: [{ columns: ['name'] }] }, (u) => updates.push(u));
  await pending;
  await tx({ op: 'insert', table: 'Root', row: { name: 'later' } });
  m.cancel();
  assert.equal(Object.values(m.initial.Root as Record<string, unknown>), [{ initial: { name: 'race' } }]);
  assert.is(updates.length, 1);
  assert.equal(Object.values((updates[0] as { Root: Record<string, unknown> }).Root), [{ insert: { name: 'later' } }]);
});

t.after(async () => {
  await core?.close();
});

t.run();
