/**
 * The datapath program on real veth pairs, without the addon: a switch netns S holds the port
 * devices (ha, hb: veths to hosts A and B; hi: an internal port with the switch's own address),
 * bvs_ingress is attached with tcx links (tests/bpf/bvs_load.c) and flows are written with
 * bpftool. Checks what BPF_PROG_TEST_RUN cannot: rx VLAN metadata, bpf_redirect_peer, egress
 * attachment of an internal port, and checksums of CHECKSUM_PARTIAL skbs after set_ipv4.
 * Namespaces (and with them every link) and pins are removed in `after`.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ACT, csum, encodeFlow, K, ProgHarness, SET, type Action } from './harness.ts';

const t = suite('bpf-veth');
const h = new ProgHarness();
const S = `${h.ns}s`, A = `${h.ns}a`, B = `${h.ns}b`;
const PA = 1, PB = 2, PI = 3;
const NAT_IP = '10.77.0.99';
/** An IPv4/UDP packet 10.78.0.1:7 -> 10.78.0.2:8 (checksums unchecked on these paths). */
const UDP_IN = Buffer.from('4500001c000100004011000' + '00a4e00010a4e0002' + '0007000800080000', 'hex');

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
const inNs = (ns: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
const ifindex = (ns: string, dev: string) => (JSON.parse(ip(ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ ifindex: number }>)[0].ifindex;
const mac = (ns: string, dev: string) => inNs(ns, 'cat', `/sys/class/net/${dev}/address`).trim();

/** Sends a raw frame out of A's a0 (AF_PACKET). */
function sendFromA(frame: Buffer): void {
  inNs(A, 'python3', '-c', `import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("a0", 0)); s.send(bytes.fromhex("${frame.toString('hex')}"))`);
}

function portVal(ifx: number, flags: number, name: string): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(ifx, 0);
  b.writeUInt32LE(flags, 4);
  b.write(name, 8);
  return b;
}

/** Flows of mask slot 0 (in_port only). */
function flow(inPort: number, actions: Action[]): void {
  const id = Buffer.alloc(96);
  id.writeUInt32LE(inPort, 8 + K.inPort);
  h.update('flows', id, encodeFlow(actions));
}
const out = (p: number): Action => ({ type: ACT.OUTPUT, port: p });
const setIp = (flags: number, src: string, dst: string): Action => ({
  type: ACT.SET_IPV4, flags, u: Buffer.concat([Buffer.from(src.split('.').map(Number)), Buffer.from(dst.split('.').map(Number)), Buffer.alloc(8)]),
});

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
    ip(A, 'addr', 'add', '10.77.0.1/24', 'dev', 'a0');
    ip(B, 'addr', 'add', '10.77.0.2/24', 'dev', 'b0');
    ip(S, 'addr', 'add', '10.77.0.254/24', 'dev', 'hi');
    for (const d of ['ha', 'hb', 'hi', 'hip']) ip(S, 'link', 'set', d, 'up');
    ip(A, 'link', 'set', 'a0', 'up');
    ip(B, 'link', 'set', 'b0', 'up');
    const attach = (dev: string, dir: string) => sh('nsenter', [`--net=/run/netns/${S}`, h.loader, 'attach', `${h.root}/prog`, dev, dir, `${h.root}/link_${dev}`]);
    attach('ha', 'ingress');
    attach('hb', 'ingress');
    attach('hi', 'egress');
    const ports: Array<[number, string, number]> = [[PA, 'ha', 1], [PB, 'hb', 1], [PI, 'hi', 2]];
    for (const [no, dev, flags] of ports) {
      const ifx = ifindex(S, dev);
      h.updateU32('ifindex_port', ifx, no);
      h.updateU32('ports', no, portVal(ifx, flags, dev));
    }
    const mask = Buffer.alloc(96);
    mask.writeUInt32LE(0xffffffff, K.inPort);
    mask.writeUInt32LE(1, 88);
    mask.writeUInt32LE(1, 92);
    h.updateU32('masks', 0, mask);
    const cfg = Buffer.alloc(32);
    cfg.writeUInt32LE(1, 0);
    h.updateU32('config', 0, cfg);
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

t('a miss on veth goes up; the rx VLAN tag (skb metadata) is put back into the data', () => {
  // A tagged frame sent from A (AF_PACKET): the receiving stack moves the tag into skb metadata
  // before TC ingress (skb_vlan_untag), so the program sees skb->vlan_present.
  const frame = Buffer.concat([Buffer.from('020000000002', 'hex'), Buffer.from(mac(A, 'a0').replace(/:/g, ''), 'hex'),
    Buffer.from('8100000a0800', 'hex'), UDP_IN]);
  h.upcalls(256, 50); // drain
  const rx0 = h.counter('port_stats', PA, 1);
  sendFromA(frame);
  const ups = h.upcalls(8, 200).filter((u) => u.key.readUInt16BE(K.ethType) === 0x0800);
  assert.is(ups.length, 1);
  const u = ups[0];
  assert.is(u.port, PA);
  assert.is(u.key.readUInt16BE(K.vlanTci), 0x1000 | 10);
  assert.is(u.data.readUInt16BE(12), 0x8100);
  assert.is(u.data.readUInt16BE(14), 10);
  assert.is(u.data.toString('hex'), frame.toString('hex'), 'the frame as sent');
  assert.is(u.pktLen, frame.length);
  // The stack moved the tag into skb metadata before TC ingress: skb->len lacked those 4 bytes.
  assert.is(h.counter('port_stats', PA, 1) - rx0, BigInt(u.pktLen - 4));
});

t('megaflows forward ping and TCP between netns (bpf_redirect_peer)', () => {
  flow(PA, [out(PB)]);
  flow(PB, [out(PA)]);
  assert.is(ping(A, '10.77.0.2', 3), 3);
  inNs(B, 'iperf3', '-s', '-1', '-D');
  let txt = '';
  for (let i = 0; i < 20 && !txt.includes('receiver'); i++) {
    try { txt = inNs(A, 'iperf3', '-c', '10.77.0.2', '-n', '4M'); } catch { execFileSync('sleep', ['0.1']); }
  }
  assert.match(txt, /receiver/);
  const id = Buffer.alloc(96);
  id.writeUInt32LE(PA, 8);
  // iperf3 -n reports when its socket took the bytes; the tail may still be in flight.
  let v = h.lookup('flows', id)!;
  for (let i = 0; i < 40 && v.readBigUInt64LE(8) <= 4_000_000n; i++) {
    execFileSync('sleep', ['0.05']);
    v = h.lookup('flows', id)!;
  }
  assert.ok(v.readBigUInt64LE(8) > 4_000_000n, `flow bytes count the transfer: ${v.readBigUInt64LE(0)} packets, ${v.readBigUInt64LE(8)} bytes`);
  assert.is(v.readUInt32LE(24) & 0x012, 0x012, 'SYN and ACK seen');
});

/** Packets of a pcap file (Ethernet link type). */
function pcapFrames(file: string): Buffer[] {
  const d = fs.readFileSync(file);
  const frames: Buffer[] = [];
  for (let off = 24; off + 16 <= d.length;) {
    const incl = d.readUInt32LE(off + 8);
    frames.push(d.subarray(off + 16, off + 16 + incl));
    off += 16 + incl;
  }
  return frames;
}

/** Frames B receives on b0 (tcpdump, up to count, matching filter) while send() runs. */
async function captureB(count: number, filter: string[], send: () => void, name: string): Promise<Buffer[]> {
  const pcap = path.join(h.tmp, `${name}.pcap`);
  const td = spawn('ip', ['netns', 'exec', B, 'tcpdump', '-i', 'b0', '-U', '-s', '200', '-c', String(count), '-w', pcap, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tcpdump did not start')), 5000);
      td.stderr.on('data', (c: Buffer) => { if (c.toString().includes('listening')) { clearTimeout(timer); resolve(); } });
    });
    send();
    await new Promise<void>((resolve) => { td.once('exit', () => resolve()); setTimeout(resolve, 2000); });
  } finally {
    td.kill();
  }
  return fs.existsSync(pcap) ? pcapFrames(pcap) : [];
}

