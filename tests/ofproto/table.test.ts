import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Pipeline, parseFlow, TableError } from '../../src/ofproto/index.ts';

const t = suite('ofproto-table');

function pipeline(now: { t: number }, flows: string[]): Pipeline {
  const p = new Pipeline(() => now.t);
  for (const f of flows) p.add(parseFlow(f));
  return p;
}

t('idle and hard timeouts expire rules, reporting reason and send_flow_rem', () => {
  const now = { t: 0 };
  const p = pipeline(now, [
    'priority=1,idle_timeout=10,send_flow_rem,tcp,actions=output:1',
    'priority=2,hard_timeout=20,udp,actions=output:2',
    'priority=3,idle_timeout=5,hard_timeout=30,arp,actions=output:3',
    'priority=0,actions=NORMAL',
  ]);
  const [tcp, , arp] = p.allRules().sort((a, b) => a.priority - b.priority).slice(1);
  now.t = 4_000;
  p.credit(arp!, 3, 180);                                    // used at 4 s: idle timer restarts
  now.t = 8_999;
  assert.equal(p.expire(), []);
  now.t = 9_000;
  assert.equal(p.expire().map((r) => [r.rule.priority, r.reason]), [[3, 'idle_timeout']], 'idle 5 s after the credit at 4 s');
  assert.is(arp!.packets, 3);
  assert.is(arp!.bytes, 180);
  now.t = 10_000;
  const first = p.expire();
  assert.equal(first.map((r) => [r.rule.priority, r.reason, r.rule.sendFlowRem]), [[1, 'idle_timeout', true]]);
  assert.is(first[0]!.rule, tcp);
  now.t = 19_999;
  assert.equal(p.expire(), []);
  now.t = 20_000;
  assert.equal(p.expire().map((r) => [r.rule.priority, r.reason]), [[2, 'hard_timeout']]);
  assert.is(p.allRules().length, 1);
});

t('credit with no packets does not refresh the idle timer', () => {
  const now = { t: 0 };
  const p = pipeline(now, ['idle_timeout=1,actions=drop']);
  const r = p.allRules()[0]!;
  now.t = 900;
  p.credit(r, 0, 0);
  now.t = 1000;
  assert.is(p.expire().length, 1);
});

t('add replaces an identical match and priority; different priority coexists', () => {
  const p = pipeline({ t: 0 }, ['priority=5,ip,actions=output:1', 'priority=5,ip,actions=output:2', 'priority=6,ip,actions=output:3']);
  assert.equal(p.dumpFlows(undefined, 0).map((l) => l.replace(/^.*priority=/, 'priority=')), [
    'priority=6,ip actions=output:3', 'priority=5,ip actions=output:2',
  ]);
});

t('delete: non-strict selects subsets, strict needs match and priority; cookie masks and out_port filter', () => {
  const mk = (): Pipeline => pipeline({ t: 0 }, [
    'cookie=0x11,priority=5,tcp,tp_dst=80,actions=output:1',
    'cookie=0x12,priority=6,tcp,actions=output:2',
    'cookie=0x21,priority=7,ip,actions=output:1',
    'table=1,cookie=0x11,priority=5,tcp,actions=output:1',
  ]);
  let p = mk();
  assert.is(p.delete(parseFlow('tcp', 'del')).length, 3, 'tcp selects both tcp rules in every table');
  p = mk();
  assert.is(p.delete(parseFlow('table=0,tcp', 'del')).length, 2);
  p = mk();
  assert.is(p.delete(parseFlow('table=0,priority=6,tcp', 'del'), true).length, 1, 'strict');
  assert.is(p.delete(parseFlow('table=0,priority=9,tcp', 'del'), true).length, 0);
  p = mk();
  const gone = p.delete(parseFlow('cookie=0x10/0xf0', 'del')).map((r) => r.rule.cookie).sort();
  assert.equal(gone, [0x11n, 0x11n, 0x12n]);
  assert.is(p.allRules().length, 1);
  p = mk();
  assert.is(p.delete(parseFlow('out_port=1', 'del')).length, 3);
  assert.is(p.allRules()[0]!.cookie, 0x12n);
});

t('modify changes actions of the selected rules and bumps the generation', () => {
  const p = pipeline({ t: 0 }, ['priority=5,tcp,actions=output:1', 'priority=5,udp,actions=output:1']);
  const g = p.generation;
  assert.is(p.modify(parseFlow('tcp,actions=output:9')).length, 1);
  assert.ok(p.generation > g);
  assert.match(p.dumpFlows().join('\n'), 'priority=5,tcp actions=output:9');
});

t('goto_table must go forward', () => {
  assert.throws(() => pipeline({ t: 0 }, ['table=3,actions=goto_table:2']), (e: Error) => e instanceof TableError && /goto_table:2/.test(e.message));
});

t.run();
