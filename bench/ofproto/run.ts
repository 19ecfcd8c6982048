/**
 * ofproto benchmark: classifier lookups/s (1k, 10k, 100k rules of mixed masks) against a linear
 * scan peer, average subtables visited per lookup, xlate/s for a NORMAL bridge and a 5-table
 * pipeline, then (when ovs-vswitchd is installed) megaflows compared with OVS's for the same
 * tables. Run: node --import tsx bench/ofproto/run.ts [--no-ovs]
 */
import { emptyKey, type FlowKey } from '../../src/datapath/flow.ts';
import { Bridge, Classifier, Match, parseFlow, W, xlate, type ClsRule } from '../../src/ofproto/index.ts';
import { compareWithOvs } from './ovs-compare.ts';
import { prng } from '../../tests/ofproto/gen.ts';

interface R extends ClsRule { id: number }


const rnd = prng(42);
const int = (n: number): number => Math.floor(rnd() * n);
const prefix = (p: number): number => (p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);

/**
 * Rule templates, like a real pipeline's mix: L2 by port/MAC, ACLs with L4 ports, routes by
 * prefix, ARP, register-driven stages. Each template is one mask (one subtable), except routes
 * (one per prefix length). Priorities follow the template, as in practice.
 */
type Tmpl = (m: Match) => number;
const set = (m: Match, i: number, v: number, mask = 0xffffffff): void => { m.mask[i] = mask >>> 0; m.value[i] = (v & mask) >>> 0; };
const ip = (m: Match, proto?: number): void => {
  set(m, W.DL_TYPE, 0x0800, 0xffff);
  if (proto !== undefined) set(m, W.NW_PROTO, proto, 0xff);
};
const TEMPLATES: Tmpl[] = [
  (m) => { set(m, W.IN_PORT, 1 + int(64)); return 10; },
  (m) => { set(m, W.DL_DST, int(4), 0xffff); set(m, W.DL_DST + 1, int(2 ** 32)); return 20; },
  (m) => { set(m, W.IN_PORT, 1 + int(64)); set(m, W.DL_SRC, 2, 0xffff); set(m, W.DL_SRC + 1, int(2 ** 32)); return 30; },
  (m) => { ip(m, 6); set(m, W.NW_DST, int(2 ** 32)); set(m, W.TP_DST, int(65536), 0xffff); return 200; },
  (m) => { ip(m, 6); set(m, W.NW_SRC, int(2 ** 32), prefix(24)); set(m, W.TP_DST, [22, 80, 443][int(3)]!, 0xffff); return 210; },
  (m) => { ip(m, 17); set(m, W.TP_DST, int(65536), 0xffff); return 190; },
  (m) => { ip(m, 17); set(m, W.NW_SRC, int(2 ** 32)); set(m, W.NW_DST, int(2 ** 32)); return 220; },
  (m) => { set(m, W.DL_TYPE, 0x0806, 0xffff); set(m, W.NW_DST, int(2 ** 32)); return 100; },
  (m) => { set(m, W.REG0, int(1024)); set(m, W.IN_PORT, 1 + int(64)); return 150; },
  (m) => { set(m, W.METADATA + 1, int(256)); ip(m); set(m, W.NW_DST, int(2 ** 32), prefix(16)); return 120; },
  ...[8, 16, 24, 32].map((p): Tmpl => (m) => { ip(m); set(m, W.NW_DST, int(2 ** 32), prefix(p)); return 50 + p; }),
];

function buildRules(n: number): R[] {
  const out: R[] = [];
  for (let i = 0; i < n; i++) {
    const m = new Match();
    const base = TEMPLATES[int(TEMPLATES.length)]!(m);
    out.push({ id: i, match: m.normalize(), priority: base + int(5) });
  }
  return out;
}

