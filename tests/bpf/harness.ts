/**
 * A harness for the datapath program alone, without the addon: tests/bpf/bvs_load.c (compiled
 * here with gcc) loads bpf/.output/bvs.bpf.o with a unique pin_root_path, bpftool writes the
 * maps, and BPF_PROG_TEST_RUN (`bpftool prog run`, inside a private netns (nsenter: `ip netns exec` would remount /sys and hide bpffs) so clone_redirect
 * copies go nowhere) runs crafted frames through the program. Upcalls are read back from the
 * pinned ring with `bvs_load upcalls`.
 *
 * Everything it makes (temp dir, pins, netns) is removed by destroy(), which callers run in
 * `after` even when a test fails. Names carry the pid and a random suffix.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OBJ = path.resolve(here, '../../bpf/.output/bvs.bpf.o');

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** Field offsets of struct bvs_flow_key (bpf/include/bvs_abi.h). */
export const K = {
  inPort: 0, ethSrc: 4, ethDst: 10, ethType: 16, vlanTci: 18, ipProto: 20, ipTos: 21, ipTtl: 22,
  ipFrag: 23, ipv4Src: 24, ipv4Dst: 28, ipv6Src: 32, ipv6Dst: 48, arpSha: 64, arpTha: 70,
  tpSrc: 76, tpDst: 78, tcpFlags: 80, ipv6Label: 84, size: 88,
} as const;

export const ACT = { OUTPUT: 1, USERSPACE: 2, PUSH_VLAN: 3, POP_VLAN: 4, SET_ETH: 5, SET_IPV4: 6, SET_TCP: 7, SET_UDP: 8 } as const;
export const SET = { SRC: 1, DST: 2, TOS: 4, TTL: 8 } as const;

export interface Action { type: number; flags?: number; port?: number; u?: Buffer }

export function encodeAction(a: Action): Buffer {
  const b = Buffer.alloc(24);
  b[0] = a.type;
  b[1] = a.flags ?? 0;
  b.writeUInt32LE(a.port ?? 0, 4);
  if (a.u) a.u.copy(b, 8);
  return b;
}

/** struct bvs_flow with zero stats. */
export function encodeFlow(actions: Action[]): Buffer {
  const b = Buffer.alloc(424);
  b.writeUInt32LE(actions.length, 32);
  actions.forEach((a, i) => encodeAction(a).copy(b, 40 + 24 * i));
  return b;
}

export interface Upcall { type: number; port: number; pktLen: number; capLen: number; cookie: bigint; pid: number; key: Buffer; data: Buffer }

const hexArgs = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0'));
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };

export class ProgHarness {
  readonly tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bvs-prog-'));
  readonly root = `/sys/fs/bpf/bvs-prog-${this.tag}`;
  readonly ns = `bvsprog${this.tag}`;
  readonly loader = path.join(this.tmp, 'bvs_load');
  private n = 0;

