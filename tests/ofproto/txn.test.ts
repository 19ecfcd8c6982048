// undoable() (src/ofproto/txn.ts): a failure puts the very rules back as they were and tells
// no observer; a success tells the observers every change, in order.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlow, Pipeline, undoable, type TableChange } from '../../src/ofproto/index.ts';

const t = suite('ofproto-txn');

const snapshot = (p: Pipeline): string[] => p.allRules().map((r) => `${r.table}/${r.priority}/${r.cookie} ${JSON.stringify(r.actions)}`);

function setup(): { p: Pipeline; heard: TableChange['kind'][] } {
  const p = new Pipeline(() => 0);
  for (const f of ['priority=10,ip,actions=drop', 'cookie=0x7,priority=20,tcp,actions=output:1', 'priority=5,arp,actions=NORMAL']) p.add(parseFlow(f));
  const heard: TableChange['kind'][] = [];
  p.observers.add((c) => heard.push(c.kind));
  return { p, heard };
}

t('a failure undoes adds, replacements, modifies (also across the conjunctive classifier) and deletes', () => {
  const { p, heard } = setup();
  const rules = p.allRules();
  const learned = p.add(parseFlow('priority=1,udp,actions=drop'));
  p.addLearned(rules[2]!, learned);
  const before = snapshot(p);
  heard.length = 0;
  const gen = p.generation;
  assert.throws(() => undoable(p, () => {
    p.add(parseFlow('priority=30,icmp,actions=drop'));
    p.add(parseFlow('priority=10,ip,actions=output:3'));          // replaces
    p.modify(parseFlow('tcp,actions=conjunction(1,1/2)'), false); // moves to the conjunctive side
    p.modify(parseFlow('cookie=0x9,arp,actions=drop'), false);
    p.delete(parseFlow('priority=5,arp', 'del'), true);                  // takes its learned flow along
    throw new Error('boom');
  }), 'boom');
  assert.equal(snapshot(p), before);
  assert.ok(rules.every((r) => p.allRules().includes(r)), 'the same Rule objects');
  assert.ok(p.lookup(0, parseFlow('tcp,actions=drop').match.value) === rules.find((r) => r.priority === 20), 'tcp looks up its rule again');
  assert.equal(heard, [], 'no observer heard of it');
  assert.ok(p.generation > gen);
  // The learned link came back: deleting the owner still takes the learned flow.
  p.delete(parseFlow('priority=5,arp', 'del'), true);
  assert.not.ok(p.allRules().some((r) => r.priority === 1));
});

t('a success tells the observers every change in order; nesting composes', () => {
  const { p, heard } = setup();
  const value = undoable(p, () => {
    p.add(parseFlow('priority=30,icmp,actions=drop'));
    undoable(p, () => p.modify(parseFlow('ip,actions=drop'), false));
    p.delete(parseFlow('arp', 'del'), false);
    return 42;
  });
  assert.is(value, 42);
  assert.equal(heard, ['added', 'modified', 'modified', 'modified', 'removed'], 'icmp, ip and tcp are ip');
});

t.run();
