/**
 * Summarises a V8 CPU profile (.cpuprofile): self time per function and per file, top N.
 *
 *   node --import tsx bench/controller/prof-top.ts FILE [N]
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(process.argv[3] ?? 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fn = new Map<string, number>(), file = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/') || '(native)';
  const k = `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  file.set(url, (file.get(url) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
show('self time by function', fn);
show('self time by file', file);