/** Packets: half built to hit a random rule (other bits random), half random traffic. */
function buildPackets(rules: R[], n: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = new Uint32Array(39);
    p[W.IN_PORT] = 1 + int(64);
    p[W.DL_SRC] = 2; p[W.DL_SRC + 1] = int(2 ** 32);
    p[W.DL_DST] = int(4); p[W.DL_DST + 1] = int(2 ** 32);
    p[W.DL_TYPE] = [0x0800, 0x0800, 0x0800, 0x0806][int(4)]!;
    p[W.NW_SRC] = int(2 ** 32); p[W.NW_DST] = int(2 ** 32);
    p[W.NW_PROTO] = [6, 17][int(2)]!;
    p[W.TP_SRC] = int(65536); p[W.TP_DST] = [22, 80, 443, int(65536)][int(4)]!;
    p[W.REG0] = int(1024);
    if (i % 2 === 0) {
      const r = rules[int(rules.length)]!;
      for (let w = 0; w < 39; w++) p[w] = ((p[w]! & ~r.match.mask[w]!) | r.match.value[w]!) >>> 0;
    }
    out.push(p);
  }
  return out;
}

/**
 * Runs `body` for about `budgetMs` of CPU time. Rates are per CPU second of this process (user +
 * system, from process.cpuUsage), so other processes competing for the 2 shared cores do not
 * count against us; the wall-clock rate is reported alongside.
 */
function timeIt(budgetMs: number, body: () => void, batch: number): { ops: number; ms: number; cpuMs: number } {
  let ops = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let cpu = 0;
  while (cpu < budgetMs) {
    body();
    ops += batch;
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1000;
  }
  return { ops, ms: performance.now() - t0, cpuMs: cpu };
}

const rate = (t: { ops: number; cpuMs: number }): number => t.ops / t.cpuMs * 1000;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function linearLookup(sorted: R[], flow: Uint32Array): R | undefined {
  for (const r of sorted) if (r.match.matches(flow)) return r;
  return undefined;
}

function benchClassifier(n: number): string[] {
  const rules = buildRules(n);
  const cls = new Classifier<R>();
  const tIns = performance.now();
  for (const r of rules) cls.insert(r);
  const insMs = performance.now() - tIns;
  const pkts = buildPackets(rules, 4096);
  const wc = new Uint32Array(39);
  let visited = 0, lookups = 0, hits = 0;
  for (const p of pkts) { wc.fill(0); if (cls.lookup(p, wc)) hits++; visited += cls.lastVisited; lookups++; }
  let k = 0;
  const tss = timeIt(1500, () => {
    for (let i = 0; i < 1024; i++) { wc.fill(0); cls.lookup(pkts[(k++) & 4095]!, wc); }
  }, 1024);
  const sorted = [...rules].sort((a, b) => b.priority - a.priority);
  const linBatch = Math.max(1, Math.floor(200_000 / n));
  const lin = timeIt(700, () => { for (let i = 0; i < linBatch; i++) linearLookup(sorted, pkts[(k++) & 4095]!); }, linBatch);
  const tssRate = rate(tss), linRate = rate(lin);
  return [String(n), String(cls.subtableCount), (visited / lookups).toFixed(1), `${(100 * hits / lookups).toFixed(0)}%`,
    fmt(tssRate), fmt(tss.ops / tss.ms * 1000), fmt(linRate), `${(tssRate / linRate).toFixed(0)}x`, `${insMs.toFixed(0)} ms`];
}

function normalBridge(): { b: Bridge; keys: FlowKey[] } {
  const b = new Bridge('br0', { now: () => 0 });
  for (let i = 1; i <= 16; i++) b.addPort(i <= 8 ? { name: `a${i}`, ofport: i, tag: 10 + (i % 4) } : { name: `t${i}`, ofport: i });
  b.pipeline.add(parseFlow('priority=0,actions=NORMAL'));
  const hosts: [number, number, number][] = [];
  for (let h = 0; h < 1000; h++) {
    const port = 1 + int(16), vlan = port <= 8 ? 10 + (port % 4) : 10 + int(4), mac = 0x020000000000 + h;
    b.mac.learn(vlan, mac, port, 0);
    hosts.push([port, vlan, mac]);
  }
  const keys: FlowKey[] = [];
  for (let i = 0; i < 4096; i++) {
    const [port, vlan, src] = hosts[int(hosts.length)]!;
    const dsts = hosts.filter((h) => h[1] === vlan);
    const dst = i % 10 === 0 ? 0xffffffffffff : dsts[int(dsts.length)]![2];
    keys.push({ ...emptyKey(), inPort: port, ethSrc: src, ethDst: dst, ethType: 0x0800, vlanTci: port > 8 ? 0x1000 | vlan : 0, ipProto: 6, ipv4Src: int(2 ** 32), ipv4Dst: int(2 ** 32), tpDst: 80, ipTtl: 64 });
  }
  return { b, keys };
}

