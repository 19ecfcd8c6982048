/**
 * The datapath program on real veth pairs, without the Datapath class: a switch netns S holds the
 * port devices (ha, hb: veths to hosts A and B; hi: an internal port with the switch's own
 * address), bvs_ingress is attached with tcx links (tests/bpf/tcx-attach.mjs, run inside S) and
 * ports and flows are written with the ABI codecs (tests/bpf/harness.ts). Checks what
 * BPF_PROG_TEST_RUN cannot: rx VLAN metadata, bpf_redirect_peer, egress attachment of an internal
 * port, and checksums of CHECKSUM_PARTIAL skbs after set_ipv4.
 *
 * Exact counts: every host has static neighbours and no IPv6, so a host sends only what a test
 * makes it send; a test that counts waits for the receiver to have everything, then compares.
 * Namespaces (and with them every link) and pins are removed in `after`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ABI } from '../../src/datapath/abi.ts';
import { type DpAction, emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { parsePcap } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';
import { csum, ipv4, udp } from './frames.ts';
import { ProgHarness } from './harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const t = suite('bpf-veth');
const h = new ProgHarness();
const S = `${h.ns}s`, A = `${h.ns}a`, B = `${h.ns}b`;
const PA = 1, PB = 2, PI = 3;
const IP_A = '10.77.0.1', IP_B = '10.77.0.2', IP_S = '10.77.0.254';
const NAT_IP = '10.77.0.99';
/** An IPv4/UDP packet 10.78.0.1:7 -> 10.78.0.2:8 (checksums unchecked on these paths). */
const UDP_IN = Buffer.from('4500001c000100004011000' + '00a4e00010a4e0002' + '0007000800080000', 'hex');

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
const inNs = (ns: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
const ifindex = (ns: string, dev: string) => (JSON.parse(ip(ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ ifindex: number }>)[0]!.ifindex;
const mac = (ns: string, dev: string) => inNs(ns, 'cat', `/sys/class/net/${dev}/address`).trim();
const macBytes = (ns: string, dev: string) => Buffer.from(mac(ns, dev).replace(/:/g, ''), 'hex');
const ipBytes = (a: string) => Buffer.from(a.split('.').map(Number));
const ipNum = (a: string) => ipBytes(a).readUInt32BE(0);
/** A device's rx counters, read from sysfs inside its netns. */
const rxOf = (ns: string, dev: string) => ({
  packets: Number(inNs(ns, 'cat', `/sys/class/net/${dev}/statistics/rx_packets`)),
  bytes: Number(inNs(ns, 'cat', `/sys/class/net/${dev}/statistics/rx_bytes`)),
});

/** Sends raw frames out of A's a0 (AF_PACKET, tests/helpers/inject.mjs). */
function sendFromA(...frames: Buffer[]): void {
  inNs(A, process.execPath, path.join(here, '../helpers/inject.mjs'), 'a0', ...frames.map((f) => f.toString('hex')));
}

/** Flows of mask slot 0, which matches in_port only. */
const inPortKey = (inPort: number): FlowKey => ({ ...emptyKey(), inPort });
const flow = (inPort: number, actions: DpAction[]) => h.putFlow(0, inPortKey(inPort), actions);
const flowStats = (inPort: number) => h.flowStats(0, inPortKey(inPort))!;
const out = (port: number): DpAction => ({ type: 'output', port });

function ping(ns: string, dst: string, n: number): number {
  try {
    const txt = inNs(ns, 'ping', '-c', String(n), '-i', '0.2', '-W', '1', dst);
    return Number(/(\d+) received/.exec(txt)?.[1] ?? 0);
  } catch (err) {
    return Number(/(\d+) received/.exec(String((err as { stdout?: string }).stdout))?.[1] ?? 0);
  }
}

t.before(() => {
  try {
    h.start();
    for (const ns of [S, A, B]) {
      sh('ip', ['netns', 'add', ns]);
      inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
      ip(ns, 'link', 'set', 'lo', 'up');
    }
    ip(S, 'link', 'add', 'ha', 'type', 'veth', 'peer', 'name', 'a0', 'netns', A);
    ip(S, 'link', 'add', 'hb', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B);
    ip(S, 'link', 'add', 'hi', 'type', 'veth', 'peer', 'name', 'hip');
    ip(A, 'addr', 'add', `${IP_A}/24`, 'dev', 'a0');
    ip(B, 'addr', 'add', `${IP_B}/24`, 'dev', 'b0');
    ip(S, 'addr', 'add', `${IP_S}/24`, 'dev', 'hi');
    for (const d of ['ha', 'hb', 'hi', 'hip']) ip(S, 'link', 'set', d, 'up');
    ip(A, 'link', 'set', 'a0', 'up');
    ip(B, 'link', 'set', 'b0', 'up');
    // Static neighbours: no ARP on the wire, so counts are exact.
    const neigh = (ns: string, dev: string, addr: string, lladdr: string) =>
      ip(ns, 'neigh', 'replace', addr, 'lladdr', lladdr, 'dev', dev, 'nud', 'permanent');
    neigh(A, 'a0', IP_B, mac(B, 'b0'));
    neigh(A, 'a0', IP_S, mac(S, 'hi'));
    neigh(B, 'b0', IP_A, mac(A, 'a0'));
    neigh(S, 'hi', IP_A, mac(A, 'a0'));
    const prog = h.pinProgram();
    const attach = (dev: string, dir: string) => sh('nsenter', [`--net=/run/netns/${S}`, process.execPath,
      path.join(here, 'tcx-attach.mjs'), prog, dev, dir, `${h.root}/link_${dev}`]);
    attach('ha', 'ingress');
    attach('hb', 'ingress');
    attach('hi', 'egress');
    const ports: Array<[number, string, number]> = [[PA, 'ha', ABI.PORT_F_PEER], [PB, 'hb', ABI.PORT_F_PEER], [PI, 'hi', ABI.PORT_F_INTERNAL]];
    for (const [no, dev, flags] of ports) {
      const ifx = ifindex(S, dev);
      h.mapIfindex(ifx, no);
      h.setPort(no, { ifindex: ifx, flags, name: dev });
    }
    h.setMask(0, { ...emptyKey(), inPort: 0xffffffff });
  } catch (err) {
    destroy();
    throw err;
  }
});

function destroy(): void {
  for (const ns of [S, A, B]) {
    try { sh('ip', ['netns', 'del', ns]); } catch { /* not made */ }
  }
  h.destroy();
}
t.after(destroy);

t('a miss on veth goes up; the rx VLAN tag (skb metadata) is put back into the data', async () => {
  // A tagged frame sent from A (AF_PACKET): the receiving stack moves the tag into skb metadata
  // before TC ingress (skb_vlan_untag), so the program sees skb->vlan_present.
  const frame = Buffer.concat([Buffer.from('020000000002', 'hex'), macBytes(A, 'a0'), Buffer.from('8100000a0800', 'hex'), UDP_IN]);
  const rx0 = h.portStats(PA).rx_bytes;
  sendFromA(frame);
  const u = await h.upcall('the upcall of the tagged frame', (x) => Buffer.from(x.packet).equals(frame));
  assert.is(u.type, 'miss');
  assert.is(u.port, PA);
  assert.is(u.key.vlanTci, 0x1000 | 10);
  assert.is(u.key.ethType, 0x0800);
  assert.is(u.pktLen, frame.length);
  // The stack moved the tag into skb metadata before TC ingress: skb->len lacked those 4 bytes.
  assert.is(h.portStats(PA).rx_bytes - rx0, BigInt(u.pktLen - 4));
});

t('megaflows forward UDP frames of a known size; the flow counts every packet and byte', async () => {
  flow(PA, [out(PB)]);
  flow(PB, [out(PA)]);
  const N = 40, LEN = 1000;
  const [dst, src] = [macBytes(B, 'b0'), macBytes(A, 'a0')];
  const frames = Array.from({ length: N }, (_, i) => {
    const f = ipv4({ proto: 17, src: ipBytes(IP_A), dst: ipBytes(IP_B) }, udp(5000 + i, 9, Buffer.alloc(LEN - 42, i)));
    dst.copy(f, 0);
    src.copy(f, 6);
    return f;
  });
  assert.ok(frames.every((f) => f.length === LEN));
  const [st0, rx0] = [flowStats(PA), rxOf(B, 'b0')];
  sendFromA(...frames);
  const rx = await waitFor(`B received ${N} frames`, () => { const r = rxOf(B, 'b0'); return r.packets - rx0.packets >= N && r; });
  assert.is(rx.packets - rx0.packets, N, 'B received each frame once');
  assert.is(rx.bytes - rx0.bytes, N * LEN, 'B received the bytes');
  const st1 = flowStats(PA);
  assert.is(st1.packets - st0.packets, BigInt(N), 'flow packets');
  assert.is(st1.bytes - st0.bytes, BigInt(N * LEN), 'flow bytes');
});

t('internal port: entered at egress of its device, delivered to its stack with BPF_F_INGRESS', () => {
  flow(PI, [out(PA)]);
  flow(PA, [out(PI)]);
  const p0 = h.portStats(PI);
  assert.is(ping(S, IP_A, 2), 2);
  const p1 = h.portStats(PI);
  assert.is(p1.rx_packets - p0.rx_packets, 2n, 'the echo requests entered on the internal port');
  assert.is(p1.tx_packets - p0.tx_packets, 2n, 'the echo replies were delivered to it');
  assert.is(p1.rx_bytes - p0.rx_bytes, 2n * 98n, 'ICMP echo with 56 bytes of data: 98-byte frames');
});

/** Frames B receives on b0 (tcpdump): `count` of them matching filter, after send() ran. */
async function captureB(count: number, filter: string[], send: () => void | Promise<void>, name: string): Promise<Buffer[]> {
  const pcap = path.join(os.tmpdir(), `bvs-veth-${h.tag}-${name}.pcap`);
  const td = spawn('ip', ['netns', 'exec', B, 'tcpdump', '-i', 'b0', '-U', '-s', '200', '-c', String(count), '-w', pcap, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let listening = false;
  let exited = false;
  td.stderr.on('data', (c: Buffer) => { if (c.toString().includes('listening')) listening = true; });
  td.once('exit', () => { exited = true; });
  try {
    await waitFor('tcpdump listening in B', () => listening || exited);
    await send();
    await waitFor(`tcpdump capturing ${count} frames in B`, () => exited);
    return parsePcap(fs.readFileSync(pcap)).map((f) => Buffer.from(f));
  } finally {
    td.kill();
    fs.rmSync(pcap, { force: true });
  }
}

t('push_vlan: B receives the tag; pop_vlan: B receives the frame without it', async () => {
  const [dst, src] = [macBytes(B, 'b0'), macBytes(A, 'a0')];
  const plain = Buffer.concat([dst, src, Buffer.from('0800', 'hex'), UDP_IN]);
  const tagged = (tci: number) => Buffer.concat([dst, src, Buffer.from([0x81, 0, tci >> 8, tci & 0xff, 8, 0]), UDP_IN]);
  flow(PA, [{ type: 'push_vlan', tpid: 0x8100, tci: 0x600a }, out(PB)]);
  let got = await captureB(1, ['udp or vlan'], () => sendFromA(plain), 'push');
  assert.equal(got.map((f) => f.toString('hex')), [tagged(0x600a).toString('hex')]);
  flow(PA, [{ type: 'pop_vlan' }, out(PB)]);
  got = await captureB(1, ['udp or vlan'], () => sendFromA(tagged(20)), 'pop');
  assert.equal(got.map((f) => f.toString('hex')), [plain.toString('hex')]);
});

t('several outputs: a clone to each port, the last one redirected', async () => {
  const frame = Buffer.concat([Buffer.from('ffffffffffff', 'hex'), macBytes(A, 'a0'), Buffer.from('0800', 'hex'), UDP_IN]);
  flow(PA, [out(PI), out(PB)]);
  const tx0 = h.portStats(PI).tx_packets;
  const got = await captureB(1, ['udp'], () => sendFromA(frame), 'flood');
  assert.equal(got.map((f) => f.toString('hex')), [frame.toString('hex')]);
  assert.is(h.portStats(PI).tx_packets - tx0, 1n, 'the clone went to the internal port');
});

/**
 * One TCP stream of `bytes` bytes from A to `dst` (a server in B, tests/bpf/tcp-stream.mjs);
 * returns the number of bytes the server read before the stream's end.
 */
async function tcpStream(dst: string, bytes: number): Promise<number> {
  const stream = path.join(here, 'tcp-stream.mjs');
  const server = spawn('ip', ['netns', 'exec', B, process.execPath, stream, 'serve', '5201'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  server.stdout.on('data', (c: Buffer) => { said += c.toString(); });
  try {
    await waitFor('the TCP server listening in B', () => said.includes('listening') || server.exitCode !== null);
    await promisify(execFile)('ip', ['netns', 'exec', A, process.execPath, stream, 'send', dst, '5201', String(bytes)]);
    const m = await waitFor('the TCP server\'s count', () => /received (\d+)/.exec(said) ?? false);
    return Number(m[1]);
  } finally {
    server.kill();
  }
}

t('megaflows forward ping and TCP between netns (bpf_redirect_peer)', async () => {
  flow(PA, [out(PB)]);
  flow(PB, [out(PA)]);
  assert.is(ping(A, IP_B, 3), 3);
  const st0 = flowStats(PA);
  // TCP bytes on the wire are not a fixed number (segmentation, ACKs, retransmits); what is
  // exact is the stream itself, counted by the receiver up to the sender's FIN.
  const MB4 = 4 * 1024 * 1024;
  assert.is(await tcpStream(IP_B, MB4), MB4, 'B read the whole stream');
  const st1 = flowStats(PA);
  assert.ok(st1.bytes - st0.bytes > BigInt(MB4), `A's segments crossed the flow: ${st1.bytes - st0.bytes} bytes`);
  assert.is(st1.tcpFlags & 0x013, 0x013, 'SYN, ACK and FIN seen');
});

t('set_ipv4 NAT: TCP works and CHECKSUM_PARTIAL checksums are fixed with the pseudo header', async () => {
  ip(A, 'neigh', 'replace', NAT_IP, 'lladdr', mac(B, 'b0'), 'dev', 'a0', 'nud', 'permanent');
  flow(PA, [{ type: 'set_ipv4', dst: ipNum(IP_B) }, out(PB)]);
  flow(PB, [{ type: 'set_ipv4', src: ipNum(NAT_IP) }, out(PA)]);
  const MB2 = 2 * 1024 * 1024;
  let received = -1;
  const frames = await captureB(10, ['tcp and src', IP_A], async () => { received = await tcpStream(NAT_IP, MB2); }, 'nat');
  assert.is(received, MB2, 'TCP through the NAT carried the whole stream');
  assert.is(frames.length, 10);
  for (const f of frames) {
    assert.is(f.readUInt16BE(12), 0x0800);
    assert.is(f[23], 6);
    const ihl = (f[14]! & 0xf) * 4;
    const ipH = f.subarray(14, 14 + ihl);
    assert.is(ipH.subarray(16, 20).join('.'), IP_B, 'destination rewritten');
    assert.is(csum(ipH), 0, 'IPv4 header checksum');
    const l4len = f.readUInt16BE(16) - ihl;
    const pseudo = Buffer.concat([ipH.subarray(12, 20), Buffer.from([0, 6, l4len >> 8, l4len & 0xff])]);
    const field = f.readUInt16BE(14 + ihl + 16);
    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum (csum of it, complemented).
    const partialOk = field === (~csum(pseudo) & 0xffff);
    const full = f.length >= 14 + ihl + l4len && csum(f.subarray(14 + ihl, 14 + ihl + l4len), 0) === 0;
    assert.ok(partialOk || full, `TCP checksum field 0x${field.toString(16)} is neither a partial nor a full checksum`);
  }
});

t.run();