t('push_vlan: B receives the tag; pop_vlan: B receives the frame without it', async () => {
  const dst = Buffer.from(mac(B, 'b0').replace(/:/g, ''), 'hex');
  const src = Buffer.from(mac(A, 'a0').replace(/:/g, ''), 'hex');
  const plain = Buffer.concat([dst, src, Buffer.from('0800', 'hex'), UDP_IN]);
  const tagged = (tci: number) => Buffer.concat([dst, src, Buffer.from([0x81, 0, tci >> 8, tci & 0xff, 8, 0]), UDP_IN]);
  flow(PA, [{ type: ACT.PUSH_VLAN, u: Buffer.from([0x81, 0x00, 0x60, 0x0a]) }, out(PB)]);
  let got = await captureB(1, ['udp or vlan'], () => sendFromA(plain), 'push');
  assert.is(got.length, 1, 'one frame at B');
  assert.is(got[0].toString('hex'), tagged(0x600a).toString('hex'));
  flow(PA, [{ type: ACT.POP_VLAN }, out(PB)]);
  got = await captureB(1, ['udp or vlan'], () => sendFromA(tagged(20)), 'pop');
  assert.is(got.length, 1, 'one frame at B');
  assert.is(got[0].toString('hex'), plain.toString('hex'));
});

