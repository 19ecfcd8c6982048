/**
 * addon on a real veth: tcx attach/info/detach, ring buffer records delivered on the event
 * loop, AF_PACKET sends seen by the peer, and the netif helpers. The veth's host end stays in
 * this netns (tcx and packet sockets use this netns's ifindexes); its peer is in a fresh netns.
 *
 * A witness (the fixture's fx_next, first in the host end's tcx ingress chain for the whole
 * file) counts every packet that reaches the hook, so "nothing counted after detach" is asserted
 * only once the witness proves the packets got there.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir, throws, VethNs } from './env.ts';
import type { LoadResult, UpcallRing } from '../../src/datapath/addon.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('addon-net');
const net = new VethNs();
let pins: string;
let r: LoadResult | undefined;
let w: LoadResult | undefined;  // the witness program fx_next, same maps
let witnessLink: number | undefined;
const links: number[] = [];
const rings: UpcallRing[] = [];

const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;
const BPF_LINK_TYPE_TCX = 11;

interface Rec { ifindex: number; len: number; ts: bigint; data: Buffer }
const parse = (b: Buffer): Rec => ({
  ifindex: b.readUInt32LE(0), len: b.readUInt32LE(4), ts: b.readBigUInt64LE(8), data: b.subarray(16, 48),
});

/** Opens a ring on fx_ring, runs act(), and waits until `until` accepts the records. */
async function collect(maxBatch: number, what: string, until: (recs: Rec[]) => boolean, act: () => void) {
  const recs: Rec[] = [];
  const batches: number[] = [];
  const ring = A.ringOpen(r!.maps.fx_ring, maxBatch, (batch) => {
    batches.push(batch.length);
    for (const b of batch) recs.push(parse(b));
  });
  rings.push(ring);
  try {
    act();
    await waitFor(what, () => until(recs));
  } finally {
    ring.close();
  }
  return { recs, batches };
}

/** Sum over CPUs of fx_pcpu slot `slot` (0: fx_tc's count, 1: the witness's). */
const pcpuSlot = (slot: number): bigint => {
  const n = A.numPossibleCpus();
  const v = Buffer.alloc(8 * n);
  const key = Buffer.alloc(4);
  key.writeUInt32LE(slot);
  A.mapLookup(r!.maps.fx_pcpu, key, v);
  let s = 0n;
  for (let i = 0; i < n; i++) s += v.readBigUInt64LE(8 * i);
  return s;
};
const pcpuTotal = () => pcpuSlot(0);
const witnessed = () => pcpuSlot(1);

/** Pings n times from the peer and waits until the witness has seen n more packets at the
 *  host end's ingress: whatever else is attached there has run on them. */
async function pingWitnessed(n: number): Promise<void> {
  const seen = witnessed();
  await net.ping(n);
  await waitFor(`the witness counting ${n} pings`, () => witnessed() - seen >= BigInt(n));
}

t.before(() => {
  pins = makePinDir('net');
  net.create();
  r = A.load(fixtureObject('fixture'), { pinRoot: pins });
  w = A.load(fixtureObject('fixture'), { pinRoot: pins, program: 'fx_next' });
  witnessLink = A.tcxAttach(w.progFd, net.hostIndex, false);
});

t.after(() => {
  for (const ring of rings) ring.close();
  for (const fd of [...links, witnessLink ?? -1]) { try { A.close(fd); } catch { /* closed */ } }
  A.packetCloseAll();
  closeLoad(r);
  closeLoad(w);
  net.destroy();
  removePinDir(pins);
});

t('netif helpers', () => {
  assert.is(A.ifNameToIndex(net.host), net.hostIndex);
  assert.is(A.ifIndexToName(net.hostIndex), net.host);
  assert.is(A.ifNameToIndex(net.peer), 0, 'the peer is in another netns');
  assert.is(A.ifNameToIndex('a-name-longer-than-15'), 0);
  assert.is(A.ifIndexToName(0x7ffffff0), null);
  const a = A.monotonicNs();
  const b = A.monotonicNs();
  assert.ok(typeof a === 'bigint');
  assert.ok(b >= a);
});

