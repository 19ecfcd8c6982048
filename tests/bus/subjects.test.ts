// Unit tests of the subject table, host ids, contracts and the JSON codec (no server needed).
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  allEventsSubject, BusError, commandSubject, Commands, decodeJson, encodeJson, eventSubject, Events,
  hostId, isHostToken, parseSubject, u64, type CommandName, type EventName,
} from '../../src/bus/index.ts';

const t = suite('bus-subjects');

t('hostId sanitizes into one subject token', () => {
  assert.is(hostId('Node1.Example.com'), 'node1-example-com');
  assert.is(hostId('my host*>'), 'my-host');
  assert.is(hostId('...'), 'localhost');
  assert.is(hostId('a_b-c'), 'a_b-c');
  assert.is(hostId('x'.repeat(100)).length, 64);
  assert.ok(isHostToken(hostId()));
});

t('subjects follow bvs.<host>.<cmd|evt>.<name> and parse back', () => {
  assert.is(commandSubject('h1', 'appctl.fdb.show'), 'bvs.h1.cmd.appctl.fdb.show');
  assert.is(eventSubject('h1', 'packet-in'), 'bvs.h1.evt.packet-in');
  assert.is(eventSubject('*', 'port.status'), 'bvs.*.evt.port.status');
  assert.is(allEventsSubject('h1'), 'bvs.h1.evt.>');
  for (const name of Object.keys(Commands) as CommandName[]) {
    assert.equal(parseSubject(commandSubject('h1', name)), { host: 'h1', kind: 'cmd', name });
  }
  for (const name of Object.keys(Events) as EventName[]) {
    assert.equal(parseSubject(eventSubject('h1', name)), { host: 'h1', kind: 'evt', name });
  }
  assert.is(parseSubject('bvs.h1.cmd.vsctl.nope'), null);
  assert.is(parseSubject('ovs.h1.cmd.daemon.ping'), null);
  assert.throws(() => commandSubject('Bad.Host', 'daemon.ping'), /invalid host token/);
  assert.throws(() => commandSubject('*', 'daemon.ping'), /invalid host token/);
});

t('every subject is a valid NATS subject of lowercase tokens', () => {
  const names = [...Object.keys(Commands), ...Object.keys(Events)];
  assert.is(new Set(names).size, names.length);
  for (const n of names) assert.match(n, /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/);
});

t('every request schema is strict: an unknown field is named', () => {
  for (const [name, c] of Object.entries(Commands)) {
    const r = c.request.safeParse({ zzz_unknown: 1 });
    assert.not.ok(r.success, name);
    const keys = r.error!.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []));
    assert.ok(keys.includes('zzz_unknown'), `${name} does not reject unknown fields`);
  }
});

t('u64: bigint, safe number or decimal string in, bigint out; range checked', () => {
  assert.is(u64.parse(5), 5n);
  assert.is(u64.parse('18446744073709551615'), 18446744073709551615n);
  assert.is(u64.parse(7n), 7n);
  assert.not.ok(u64.safeParse('18446744073709551616').success);
  assert.not.ok(u64.safeParse(-1).success);
  assert.not.ok(u64.safeParse(1.5).success);
  assert.not.ok(u64.safeParse(2 ** 60).success); // unsafe as a JSON number: must be a string
});

t('codec: bigints round trip through JSON; bad JSON is a bad_json BusError', () => {
  const big = (1n << 63n) + 5n;
  const wire = new TextDecoder().decode(encodeJson({ a: 3n, b: big }));
  assert.is(wire, `{"a":3,"b":"${big}"}`);
  const back = decodeJson(encodeJson({ a: 3n, b: big })) as { a: unknown; b: unknown };
  assert.is(u64.parse(back.a), 3n);
  assert.is(u64.parse(back.b), big);
  assert.equal(decodeJson(new Uint8Array()), {});
  assert.throws(() => decodeJson(new TextEncoder().encode('{nope')), (e: unknown) => e instanceof BusError && e.code === 'bad_json');
  assert.throws(() => decodeJson(new Uint8Array([0xff, 0xfe])), (e: unknown) => e instanceof BusError && e.code === 'bad_json');
});

t('docs/nats.md documents every subject', () => {
  const doc = readFileSync(new URL('../../docs/nats.md', import.meta.url), 'utf8');
  for (const n of Object.keys(Commands)) assert.ok(doc.includes(`bvs.<host>.cmd.${n}`), `docs/nats.md lacks ${n}`);
  for (const n of Object.keys(Events)) assert.ok(doc.includes(`bvs.<host>.evt.${n}`), `docs/nats.md lacks ${n}`);
});

t.run();
