/**
 * The bridge's meter table (src/ofproto/meters.ts): checks named by their OFPMMFC_* code,
 * datapath ids (lowest free, kept by modify, freed by delete), nothing half-applied when the
 * datapath write fails; the meter action's ovs-ofctl text and its translation to meter(dpId).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatActions as formatDp } from '../../src/datapath/odp/index.ts';
import {
  checkMeterRefs, formatActions, loadFlows, MeterError, MeterTable, offlineBridge, OFPM_ALL, packetFromText, parseActions,
  parseFlow, rulesUsing, xlate, type DatapathMeter, type MeterSpec,
} from '../../src/ofproto/index.ts';

const t = suite('ofproto-meters');

const drop = (rate: number, burstSize = 0) => ({ type: 1, rate, burstSize, precLevel: 0 });
const remark = (rate: number, precLevel: number, burstSize = 0) => ({ type: 2, rate, burstSize, precLevel });
const spec = (id: number, flags = 0x1, bands = [drop(1000)]): MeterSpec => ({ id, flags, bands });

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { assert.instance(e, MeterError); return (e as MeterError).code; }
  assert.unreachable('no MeterError');
  return '';
}

t('add, modify, delete: datapath ids and what the datapath is told', () => {
  const mt = new MeterTable(4, 2, () => 5000);
  const writes: [number, DatapathMeter][] = [];
  const write = (id: number, c: DatapathMeter) => { writes.push([id, c]); };
  assert.is(mt.add(spec(10), write).dpId, 0);
  assert.is(mt.add(spec(20, 0x2 | 0x4, [drop(100, 30), remark(50, 1, 20)]), write).dpId, 1);
  assert.equal(writes[0], [0, { pktps: false, bands: [{ type: 'drop', rate: 1000, burst: 1000, precLevel: 0 }] }], 'no burst flag: one second of rate');
  assert.equal(writes[1]![1], { pktps: true, bands: [{ type: 'drop', rate: 100, burst: 30, precLevel: 0 }, { type: 'dscp_remark', rate: 50, burst: 20, precLevel: 1 }] });
  const m = mt.modify(spec(10, 0x1, [drop(5)]), write);
  assert.is(m.dpId, 0, 'modify keeps the datapath id');
  assert.is(m.created, 5000);
  const cleared: number[] = [];
  assert.equal(mt.delete(10, (id) => cleared.push(id)).map((x) => x.id), [10]);
  assert.equal(mt.delete(99, (id) => cleared.push(id)), [], 'an unknown id deletes nothing');
  assert.is(mt.add(spec(30), write).dpId, 0, 'the freed id is reused');
  assert.equal(mt.all().map((x) => x.id), [20, 30]);
  assert.equal(mt.delete(OFPM_ALL, (id) => cleared.push(id)).map((x) => x.id), [20, 30]);
  assert.equal(cleared, [0, 1, 0]);
  assert.is(mt.size, 0);
});

t('bad meters are refused by OFPMMFC code, before the datapath is touched', () => {
  const mt = new MeterTable(2, 2);
  let writes = 0;
  const write = () => { writes++; };
  mt.add(spec(1), write);
  assert.is(code(() => mt.add(spec(1), write)), 'METER_EXISTS');
  assert.is(code(() => mt.modify(spec(2), write)), 'UNKNOWN_METER');
  assert.is(code(() => mt.add(spec(0), write)), 'INVALID_METER');
  assert.is(code(() => mt.add(spec(0xffff0001), write)), 'INVALID_METER');
  assert.is(code(() => mt.add(spec(0xfffffffd), write)), 'INVALID_METER', 'the slowpath meter');
  assert.is(code(() => mt.add(spec(2, 0x3), write)), 'BAD_FLAGS');
  assert.is(code(() => mt.add(spec(2, 0x11), write)), 'BAD_FLAGS');
  assert.is(code(() => mt.add(spec(2, 0x1, []), write)), 'BAD_BAND');
  assert.is(code(() => mt.add(spec(2, 0x1, [{ type: 0xffff, rate: 1, burstSize: 0, precLevel: 0 }]), write)), 'BAD_BAND');
  assert.is(code(() => mt.add(spec(2, 0x1, [drop(1), drop(2), drop(3)]), write)), 'OUT_OF_BANDS');
  assert.is(code(() => mt.add(spec(2, 0x1, [drop(0)]), write)), 'BAD_RATE');
  assert.is(code(() => mt.add(spec(2, 0x1 | 0x4, [drop(10, 0)]), write)), 'BAD_BURST');
  assert.is(writes, 1);
  mt.add(spec(2), write);
  assert.is(code(() => mt.add(spec(3), write)), 'OUT_OF_METERS');
  assert.is(writes, 2);
});

t('a datapath write that fails leaves the table as it was', () => {
  const mt = new MeterTable();
  mt.add(spec(1, 0x1, [drop(100)]), () => {});
  const fail = () => { throw new Error('map update failed'); };
  assert.throws(() => mt.modify(spec(1, 0x1, [drop(5)]), fail), /map update failed/);
  assert.equal(mt.get(1)!.bands, [drop(100)]);
  assert.throws(() => mt.add(spec(2), fail), /map update failed/);
  assert.is(mt.get(2), undefined);
  assert.is(mt.add(spec(2), () => {}).dpId, 1, 'the failed add took no datapath id');
});

t('meter:N parses first, prints back, and is refused elsewhere as ovs-ofctl refuses it', () => {
  assert.equal(parseActions('meter:1,output:2'), [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }]);
  assert.is(formatActions(parseActions('meter:4294967295,output:2')), 'meter:4294967295,output:2');
  assert.throws(() => parseActions('output:2,meter:1'), /meter must appear before apply_actions/);
  assert.throws(() => parseActions('meter:4294967296'), /meter/);
  assert.throws(() => parseActions('meter'), /meter needs an argument/);
});

t('xlate: meter:N becomes meter(dpId) in order; a missing meter is skipped with a note', () => {
  const b = offlineBridge('p1=1,p2=2');
  b.meters.add(spec(7), () => {});
  b.meters.add(spec(9), () => {});
  loadFlows(b, 'priority=10,ip,actions=meter:9,mod_nw_tos:32,output:2\npriority=5,actions=meter:3,output:2');
  const pkt = 'in_port=1,ip,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2';
  const r = xlate(b, packetFromText(b, pkt), { trace: true });
  assert.is(r.error, undefined);
  assert.is(formatDp(r.actions), 'meter(1),set(ipv4(tos=0x20)),2');
  const r2 = xlate(b, packetFromText(b, 'in_port=1,arp'), { trace: true });
  assert.is(formatDp(r2.actions), '2');
  assert.ok(r2.steps.some((s) => s.notes.some((n) => /meter:3: no such meter/.test(n))), 'a note names the meter');
});

t('flows that use a meter, and references to meters that do not exist', () => {
  const b = offlineBridge('p1=1,p2=2');
  b.meters.add(spec(7), () => {});
  loadFlows(b, 'priority=10,ip,actions=meter:7,output:2\npriority=5,actions=output:2\ntable=1,actions=meter:7');
  assert.equal(rulesUsing(b.pipeline, 7).map((r) => r.priority), [10, 32768]);
  assert.is(rulesUsing(b.pipeline, 8).length, 0);
  assert.is(rulesUsing(b.pipeline, OFPM_ALL).length, 2);
  checkMeterRefs(b.meters, parseFlow('actions=meter:7,output:1').actions);
  assert.is(code(() => checkMeterRefs(b.meters, parseFlow('actions=meter:8,output:1').actions)), 'INVALID_METER');
  assert.is(code(() => checkMeterRefs(b.meters, parseFlow('actions=meter:0').actions)), 'INVALID_METER');
});

t.run();