t('tcx ingress: attach, linkInfo, pings reach the ring on the loop', async () => {
  const link = A.tcxAttach(r!.progFd, net.hostIndex, false);
  links.push(link);
  const li = A.linkInfo(link);
  assert.is(li.ifindex, net.hostIndex);
  assert.is(li.attachType, BPF_TCX_INGRESS);
  assert.is(li.type, BPF_LINK_TYPE_TCX);
  assert.ok(li.id > 0 && li.progId > 0);

  const before = pcpuTotal();
  const t0 = A.monotonicNs();
  const N = 20;
  const { recs, batches } = await collect(4, `${N} records of pings`, (rs) => rs.filter((x) => x.ifindex === net.hostIndex).length >= N,
    () => { void net.ping(N); });
  const mine = recs.filter((x) => x.ifindex === net.hostIndex);
  assert.ok(mine.length >= N, `got ${mine.length} records`);
  assert.ok(batches.every((n) => n >= 1 && n <= 4), `batches within maxBatch: ${batches}`);
  // ICMP echo requests: ethertype IPv4 at 12, proto ICMP at 23, dst MAC = the static neighbour.
  const icmp = mine.filter((x) => x.data.readUInt16BE(12) === 0x0800 && x.data[23] === 1);
  assert.ok(icmp.length >= N, `icmp records ${icmp.length}`);
  assert.is(icmp[0].data.subarray(0, 6).toString('hex'), net.targetMac.replaceAll(':', ''));
  assert.ok(icmp.every((x) => x.len === 98), 'ping frame length');
  assert.ok(mine.every((x) => x.ts >= t0 && x.ts <= A.monotonicNs()), 'bpf_ktime_get_ns and monotonicNs share a clock');
  assert.ok(pcpuTotal() - before >= BigInt(N), 'per-CPU counter moved');

  A.linkDetach(link);
  assert.is(A.linkInfo(link).ifindex, 0, 'detached link has no device');
  const after = pcpuTotal();
  await pingWitnessed(3);
  assert.is(pcpuTotal(), after, 'no packets counted after detach');
  A.close(links.pop()!);
});

t('packetSend: frames leave the host end and arrive at the peer; tcx egress sees them', async () => {
  const link = A.tcxAttach(r!.progFd, net.hostIndex, true);
  links.push(link);
  assert.is(A.linkInfo(link).attachType, BPF_TCX_EGRESS);
  const frame = Buffer.alloc(60);
  Buffer.from('ffffffffffff', 'hex').copy(frame, 0);
  Buffer.from('020000aabbcc', 'hex').copy(frame, 6);
  frame.writeUInt16BE(0x88b5, 12);  // IEEE local experimental ethertype
  frame.write('bvs-addon-test', 14);
  const rx0 = net.peerRxPackets();
  const N = 10;
  const { recs } = await collect(64, `${N} records of sent frames`, (rs) => rs.length >= N, () => {
    for (let i = 0; i < N; i++) { frame[30] = i; A.packetSend(net.hostIndex, frame); }
  });
  const mine = recs.filter((x) => x.data.readUInt16BE(12) === 0x88b5);
  assert.is(mine.length, N);
  assert.equal(mine.map((x) => x.data[30]), [...Array(N).keys()]);
  assert.ok(mine.every((x) => x.len === 60 && x.ifindex === net.hostIndex));
  const rx = await waitFor(`the peer receiving ${N} frames`, () => { const n = net.peerRxPackets() - rx0; return n >= N && n; });
  assert.is(rx, N, 'peer rx_packets');
  A.linkDetach(link);
  A.close(links.pop()!);
});

t('a pinned tcx link outlives its fd; objGet + linkDetach removes it', async () => {
  const fd = A.tcxAttach(r!.progFd, net.hostIndex, false);
  const pin = `${pins}/link_ingress`;
  A.objPin(fd, pin);
  const id = A.linkInfo(fd).id;
  A.close(fd);
  const c0 = pcpuTotal();
  await net.ping(3);
  await waitFor('3 pings counted: still attached through the pin', () => pcpuTotal() - c0 >= 3n);
  const again = A.objGet(pin);
  links.push(again);
  assert.is(A.linkInfo(again).id, id);
  assert.is(A.linkInfo(again).ifindex, net.hostIndex);
  A.linkDetach(again);
  const c1 = pcpuTotal();
  await pingWitnessed(3);
  assert.is(pcpuTotal(), c1, 'detached although the pin remains');
  A.close(links.pop()!);
});

