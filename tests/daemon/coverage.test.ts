// Coverage counters and rates (src/bridge/coverage.ts) and their coverage/show text
// (src/cli/appctl.ts formatCoverage): pure logic, samples driven by hand.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Coverage, EVENTS } from '../../src/bridge/index.ts';
import { formatCoverage } from '../../src/cli/appctl.ts';

const t = suite('daemon-coverage');

const EV = new Map([['a_event', 'counts a'], ['b_event', 'counts b']]);

t('totals grow; an unknown name is a programming error', () => {
  const c = new Coverage(EV);
  c.inc('a_event');
  c.inc('a_event', 4);
  assert.is(c.total('a_event'), 5);
  assert.is(c.total('b_event'), 0);
  assert.throws(() => c.inc('nope'), /no event named nope/);
});

t('rates: the last interval, the last 12 intervals over 60 s, the last 60 minutes over 3600 s', () => {
  const c = new Coverage(EV);
  c.inc('a_event', 10);
  c.sample();
  let a = c.lines()[0]!;
  assert.is(a.rate5s, 2);
  assert.is(a.rateMinute, 10 / 60);
  assert.is(a.rateHour, 10 / 3600);
  c.sample(); // an interval with no events
  a = c.lines()[0]!;
  assert.is(a.rate5s, 0);
  assert.is(a.rateMinute, 10 / 60, 'still inside the minute');
  // Eleven more intervals: the first one has left the minute, but not the hour.
  for (let i = 0; i < 11; i++) c.sample();
  a = c.lines()[0]!;
  assert.is(a.rateMinute, 0);
  assert.is(a.rateHour, 10 / 3600);
  // An hour later (60 minutes of 12 intervals) it has left the hour too.
  for (let i = 0; i < 60 * 12; i++) c.sample();
  assert.is(c.lines()[0]!.rateHour, 0);
  assert.is(c.lines()[0]!.total, 10, 'the total stays');
});

t('coverage/show prints the events hit in OVS layout, then the count never hit', () => {
  const events = [...EVENTS.keys()].map((name) => ({
    name, what: EVENTS.get(name)!, total: name === 'upcall_flow_limit_hit' ? 12n : 0n,
    rate_interval: name === 'upcall_flow_limit_hit' ? 2.4 : 0, rate_minute: name === 'upcall_flow_limit_hit' ? 0.2 : 0,
    rate_hour: name === 'upcall_flow_limit_hit' ? 12 / 3600 : 0,
  }));
  const out = formatCoverage({ interval_s: 5, events }).split('\n');
  assert.match(out[0]!, /^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:$/);
  assert.is(out[1], 'upcall_flow_limit_hit      2.4/sec     0.200/sec        0.0033/sec   total: 12');
  assert.is(out[2], `${EVENTS.size - 1} events never hit`);
  assert.is(out.length, 4, 'three lines and the final newline');
});

t.run();
