/**
 * Addon benchmark: the cost of the JS layer over libbpf, against a C peer doing the same
 * operations with libbpf directly (bench/addon/peer.c, compiled in this run).
 *   ring drain   a pinned ring buffer pre-filled with N records (BPF_PROG_TEST_RUN of the
 *                fixture's tc program), drained by ringOpen on the libuv loop (each record
 *                copied into a Buffer, JS called with batches of 256) vs ring_buffer__consume
 *                in C (each record memcpy'd). Records/s, median of the rounds.
 *   map lookup   bpf_map_lookup_elem on a 1024-entry hash map: addon.mapLookup vs C.
 * Prints a table with the ratio addon / C. Not a test: it asserts nothing.
 *
 *   node --import tsx bench/addon/run.ts [--rounds N]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { A, closeLoad, fixtureObject, makePinDir, removePinDir } from '../../tests/addon/env.ts';
import type { LoadResult } from '../../src/datapath/addon.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 9;
const PER = 16000;            // records per round: the 1 MiB ring holds ~18.7k 48-byte records
const LOOKUPS = 200_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const frame = Buffer.alloc(64);
frame.writeUInt16BE(0x0800, 12);

async function addonRing(r: LoadResult): Promise<number[]> {
  const out: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    A.progTestRun(r.progFd, frame, { repeat: PER });
    const ns = await new Promise<number>((resolve) => {
      let got = 0;
      const t0 = process.hrtime.bigint();
      const ring = A.ringOpen(r.maps.fx_ring, 256, (recs) => {
        got += recs.length;
        if (got >= PER) {
          ring.close();
          resolve(Number(process.hrtime.bigint() - t0));
        }
      });
    });
    out.push(PER / (ns / 1e9));
  }
  return out;
}

async function peerRing(peer: string, r: LoadResult, pin: string): Promise<number[]> {
  const child = spawn(peer, ['ring', pin, String(PER), String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const out: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      A.progTestRun(r.progFd, frame, { repeat: PER });
      child.stdin!.write('go\n');
      const { value } = await lines.next();
      out.push(PER / (Number(value) / 1e9));
    }
  } finally {
    child.stdin!.end();
    await new Promise((res) => child.once('exit', res));
  }
  return out;
}

function addonLookup(r: LoadResult): number {
  const k = Buffer.alloc(4), v = Buffer.alloc(16);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) { k.writeUInt32LE(i & 1023); A.mapLookup(r.maps.fx_hash, k, v); }
  return Number(process.hrtime.bigint() - t0) / LOOKUPS;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bvs-bench-addon-'));
  const pins = makePinDir('bench');
  let r: LoadResult | undefined;
  try {
    const peer = path.join(tmp, 'peer');
    execFileSync('cc', ['-O2', '-o', peer, path.join(here, 'peer.c'), '-lbpf']);
    r = A.load(fixtureObject('fixture'), { pinRoot: pins });
    const keys = Buffer.alloc(4 * 1024), vals = Buffer.alloc(16 * 1024);
    for (let i = 0; i < 1024; i++) keys.writeUInt32LE(i, 4 * i);
    A.mapUpdateBatch(r.maps.fx_hash, keys, vals, 1024, 0);

    const aRing = median(await addonRing(r));
    const cRing = median(await peerRing(peer, r, `${pins}/fx_ring`));
    const aLook = median([addonLookup(r), addonLookup(r), addonLookup(r)]);
    const cLook = median([0, 1, 2].map(() => Number(execFileSync(peer, ['lookup', `${pins}/fx_hash`, String(LOOKUPS)], { encoding: 'utf8' })) / LOOKUPS));

    const row = (name: string, a: string, c: string, ratio: number) =>
      console.log(`| ${name.padEnd(26)} | ${a.padStart(14)} | ${c.padStart(14)} | ${ratio.toFixed(2).padStart(6)} |`);
    console.log(`addon vs C/libbpf, ${os.cpus().length} CPUs, ${ROUNDS} rounds of ${PER} records`);
    console.log('| measure                    |          addon |         C peer | addon/C |');
    console.log('|----------------------------|----------------|----------------|--------|');
    row('ring drain (records/s)', `${(aRing / 1e3).toFixed(0)}k`, `${(cRing / 1e3).toFixed(0)}k`, aRing / cRing);
    row('map lookup (ns/op)', aLook.toFixed(0), cLook.toFixed(0), aLook / cLook);
  } finally {
    closeLoad(r);
    removePinDir(pins);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