t('tcx and packet errors', () => {
  let err = throws(() => A.tcxAttach(r!.progFd, 0x7ffffff0, false));
  assert.equal([err.code, err.op], ['ENODEV', 'bpf_link_create']);
  err = throws(() => A.tcxAttach(r!.maps.fx_hash, net.hostIndex, false));
  assert.is(err.op, 'bpf_link_create');
  err = throws(() => A.tcxAttach(r!.progFd, net.hostIndex, 1 as unknown as boolean));
  assert.instance(err, TypeError);
  err = throws(() => A.linkInfo(987654));
  assert.is(err.op, 'bpf_obj_get_info_by_fd');
  err = throws(() => A.linkDetach(r!.maps.fx_hash));
  assert.is(err.op, 'bpf_link_detach');
  const socks = A._internals().packetSockets;
  err = throws(() => A.packetSend(0x7ffffff0, Buffer.alloc(60)));
  assert.equal([err.code, err.op], ['ENXIO', 'sendto']);
  assert.is(A._internals().packetSockets, socks, 'the socket of a missing interface is not kept');
  err = throws(() => A.packetSend(net.hostIndex, Buffer.alloc(13)));
  assert.instance(err, RangeError);
  err = throws(() => A.packetSend(net.hostIndex, Buffer.alloc(70000)));
  assert.instance(err, RangeError);
  err = throws(() => A.ringOpen(r!.maps.fx_hash, 8, () => {}));
  assert.equal([err.code, err.op], ['EINVAL', 'ring_buffer__new']);
  err = throws(() => A.ringOpen(r!.maps.fx_ring, 0, () => {}));
  assert.instance(err, RangeError);
  err = throws(() => A.ringOpen(r!.maps.fx_ring, 8, null as never));
  assert.instance(err, TypeError);
});

t('ring close is idempotent, also from inside its callback', async () => {
  let calls = 0;
  const ring: UpcallRing = A.ringOpen(r!.maps.fx_ring, 1, () => {
    calls++;
    ring.close();
    ring.close();
  });
  rings.push(ring);
  const link = A.tcxAttach(r!.progFd, net.hostIndex, true);
  links.push(link);
  const f = Buffer.alloc(60);
  for (let i = 0; i < 5; i++) A.packetSend(net.hostIndex, f);
  A.linkDetach(link);
  A.close(links.pop()!);
  await waitFor('the first record delivered', () => calls >= 1);
  // A marker record written now reaches a second ring on the same map: had the first ring
  // still been polling, it would have been called by then (or taken the marker itself).
  const marker = Buffer.alloc(64);
  marker.writeUInt16BE(0x88b6, 12);
  marker.write('ring-close-marker', 14);
  const seen: Rec[] = [];
  const ring2 = A.ringOpen(r!.maps.fx_ring, 64, (batch) => { for (const b of batch) seen.push(parse(b)); });
  rings.push(ring2);
  A.progTestRun(r!.progFd, marker);
  await waitFor('the marker on a second ring', () => seen.some((x) => x.data.equals(marker.subarray(0, 32))));
  ring2.close();
  assert.is(calls, 1);
});

t('no native state left open: rings closed, packet sockets closed on packetCloseAll', () => {
  for (const ring of rings) ring.close();
  assert.is(A._internals().openRings, 0);
  assert.ok(A._internals().packetSockets >= 1, 'packetSend cached a socket');
  A.packetCloseAll();
  assert.is(A._internals().packetSockets, 0);
  // The cached socket was dropped: sending again opens a new one and works.
  A.packetSend(net.hostIndex, Buffer.alloc(60));
  assert.is(A._internals().packetSockets, 1);
});

t.run();