function pipelineBridge(): { b: Bridge; keys: FlowKey[] } {
  const b = new Bridge('br0', { now: () => 0 });
  for (let i = 1; i <= 8; i++) b.addPort({ name: `p${i}`, ofport: i });
  const flows: string[] = [];
  for (let i = 1; i <= 8; i++) flows.push(`table=0,priority=10,in_port=${i},actions=load:${i}->NXM_NX_REG0[],goto_table:1`);
  for (let i = 0; i < 200; i++) flows.push(`table=1,priority=${100 + (i % 7)},tcp,nw_src=10.${i % 250}.0.0/16,tp_dst=${[22, 23, 3389][i % 3]},actions=drop`);
  flows.push('table=1,priority=1,actions=goto_table:2');
  for (let i = 0; i < 1000; i++) flows.push(`table=2,priority=${8 + (i % 3) * 8},ip,nw_dst=${(i >> 2) % 250}.${i % 250}.0.0/${[8, 16, 24][i % 3]},actions=dec_ttl,load:${1 + (i % 8)}->NXM_NX_REG1[],goto_table:3`);
  flows.push('table=2,priority=0,actions=drop');
  for (let i = 1; i <= 8; i++) flows.push(`table=3,priority=10,reg1=${i},actions=mod_dl_dst:02:00:00:00:01:0${i},mod_dl_src:02:00:00:00:00:01,goto_table:4`);
  for (let i = 1; i <= 8; i++) flows.push(`table=4,priority=10,reg1=${i},actions=output:${i}`);
  for (const f of flows) b.pipeline.add(parseFlow(f));
  const keys: FlowKey[] = [];
  for (let i = 0; i < 4096; i++) {
    keys.push({ ...emptyKey(), inPort: 1 + int(8), ethSrc: 0x020000000000 + int(1000), ethDst: 0x020000000001, ethType: 0x0800, ipProto: [6, 17][int(2)]!, ipv4Src: (10 << 24 | int(2 ** 24)) >>> 0, ipv4Dst: ((int(250) << 24) | (int(250) << 16) | int(65536)) >>> 0, tpDst: [22, 80, 443][int(3)]!, ipTtl: 64 });
  }
  return { b, keys };
}

function benchXlate(name: string, { b, keys }: { b: Bridge; keys: FlowKey[] }): string[] {
  let k = 0, outputs = 0, masked = 0;
  for (const key of keys.slice(0, 512)) {
    const r = xlate(b, key);
    outputs += r.actions.length;
    for (const f of ['ipv4Src', 'ipv4Dst', 'tpDst', 'ethSrc'] as const) if (r.megaflow.mask[f]) masked++;
  }
  const t = timeIt(1500, () => { for (let i = 0; i < 256; i++) xlate(b, keys[(k++) & 4095]!); }, 256);
  return [name, String([...b.pipeline.tables.keys()].length), String(b.pipeline.allRules().length),
    fmt(rate(t)), fmt(t.ops / t.ms * 1000), (outputs / 512).toFixed(1)];
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const out: string[] = [];
out.push('## Classifier (tuple space search, staged lookup, nw_src/nw_dst tries), one core\n');
const rows = [1_000, 10_000, 100_000].map(benchClassifier);
out.push(table(['rules', 'subtables', 'avg subtables visited', 'hit rate', 'lookups/CPU-s', 'lookups/wall-s', 'linear scan/CPU-s (peer)', 'ratio', 'insert all'], rows));
out.push('\n## Translation (xlate: pipeline + datapath actions + megaflow)\n');
out.push(table(['bridge', 'tables', 'rules', 'xlate/CPU-s', 'xlate/wall-s', 'avg dp actions'], [
  benchXlate('NORMAL, 16 ports (8 access, 8 trunk), 1000 MACs', normalBridge()),
  benchXlate('5-table pipeline (port→ACL→routes→MAC rewrite→output)', pipelineBridge()),
]));
process.stdout.write(`${out.join('\n')}\n`);
if (!process.argv.includes('--no-ovs')) process.stdout.write(`\n${await compareWithOvs()}\n`);