t('several outputs: a clone to each port, the last one redirected', async () => {
  const frame = Buffer.concat([Buffer.from('ffffffffffff', 'hex'), Buffer.from(mac(A, 'a0').replace(/:/g, ''), 'hex'), Buffer.from('0800', 'hex'), UDP_IN]);
  flow(PA, [out(PI), out(PB)]);
  const tx0 = h.counter('port_stats', PI, 3);
  const got = await captureB(1, ['udp'], () => sendFromA(frame), 'flood');
  assert.equal(got.map((f) => f.toString('hex')), [frame.toString('hex')]);
  assert.is(h.counter('port_stats', PI, 3) - tx0, 1n, 'the clone went to the internal port');
});

t('set_ipv4 NAT: TCP works and CHECKSUM_PARTIAL checksums are fixed with the pseudo header', async () => {
  ip(A, 'neigh', 'replace', NAT_IP, 'lladdr', mac(B, 'b0'), 'dev', 'a0');
  ip(B, 'neigh', 'replace', '10.77.0.1', 'lladdr', mac(A, 'a0'), 'dev', 'b0');
  flow(PA, [setIp(SET.DST, '0.0.0.0', '10.77.0.2'), out(PB)]);
  flow(PB, [setIp(SET.SRC, NAT_IP, '0.0.0.0'), out(PA)]);
  let txt = '';
  const captured = await captureB(30, ['tcp and src 10.77.0.1'], () => {
    inNs(B, 'iperf3', '-s', '-1', '-D');
    for (let i = 0; i < 20 && !txt.includes('receiver'); i++) {
      try { txt = inNs(A, 'iperf3', '-c', NAT_IP, '-n', '2M'); } catch { execFileSync('sleep', ['0.1']); }
    }
  }, 'nat');
  assert.match(txt, /receiver/, 'TCP through the NAT flows');
  const frames = captured.filter((f) => f.readUInt16BE(12) === 0x0800 && f[23] === 6);
  assert.ok(frames.length >= 10, `captured ${frames.length} TCP packets`);
  for (const f of frames) {
    const ihl = (f[14] & 0xf) * 4;
    const ipH = f.subarray(14, 14 + ihl);
    assert.is(ipH.subarray(16, 20).join('.'), '10.77.0.2', 'destination rewritten');
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

t('internal port: entered at egress of its device, delivered to its stack with BPF_F_INGRESS', () => {
  flow(PI, [out(PA)]);
  flow(PA, [out(PI)]);
  assert.is(ping(S, '10.77.0.1', 2), 2);
  assert.ok(h.counter('port_stats', PI, 0) >= 2n, 'rx on the internal port');
  assert.ok(h.counter('port_stats', PI, 3) >= 2n, 'tx to the internal port');
});

t.run();
