/**
 * Meters in the real datapath (bpf/lib/meter.h): a drop band bounds what passes, on the execute
 * path and on the fast path, and the meter's counters (in, and per band) move with it; a
 * dscp_remark band raises the AF drop precedence of what exceeds it, with a valid checksum; an
 * empty meter lets everything pass; a bad config leaves the old meter.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Datapath, type DpAction } from '../../src/datapath/index.ts';
import { parseActions, parseFlow } from '../../src/datapath/odp/index.ts';
import { fixChecksums } from '../helpers/checksums.ts';
import { ipv4, udp } from '../helpers/frames.ts';
import { type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('datapath-kernel-meters');
const topo = new Topology();
const DP = `m${topo.tag}`;
let dp: Datapath;
let h1: Host, h2: Host;

t.before(() => {
  ({ dp, hosts: [h1, h2] } = topo.withDatapath(DP, 2));
});

t.after(() => topo.destroy());

const frame = (tos = 0) =>
  ipv4({ src: h1.macNum, dst: h2.macNum }, { src: h1.ipNum, dst: h2.ipNum, proto: 17, tos }, udp(1111, 2222, [1, 2, 3, 4]));
const meterThen2 = (id: number): DpAction[] => [{ type: 'meter', id }, { type: 'output', port: 2 }];

t('execute: a drop band of 1 packet/s with a burst of 5 passes 5 of 100, and counts the rest', () => {
  dp.setMeter(3, { pktps: true, bands: [{ type: 'drop', rate: 1, burst: 5 }] });
  const drops = dp.dropStats().meter ?? 0n;
  let passed = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < 100; i++) passed += dp.execute(frame(), meterThen2(3), 1).outputs;
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  // The bucket starts full (5) and refills 1 a second.
  assert.ok(passed >= 5 && passed <= 5 + Math.ceil(elapsedS), `passed ${passed} in ${elapsedS.toFixed(2)} s`);
  const st = dp.meterStats(3);
  assert.is(st.packets, 100n);
  assert.is(st.bytes, BigInt(100 * frame().length));
  assert.is(st.bands.length, 1);
  assert.is(st.bands[0]!.packets, BigInt(100 - passed));
  assert.is(st.bands[0]!.bytes, BigInt((100 - passed) * frame().length));
  assert.is(dp.dropStats().meter, drops + BigInt(100 - passed));
});

t('fast path: a kbit/s drop band limits a burst of injected frames; the meter sees every one', async () => {
  dp.flushFlows();
  // 8 kbit/s with a burst of 8 kbit = 1000 bytes: about 15 frames of 60 bytes.
  dp.setMeter(4, { pktps: false, bands: [{ type: 'drop', rate: 8, burst: 8 }] });
  const { key, mask } = parseFlow('in_port(1),eth_type(0x0800),ipv4(proto=17)');
  dp.putFlow(key, mask, parseActions('meter(4),2'), 'put');
  const N = 200;
  const cap = topo.capture(h2, ['udp']);
  await cap.ready();
  let got: Uint8Array[];
  try {
    topo.inject(h1, Array.from({ length: N }, () => frame()));
    await waitFor('the meter to see every frame', () => dp.meterStats(4).packets === BigInt(N));
    const passed = N - Number(dp.meterStats(4).bands[0]!.packets);
    await waitFor(`${passed} frames at h2`, () => cap.frames().length >= passed);
  } finally {
    got = await cap.stop();
  }
  const len = frame().length;
  const st = dp.meterStats(4);
  assert.is(got.length, N - Number(st.bands[0]!.packets), 'what arrived is what the band did not drop');
  // The burst is 8e3 bits; each frame costs len * 8. Refill during the injection adds a little.
  assert.ok(got.length >= Math.floor(8000 / (len * 8)) && got.length < 40, `arrived: ${got.length} of ${N}`);
  assert.is(st.bytes, BigInt(N * len));
});

t('dscp_remark: what exceeds the band leaves with a higher AF drop precedence and a valid checksum', async () => {
  dp.flushFlows();
  // AF11 (DSCP 10, TOS 0x28) + 1 level -> AF12 (DSCP 12, TOS 0x30).
  dp.setMeter(5, { pktps: true, bands: [{ type: 'dscp_remark', rate: 1, burst: 1, precLevel: 1 }] });
  const cap = topo.capture(h2, ['udp']);
  await cap.ready();
  let got: Uint8Array[];
  try {
    for (let i = 0; i < 3; i++) assert.is(dp.execute(frame(0x28), meterThen2(5), 1).outputs, 1, 'remarked, not dropped');
    await waitFor('3 frames at h2', () => cap.frames().length >= 3);
  } finally {
    got = await cap.stop();
  }
  assert.equal(got.map((f) => f[15]), [0x28, 0x30, 0x30]);
  for (const f of got) assert.is(Buffer.from(fixChecksums(Uint8Array.from(f))).toString('hex'), Buffer.from(f).toString('hex'));
  assert.equal(dp.meterStats(5).bands.map((b) => b.packets), [2n]);
});

t('the highest-rate exceeded band applies; a packet within every band passes', () => {
  // Remark at 1 packet/s (burst 2), drop at 2 packets/s (burst 4): packets 1-2 pass, 3-4 exceed
  // only the remark band, 5 on exceed both and the drop band (the higher rate) applies.
  dp.setMeter(6, {
    pktps: true,
    bands: [{ type: 'dscp_remark', rate: 1, burst: 2, precLevel: 1 }, { type: 'drop', rate: 2, burst: 4 }],
  });
  const out = Array.from({ length: 10 }, () => dp.execute(frame(0x28), meterThen2(6), 1).outputs);
  assert.equal(out.slice(0, 4), [1, 1, 1, 1]);
  assert.ok(out.slice(4).every((o) => o === 0), `outputs ${out.join(',')}`);
  assert.equal(dp.meterStats(6).bands.map((b) => b.packets), [2n, 6n]);
});

t('an empty or deleted meter lets every packet pass; a bad config leaves the old meter', () => {
  let passed = 0;
  for (let i = 0; i < 20; i++) passed += dp.execute(frame(), meterThen2(9), 1).outputs;
  assert.is(passed, 20, 'meter 9 was never set');
  dp.setMeter(9, { pktps: true, bands: [{ type: 'drop', rate: 1, burst: 1 }] });
  assert.throws(() => dp.setMeter(9, { pktps: true, bands: [{ type: 'drop', rate: 0, burst: 1 }] }), /rate 0 is not in 1\.\./);
  assert.throws(() => dp.setMeter(1024, { pktps: true, bands: [{ type: 'drop', rate: 1, burst: 1 }] }), /not in 0\.\.1023/);
  passed = 0;
  for (let i = 0; i < 5; i++) passed += dp.execute(frame(), meterThen2(9), 1).outputs;
  assert.is(passed, 1, 'the old meter (burst 1) still runs');
  dp.delMeter(9);
  passed = 0;
  for (let i = 0; i < 5; i++) passed += dp.execute(frame(), meterThen2(9), 1).outputs;
  assert.is(passed, 5);
  assert.equal(dp.meterStats(9), { packets: 0n, bytes: 0n, bands: [] });
});

t.run();
