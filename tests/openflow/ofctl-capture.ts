/**
 * The oracle for decoding: what the real ovs-ofctl sends. A unix socket listener answers HELLO
 * (with the version it is asked for), echo and barrier requests, and records every other
 * message; `ovs-ofctl -O VERSION CMD unix:SOCK ARGS` then runs against it to completion.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Captured { version: number; type: number; xid: number; bytes: Uint8Array }

const BARRIER = new Map<number, [number, number]>([[1, [18, 19]], [4, [20, 21]], [5, [20, 21]], [6, [20, 21]]]);

function header(version: number, type: number, length: number, xid: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(version, 0); b.writeUInt8(type, 1); b.writeUInt16BE(length, 2); b.writeUInt32BE(xid, 4);
  return b;
}

/** The empty reply to a stats request: flow stats none, aggregate zero (1.5: an empty OXS block). */
function statsReply(version: number, req: Buffer): Buffer {
  const st = req.readUInt16BE(8), xid = req.readUInt32BE(4);
  let body: Buffer;
  if (version === 1 && st === 0xffff) { // Nicira: type, flags, vendor, subtype, pad
    body = Buffer.concat([req.subarray(8, 24), Buffer.alloc(req.readUInt32BE(16) === 1 ? 24 : 0)]);
    body.writeUInt16BE(0, 2);
  } else {
    const head = Buffer.alloc(version === 1 ? 4 : 8);
    head.writeUInt16BE(st, 0);
    const agg = st !== 2 ? Buffer.alloc(0) : version >= 6 ? Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]) : Buffer.alloc(24);
    body = Buffer.concat([head, agg]);
  }
  return Buffer.concat([header(version, version === 1 ? 17 : 19, 8 + body.length, xid), body]);
}

/** Runs ovs-ofctl with `args` (the socket goes where "SOCK" is) and returns what it sent after HELLO. */
export async function captureOfctl(version: number, args: string[]): Promise<Captured[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ofcap-${process.pid}-`));
  const sock = path.join(dir, 's');
  const got: Captured[] = [];
  const server = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.write(header(version, 0, 8, 1));
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const len = buf.readUInt16BE(2);
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        const type = msg[1]!, xid = msg.readUInt32BE(4);
        if (type === 0) continue; // HELLO
        if (type === 2) { c.write(Buffer.concat([header(version, 3, len, xid), msg.subarray(8)])); continue; }
        const bar = BARRIER.get(version);
        if (bar && type === bar[0]) { c.write(header(version, bar[1], 8, xid)); continue; }
        got.push({ version: msg[0]!, type, xid, bytes: new Uint8Array(msg) });
        // A stats/multipart request: an empty reply of the same kind (aggregate: all zero),
        // so that ovs-ofctl completes (dump-flows, dump-aggregate).
        const statsReq = version === 1 ? 16 : 18;
        if (type === statsReq) c.write(statsReply(version, msg));
      }
    });
    c.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(sock, res));
  try {
    const vname = new Map([[1, 'OpenFlow10'], [4, 'OpenFlow13'], [5, 'OpenFlow14'], [6, 'OpenFlow15']]).get(version)!;
    const argv = ['--no-names', '-O', vname, ...args.map((a) => (a === 'SOCK' ? `unix:${sock}` : a))];
    await new Promise<void>((res, rej) => {
      const p = spawn('ovs-ofctl', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += String(d); });
      const timer = setTimeout(() => p.kill('SIGKILL'), 20000); // a bound, not a wait: it exits on its own
      p.on('close', (code) => { clearTimeout(timer); if (code === 0) res(); else rej(new Error(`ovs-ofctl ${argv.join(' ')}: exit ${code}: ${err}`)); });
    });
  } finally {
    await new Promise<void>((res) => server.close(() => res()));
    rmSync(dir, { recursive: true, force: true });
  }
  return got;
}
