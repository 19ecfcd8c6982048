// Flow stats, aggregate, flow-removed, packet-out and packet-in bodies against the real
// ovs-ofctl: what it sends (dump-flows, dump-aggregate, del-flows, mod-flows, packet-out)
// decodes to what parse.ts reads from the same text, and what we encode ofp-print decodes to
// the flow text ovs-ofctl's own parser prints, with our counters.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OFPP, parseFlow } from '../../src/ofproto/index.ts';
import { Match } from '../../src/ofproto/match.ts';
import { W } from '../../src/ofproto/flow.ts';
import { decodeFlowMod, decodeNxFlowMod, OFP_NO_BUFFER } from '../../src/openflow/flow-msgs.ts';
import {
  decodeFlowStatsRequest, decodeNxFlowStatsRequest, encodeAggregateReply, encodeFlowStatsReply, encodeNxFlowStatsReply,
  decodeFlowStatsReply, type FlowStats,
} from '../../src/openflow/flow-stats.ts';
import {
  decodePacketOut, encodeFlowRemoved, encodeNxFlowRemoved, encodePacketIn, encodePacketIn2, encodePacketOut,
} from '../../src/openflow/packet-msgs.ts';
import type { OfpVersion } from '../../src/openflow/version.ts';
import { eth, ipv4, tcp } from '../helpers/frames.ts';
import { captureOfctl } from './ofctl-capture.ts';
import { frame, meaning, nxFrame, ofctlParseFlow, ofpPrint, statsFrame } from './oracle.ts';

const t = suite('openflow-flow-messages');
const VERSIONS = [1, 4, 5, 6] as const;

/** The stats request ovs-ofctl sends for `args`, decoded (NXST body after 24 bytes, else after the stats header). */
async function statsRequest(v: OfpVersion, args: string[]): Promise<ReturnType<typeof decodeFlowStatsRequest>> {
  const msgs = await captureOfctl(v, args);
  const m = msgs.find((x) => x.type === (v === 1 ? 16 : 18))!;
  const dv = new DataView(m.bytes.buffer, m.bytes.byteOffset);
  if (v === 1 && dv.getUint16(8) === 0xffff) return decodeNxFlowStatsRequest(v, m.bytes.subarray(24));
  return decodeFlowStatsRequest(v, m.bytes.subarray(v === 1 ? 12 : 16));
}

for (const v of [1, 4, 6] as const) {
  t(`OpenFlow 0x0${v}: dump-flows and dump-aggregate requests decode to the match and filters of their text`, async () => {
    for (const [cmd, text] of [['dump-flows', 'tcp,nw_src=10.0.0.0/8,out_port=3'], ['dump-aggregate', 'reg0=1,table=2'], ['dump-flows', 'in_port=1']]) {
      const q = await statsRequest(v, [cmd!, 'SOCK', text!]);
      const want = parseFlow(text!, 'del');
      assert.is(meaning(q.match), meaning(want.match), `${cmd} ${text}`);
      assert.is(q.outPort, want.outPort ?? OFPP.NONE);
      assert.is(q.table, want.table ?? 0xff);
    }
  });

  t(`OpenFlow 0x0${v}: del-flows, --strict del-flows and mod-flows decode to their command and match`, async () => {
    for (const [args, command] of [[['del-flows', 'SOCK', 'tcp,tp_dst=80'], 'delete'], [['--strict', 'del-flows', 'SOCK', 'priority=7,udp'], 'delete_strict'],
      [['mod-flows', 'SOCK', 'ip,actions=output:3'], 'modify']] as const) {
      const msgs = await captureOfctl(v, [...args]);
      const m = msgs.find((x) => x.type === 14 || (x.type === 4 && new DataView(x.bytes.buffer, x.bytes.byteOffset).getUint32(12) === 13))!;
      const got = m.type === 14 ? decodeFlowMod(v, m.bytes.subarray(8)) : decodeNxFlowMod(v, m.bytes.subarray(16));
      const text = args[args.length - 1]!;
      const want = parseFlow(text, command === 'modify' ? 'add' : 'del');
      assert.is(got.command, command, text);
      assert.is(meaning(got.match), meaning(want.match), text);
      if (command === 'delete_strict') assert.is(got.priority, 7);
      if (command === 'modify') assert.is(meaning(got.actions), meaning(want.actions));
      if (v !== 1 && command !== 'modify') assert.is(got.table, 0xff, 'a 1.1+ delete without table= looks at every table');
    }
  });

  t(`OpenFlow 0x0${v}: a packet-out from ovs-ofctl decodes to its port, actions and packet`, async () => {
    const pkt = 'ffffffffffff00000000000108004500001400000000400600000a0000010a000002';
    const msgs = await captureOfctl(v, ['packet-out', 'SOCK', `in_port=1,packet=${pkt},actions=output:2,dec_ttl`]);
    const m = msgs.find((x) => x.type === 13)!;
    const po = decodePacketOut(v, m.bytes.subarray(8));
    assert.is(po.inPort, 1);
    assert.is(po.bufferId, OFP_NO_BUFFER);
    assert.is(Buffer.from(po.data).toString('hex'), pkt);
    assert.is(meaning(po.actions), meaning(parseFlow('actions=output:2,dec_ttl').actions));
  });
}

