/**
 * A listener built on OfConn over a unix socket in a temp dir, answering the switch-level
 * requests from a tiny fixed model (test data: two ports and LOCAL, one table). The real
 * ovs-ofctl connects to it; the tests assert on what ovs-ofctl prints.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  OfConn, OfpError, type CloseReason, type ConnOptions, type Decoded, type OfpPort, type OfpVersion, type PortStats,
} from '../../src/openflow/index.ts';

export const PORTS: readonly OfpPort[] = [
  { portNo: 1, hwAddr: 0x020000000a01, name: 'veth-a', config: 0, state: 0, curr: 0x840, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 },
  { portNo: 2, hwAddr: 0x020000000a02, name: 'veth-b', config: 1, state: 1, curr: 0x840, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 },
  { portNo: 0xfffffffe, hwAddr: 0x020000000aff, name: 'br-fake', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 },
];

export function statsOf(p: OfpPort): PortStats {
  const n = BigInt(p.portNo & 0xff);
  return {
    portNo: p.portNo, rxPackets: 100n + n, txPackets: 200n + n, rxBytes: 3000n + n, txBytes: 4000n + n,
    rxDropped: 1n, txDropped: 2n, rxErrors: 3n, txErrors: 4n, rxFrameErr: 5n, rxOverErr: 6n, rxCrcErr: 7n,
    collisions: 8n, durationSec: 42, durationNsec: 0,
  };
}

/** The fake switch's answer to one message; unknown kinds are OFPBRC_BAD_TYPE. */
export function answer(d: Decoded, conn: OfConn): void {
  const { msg, xid, version } = d;
  switch (msg.kind) {
    case 'features_request':
      conn.send({ kind: 'features_reply', datapathId: 0xabcdefn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, actions: 0xfff, ports: version === 1 ? [...PORTS] : [] }, xid);
      return;
    case 'get_config_request': conn.send({ kind: 'get_config_reply', flags: 0, missSendLen: 128 }, xid); return;
    case 'port_desc_request': conn.sendReplies({ kind: 'port_desc_reply', ports: [...PORTS] }, xid); return;
    case 'desc_request':
      conn.send({ kind: 'desc_reply', mfrDesc: 'bvs test', hwDesc: 'fake hw', swDesc: 'fake sw', serialNum: 'none', dpDesc: 'br-fake' }, xid);
      return;
    case 'table_stats_request':
      conn.sendReplies({ kind: 'table_stats_reply', tables: [{ tableId: 0, name: 'classifier', wildcards: 0x3fffff, maxEntries: 1_000_000, activeCount: 7, lookupCount: 99n, matchedCount: 77n }] }, xid);
      return;
    case 'port_stats_request':
      conn.sendReplies({ kind: 'port_stats_reply', stats: PORTS.filter((p) => msg.portNo === 0xffffffff || p.portNo === msg.portNo).map(statsOf) }, xid);
      return;
    case 'barrier_request': conn.send({ kind: 'barrier_reply' }, xid); return;
    case 'set_config': case 'nx_set_flow_format': case 'nx_set_packet_in_format': return;
    default: throw new OfpError('OFPBRC_BAD_TYPE', `the fake switch does not answer ${msg.kind}`);
  }
}

export interface Listener {
  sock: string;
  closes: { reason: CloseReason; detail: string }[];
  conns: OfConn[];
  defects: unknown[];
  stop(): Promise<void>;
}

export async function listen(opts: ConnOptions): Promise<Listener> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bvs-of-${process.pid}-`));
  const sock = path.join(dir, 'br.mgmt');
  const l: Listener = { sock, closes: [], conns: [], defects: [], stop: async () => {} };
  const server = net.createServer((s) => {
    l.conns.push(new OfConn(s, opts, {
      onMessage: answer,
      onClose: (reason, detail) => l.closes.push({ reason, detail }),
      onDefect: (e) => l.defects.push(e),
    }));
  });
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(sock, res); });
  l.stop = async () => {
    for (const c of l.conns) c.close('local', 'test over');
    await new Promise<void>((res) => server.close(() => res()));
    rmSync(dir, { recursive: true, force: true });
  };
  return l;
}

/** Runs the real ovs-ofctl; resolves with its stdout, stderr and exit code (never rejects). */
export function ofctl(args: string[]): Promise<{ out: string; err: string; code: number }> {
  return new Promise((res) => {
    execFile('ovs-ofctl', args, { timeout: 30_000 }, (e, out, err) => {
      res({ out, err, code: e ? (typeof e.code === 'number' ? e.code : 1) : 0 });
    });
  });
}

export const VERSION_NAMES: ReadonlyMap<OfpVersion, string> = new Map([
  [1, 'OpenFlow10'], [4, 'OpenFlow13'], [5, 'OpenFlow14'], [6, 'OpenFlow15'],
] as [OfpVersion, string][]);

/** A raw peer: writes bytes, collects whole messages it receives, notes when it is closed. */
export interface RawPeer { socket: net.Socket; frames: Uint8Array[]; closed: boolean; send(b: Uint8Array | number[]): void }

export async function rawPeer(sock: string, opts: { read?: boolean } = {}): Promise<RawPeer> {
  const socket = net.connect(sock);
  await new Promise<void>((res, rej) => { socket.once('connect', res); socket.once('error', rej); });
  const p: RawPeer = { socket, frames: [], closed: false, send: (b) => { socket.write(Uint8Array.from(b)); } };
  let pending = Buffer.alloc(0);
  if (opts.read === false) socket.pause();
  socket.on('data', (c: Buffer) => {
    pending = Buffer.concat([pending, c]); // test side: simplicity over linear time
    while (pending.length >= 8 && pending.length >= pending.readUInt16BE(2)) {
      const n = pending.readUInt16BE(2);
      p.frames.push(Uint8Array.from(pending.subarray(0, n)));
      pending = pending.subarray(n);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => { p.closed = true; });
  return p;
}

/** ofp_header bytes. */
export function hdr(version: number, type: number, length: number, xid: number): number[] {
  return [version, type, length >> 8, length & 0xff, xid >>> 24, (xid >> 16) & 0xff, (xid >> 8) & 0xff, xid & 0xff];
}
