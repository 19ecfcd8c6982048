/**
 * Fuzzing the OVSDB wire and transaction engine (issue 9), in process, with a fixed seed:
 *   - the JSON-RPC framing (json-stream.ts) on random bytes and on valid message streams cut
 *     and corrupted at random places;
 *   - every Session method on random and mutated params;
 *   - transactions mutated from a corpus of valid ones, against a populated database.
 * The property: each input yields a result, an OVSDB error reply, or one of the project's own
 * named errors (JsonRpcProtocolError, OvsdbError and its subclasses); never a TypeError,
 * RangeError or stack overflow; never more than a second; and a transaction whose result
 * holds an error leaves the database exactly as it was.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { JsonRpcProtocolError, JsonSplitter, OvsdbCore, OvsdbError, VSWITCH_SCHEMA_PATH, type DbHandle } from '../../src/ovsdb/index.ts';
import { Session } from '../../src/ovsdb/session.ts';

const t = suite('ovsdb-fuzz');
const SEED = 0x0b5d;
const RUNS = 10_000;
const SCHEMA = JSON.parse(fs.readFileSync(VSWITCH_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

/** The project's own errors (anything else escaping is a defect). */
function ours(e: unknown): boolean {
  return e instanceof JsonRpcProtocolError || e instanceof OvsdbError;
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  if (ms > 1000) throw new Error(`${what} took ${ms.toFixed(0)} ms`);
  return r;
}

const VALID_TXNS: unknown[][] = [
  [{ op: 'insert', table: 'Open_vSwitch', row: {} }],
  [{ op: 'insert', table: 'Interface', row: { name: 'p1', type: 'internal' }, 'uuid-name': 'i' },
    { op: 'insert', table: 'Port', row: { name: 'p1', interfaces: ['named-uuid', 'i'], tag: 10 }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Bridge', row: { name: 'br0', ports: ['set', [['named-uuid', 'p']]] }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] }],
  [{ op: 'update', table: 'Bridge', where: [['name', '==', 'br0']], row: { other_config: ['map', [['k', 'v']]] } }],
  [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] }],
  [{ op: 'delete', table: 'Port', where: [['name', '!=', 'p1']] }],
  [{ op: 'wait', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['name'], until: '==', rows: [{ name: 'br0' }], timeout: 0 }],
  [{ op: 'comment', comment: 'fuzz' }, { op: 'assert', lock: 'l' }, { op: 'abort' }],
  [{ op: 'select', table: 'Interface', where: [['ofport', '<', 5], ['_uuid', 'excludes', ['uuid', '00000000-0000-0000-0000-000000000000']]] }],
];

/** Replaces the node number `at` (depth-first) of `v` with `by`. */
function replaceAt(v: unknown, at: number, by: unknown): unknown {
  let n = 0;
  const walk = (x: unknown): unknown => {
    if (n++ === at) return by;
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  return walk(v);
}

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom('uuid', 'named-uuid', 'set', 'map', '__proto__', 'constructor', 'toString', -1, 2 ** 53, 1e300, '', null),
);
/** A "wait" that does not hold yet blocks until its timeout (RFC 7047 §5.2.6), which is right
 *  but would let it commit later, in the middle of other inputs: every wait here times out at
 *  once. Blocking waits have their own tests. */
function noBlocking(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(noBlocking);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return o.op === 'wait' ? { ...o, timeout: 0 } : o;
  }
  return v;
}
const mutated = fc.tuple(fc.constantFrom(...VALID_TXNS), fc.array(fc.tuple(fc.nat(60), jsonish), { minLength: 1, maxLength: 3 }))
  .map(([txn, edits]) => noBlocking(edits.reduce((v: unknown, [at, by]) => replaceAt(v, at, by), txn)));

let core: OvsdbCore;
let db: DbHandle;

t.before(async () => {
  core = new OvsdbCore();
  db = core.addMemory(SCHEMA);
  for (const txn of VALID_TXNS.slice(0, 2)) await db.transact(txn);
});

t('JSON-RPC framing: random bytes and cut or corrupted message streams', () => {
  const msgs = VALID_TXNS.map((ops, i) => JSON.stringify({ method: 'transact', params: ['Open_vSwitch', ...ops], id: i }));
  const stream = Buffer.from(msgs.join(''));
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 2048 }).map((b) => [Buffer.from(b)]),
      fc.tuple(fc.array(fc.nat(stream.length), { maxLength: 6 }), fc.array(fc.tuple(fc.nat(stream.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
        .map(([cuts, flips]) => {
          const b = Buffer.from(stream);
          for (const [i, v] of flips) b[i] = v;
          const at = [0, ...[...new Set(cuts)].sort((x, y) => x - y), b.length];
          return at.slice(1).map((end, i) => b.subarray(at[i], end));
        }),
    ),
    (chunks) => {
      const sp = new JsonSplitter();
      let values = 0;
      try {
        timed('framing', () => { for (const c of chunks) sp.forEachValue(c, () => { values++; }); });
      } catch (e) {
        if (!ours(e)) throw e;
      }
      return values >= 0;
    },
  ), { seed: SEED, numRuns: RUNS });
});

t('every method, random and mutated params: a result or an OVSDB error', async () => {
  const session = new Session(core, { notify: () => {} });
  const methods = ['list_dbs', 'get_schema', 'transact', 'cancel', 'monitor', 'monitor_cond', 'monitor_cond_since',
    'monitor_cond_change', 'monitor_cancel', 'lock', 'steal', 'unlock', 'echo', 'set_db_change_aware', 'get_server_id', 'nope'];
  const params = fc.oneof(
    fc.jsonValue({ maxDepth: 5 }),
    fc.tuple(fc.constantFrom('Open_vSwitch', 'nope', '_Server'), jsonish, jsonish).map((a) => [...a]),
    mutated.map((ops) => ['Open_vSwitch', ...(Array.isArray(ops) ? ops : [ops])]),
  );
  await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), params, fc.jsonValue({ maxDepth: 1 }), async (m, p, id) => {
    const t0 = performance.now();
    try {
      await session.request(m, p, id);
    } catch (e) {
      if (!ours(e)) throw e;
    }
    assert.ok(performance.now() - t0 < 1000, `${m} took over a second`);
  }), { seed: SEED, numRuns: RUNS });
  session.close();
});

t('mutated transactions: errors leave the database as it was', async () => {
  const snapshot = (): string => JSON.stringify(['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Controller', 'Mirror']
    .map((tb) => db.rows(tb).map((r) => JSON.stringify({ ...r, _version: null })).sort()));
  let committed = 0;
  let refused = 0;
  await fc.assert(fc.asyncProperty(mutated, async (ops) => {
    const before = snapshot();
    const t0 = performance.now();
    let r: unknown[];
    try {
      r = await db.transact(Array.isArray(ops) ? ops : [ops]);
    } catch (e) {
      if (!ours(e)) throw e;
      assert.is(snapshot(), before, 'a refused transaction changed the database');
      refused++;
      return;
    }
    assert.ok(performance.now() - t0 < 1000, 'a transaction took over a second');
    if (r.some((x) => x !== null && typeof x === 'object' && 'error' in x)) {
      assert.is(snapshot(), before, `a failed transaction changed the database: ${JSON.stringify(r).slice(0, 300)}`);
      refused++;
    } else committed++;
  }), { seed: SEED, numRuns: RUNS });
  assert.ok(committed > 0 && refused > 0, `both outcomes seen: ${committed} committed, ${refused} refused`);
});

t.run();
