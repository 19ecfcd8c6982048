/** `bvs ofctl` (NATS) refuses flows naming a meter the bridge lacks, as OpenFlow does. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BridgeRuntime, RuntimeError, type FlowModCommand } from '../../src/vswitch/index.ts';
import { FakeDatapath } from './fake-datapath.ts';

const t = suite('vswitch-meter-refs');

t('add and modify naming a missing meter fail on the field; nothing is added', () => {
  const rt = new BridgeRuntime({ datapath: new FakeDatapath() });
  const cases: [FlowModCommand, string][] = [
    [{ op: 'add', flows: ['priority=1,actions=drop', 'priority=2,actions=meter:3,output:1'] }, 'flows.1'],
    [{ op: 'modify', flow: 'priority=1,actions=meter:4,output:1' }, 'flow'],
  ];
  for (const [c, field] of cases) {
    try {
      rt.flowMod(c);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, RuntimeError);
      assert.is((e as RuntimeError).field, field);
      assert.match((e as Error).message, /no such meter/);
    }
  }
  assert.is(rt.ofproto.pipeline.allRules().length, 0);
});

t.run();