/** The flow as ovs-ofctl's parser prints it: "MATCH actions=ACTIONS" (after ADD). */
function printedFlow(v: OfpVersion, text: string): { match: string; actions: string } {
  const line = ofctlParseFlow(v, text).line.replace(/^ADD /, '');
  const i = line.lastIndexOf(' actions=');
  return { match: line.slice(0, i), actions: line.slice(i + 1) };
}

const STATS_FLOWS = ['tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2', 'priority=9,arp,arp_op=2,actions=NORMAL', 'reg2=0x7,actions=resubmit(,4)'];

function stats(text: string): FlowStats {
  const f = parseFlow(text);
  return {
    table: 2, durationSec: 9, durationNsec: 500000000, priority: f.priority, idleTimeout: 0, hardTimeout: 0, flags: 0, importance: 0,
    cookie: 7n, packetCount: 11n, byteCount: 1234n, idleAge: 0, hardAge: 0, match: f.match, actions: f.actions,
  };
}

for (const v of VERSIONS) {
  t(`OpenFlow 0x0${v}: ofp-print reads our flow stats reply as the flows, with our counters`, () => {
    const entries = STATS_FLOWS.map(stats);
    let msg: Uint8Array;
    try {
      msg = statsFrame(v, true, 1, encodeFlowStatsReply(v, entries));
    } catch {
      assert.is(v, 1, 'only OpenFlow 1.0 lacks the fields (reg2): NXST_FLOW then');
      msg = statsFrame(v, true, 0xffff, encodeNxFlowStatsReply(v, entries), 0);
    }
    const out = ofpPrint(msg);
    const lines = out.split('\n').slice(1).map((l) => l.trim());
    assert.is(lines.length, STATS_FLOWS.length, out);
    STATS_FLOWS.forEach((text, i) => {
      const p = printedFlow(v, text);
      assert.ok(lines[i]!.startsWith('cookie=0x7, duration=9.500s, table=2, n_packets=11, n_bytes=1234, '), lines[i]);
      assert.ok(lines[i]!.endsWith(`, ${p.match} ${p.actions}`), `${text}: ${lines[i]}`);
    });
    if (v !== 1) assert.is(meaning(decodeFlowStatsReply(v, encodeFlowStatsReply(v, entries))), meaning(entries));
  });

  t(`OpenFlow 0x0${v}: ofp-print reads our aggregate reply and flow-removed`, () => {
    const agg = ofpPrint(statsFrame(v, true, 2, encodeAggregateReply(v, { packetCount: 21n, byteCount: 2100n, flowCount: 3 })));
    assert.ok(agg.includes('packet_count=21') && agg.includes('byte_count=2100') && agg.includes('flow_count=3'), agg);
    const text = 'tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=drop';
    const f = parseFlow(text);
    const rm = { cookie: 5n, priority: 100, reason: 2, table: 0, durationSec: 4, durationNsec: 0, idleTimeout: 10, hardTimeout: 0, packetCount: 6n, byteCount: 600n, match: f.match };
    const out = ofpPrint(frame(v, 11, encodeFlowRemoved(v, rm)));
    const flowText = printedFlow(v, `priority=100,${text}`).match;
    for (const printed of [out, ...(v === 1 ? [ofpPrint(nxFrame(v, 14, encodeNxFlowRemoved(v, rm)))] : [])]) {
      assert.ok(printed.includes(`): ${flowText} reason=delete`), printed);
      for (const word of ['cookie:0x5', 'duration4s', 'idle10', 'pkts6', 'bytes600']) assert.ok(printed.includes(word), `${word} in ${printed}`);
    }
  });

  t(`OpenFlow 0x0${v}: ofp-print reads our packet-in and packet-out`, () => {
    const pkt = ipv4({ src: 0x020000000001, dst: 0x020000000002 }, { src: 0x0a000001, dst: 0x0a000002, proto: 6 }, tcp(1234, 80, 2));
    const m = new Match();
    m.mask[W.IN_PORT] = 0xffffffff;
    m.value[W.IN_PORT] = 3;
    const pin = { bufferId: OFP_NO_BUFFER, totalLen: pkt.length, reason: 1, table: 0, cookie: 0x77n, match: m, data: pkt };
    const out = ofpPrint(frame(v, 10, encodePacketIn(v, pin)));
    assert.ok(out.includes('in_port=3') && out.includes(`total_len=${pkt.length}`) && out.includes('tp_dst=80'), out);
    const in2 = ofpPrint(nxFrame(v, 30, encodePacketIn2(v, { ...pin, userdata: Uint8Array.of(1, 2) })));
    assert.ok(in2.includes('in_port=3') && in2.includes('cookie=0x77') && in2.includes('userdata=01.02') && in2.includes('tp_dst=80'), in2);
    const po = ofpPrint(frame(v, 13, encodePacketOut(v, { bufferId: OFP_NO_BUFFER, inPort: 1, actions: parseFlow('actions=output:2').actions, data: eth({ src: 1, dst: 2 }, 0x88cc, [1, 2]) })));
    assert.ok(po.includes('in_port=1') && po.includes('actions=output:2'), po);
  });
}

t.run();