  start(): string {
    execFileSync('gcc', ['-O1', '-o', this.loader, path.join(here, 'bvs_load.c'), '-lbpf']);
    fs.mkdirSync(this.root);
    execFileSync('ip', ['netns', 'add', this.ns]);
    execFileSync('ip', ['-n', this.ns, 'link', 'set', 'lo', 'up']);
    return execFileSync(this.loader, ['load', OBJ, this.root, `${this.root}/prog`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  }

  destroy(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
    try { execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' }); } catch { /* not made */ }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  update(map: string, key: Buffer, value: Buffer): void {
    execFileSync('bpftool', ['map', 'update', 'pinned', `${this.root}/${map}`, 'key', 'hex', ...hexArgs(key), 'value', 'hex', ...hexArgs(value)]);
  }

  updateU32(map: string, key: number, value: Buffer | number): void {
    this.update(map, u32(key), typeof value === 'number' ? u32(value) : value);
  }

  delete(map: string, key: Buffer): void {
    execFileSync('bpftool', ['map', 'delete', 'pinned', `${this.root}/${map}`, 'key', 'hex', ...hexArgs(key)]);
  }

  /** Raw value (per-CPU maps: the values of all CPUs, summed as u64 words). */
  lookup(map: string, key: Buffer): Buffer | undefined {
    let out: string;
    try {
      out = execFileSync('bpftool', ['-j', 'map', 'lookup', 'pinned', `${this.root}/${map}`, 'key', 'hex', ...hexArgs(key)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch { return undefined; }
    const j = JSON.parse(out) as { value?: string[]; values?: Array<{ value: string[] }> };
    const bytes = (v: string[]) => Buffer.from(v.map((x) => parseInt(x, 16)));
    if (j.value) return bytes(j.value);
    const vals = j.values!.map((v) => bytes(v.value));
    const sum = Buffer.alloc(vals[0].length);
    for (let o = 0; o + 8 <= sum.length; o += 8) {
      sum.writeBigUInt64LE(vals.reduce((s, v) => s + v.readBigUInt64LE(o), 0n), o);
    }
    return sum;
  }

  /** u64 word i of a (per-CPU summed) value. */
  counter(map: string, key: number, word: number): bigint {
    const v = this.lookup(map, u32(key));
    return v ? v.readBigUInt64LE(word * 8) : 0n;
  }

  run(frame: Buffer): { ret: number; out: Buffer } {
    const i = this.n++;
    const fin = path.join(this.tmp, `in${i}`);
    const fout = path.join(this.tmp, `out${i}`);
    fs.writeFileSync(fin, frame);
    // One CPU for every run: the mask cache and the stats are per-CPU.
    const txt = execFileSync('taskset', ['-c', '0', 'nsenter', `--net=/run/netns/${this.ns}`, 'bpftool', 'prog', 'run', 'pinned', `${this.root}/prog`,
      'data_in', fin, 'data_out', fout, 'repeat', '1'], { encoding: 'utf8' });
    const m = /Return value: (\d+)/.exec(txt);
    if (!m) throw new Error(`no return value in: ${txt}`);
    return { ret: Number(m[1]), out: fs.existsSync(fout) ? fs.readFileSync(fout) : Buffer.alloc(0) };
  }

  /** Reads up to max upcalls waiting in the ring (stops after ms without one). */
  upcalls(max = 64, ms = 100): Upcall[] {
    const txt = execFileSync(this.loader, ['upcalls', `${this.root}/upcalls`, String(max), String(ms)], { encoding: 'utf8' });
    return txt.split('\n').filter((l) => l.length > 0).map((l) => {
      const [type, port, pktLen, capLen, cookie, pid, key, data] = l.split(' ');
      return {
        type: Number(type), port: Number(port), pktLen: Number(pktLen), capLen: Number(capLen),
        cookie: BigInt(cookie), pid: Number(pid),
        key: Buffer.from(key.slice(4), 'hex'), data: Buffer.from(data.slice(5), 'hex'),
      };
    });
  }
}

// ---- frames -------------------------------------------------------------------------------

export const MAC1 = Buffer.from('020000000001', 'hex');
export const MAC2 = Buffer.from('020000000002', 'hex');
export const IP1 = Buffer.from([10, 0, 0, 1]);
export const IP2 = Buffer.from([10, 0, 0, 2]);

export function be16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }

export function eth(type: number, payload: Buffer, tags: Array<[number, number]> = []): Buffer {
  return Buffer.concat([MAC2, MAC1, ...tags.map(([tpid, tci]) => Buffer.concat([be16(tpid), be16(tci)])), be16(type), payload]);
}

function sum16(b: Buffer, acc = 0): number {
  let s = acc;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length % 2) s += b[b.length - 1] << 8;
  return s;
}
export function csum(b: Buffer, acc = 0): number {
  let s = sum16(b, acc);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface Ip4Opts { proto: number; tos?: number; ttl?: number; frag?: number; options?: Buffer; src?: Buffer; dst?: Buffer }

/** IPv4 with a valid header checksum, and a valid TCP/UDP checksum when l4 has one. */
export function ipv4(o: Ip4Opts, l4: Buffer, udpZeroCsum = false): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(20 + opts.length + l4.length, 2);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  (o.src ?? IP1).copy(h, 12);
  (o.dst ?? IP2).copy(h, 16);
  const hdr = Buffer.concat([h, opts]);
  hdr.writeUInt16BE(csum(hdr), 10);
  const seg = Buffer.from(l4);
  const coff = o.proto === 6 ? 16 : o.proto === 17 ? 6 : -1;
  if (coff >= 0 && seg.length >= coff + 2 && !udpZeroCsum) {
    seg.writeUInt16BE(0, coff);
    let c = l4Csum(hdr, seg);
    if (o.proto === 17 && c === 0) c = 0xffff;
    seg.writeUInt16BE(c, coff);
  }
  return eth(0x0800, Buffer.concat([hdr, seg]));
}

export function l4Csum(ip: Buffer, seg: Buffer): number {
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, ip[9]]), be16(seg.length)]);
  return csum(seg, sum16(pseudo));
}

export function tcp(sport: number, dport: number, flags: number, doff = 5): Buffer {
  const b = Buffer.alloc(Math.max(20, doff * 4) + 4);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE((doff << 12) | flags, 12);
  b.write('data', b.length - 4);
  return b;
}

export function udp(sport: number, dport: number, payload = Buffer.from('hello')): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([b, payload]);
}

/** Checks an IPv4 frame (IP at l3): header checksum, and the TCP/UDP checksum if present. */
export function checksumsOk(f: Buffer, l3: number): { ip: boolean; l4: boolean } {
  const ihl = (f[l3] & 0xf) * 4;
  const ip = f.subarray(l3, l3 + ihl);
  const seg = f.subarray(l3 + ihl, l3 + f.readUInt16BE(l3 + 2));
  const proto = f[l3 + 9];
  let l4 = true;
  if (proto === 6) l4 = l4Csum(ip, seg) === 0;
  if (proto === 17 && seg.readUInt16BE(6) !== 0) l4 = l4Csum(ip, seg) === 0;
  return { ip: csum(ip) === 0, l4 };
}
