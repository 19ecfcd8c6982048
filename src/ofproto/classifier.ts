/**
 * Flow classifier: tuple space search over rules with arbitrary bitwise masks, after OVS's
 * lib/classifier.c.
 *
 * What it is
 * ----------
 * Rules (a Match plus a priority) are grouped into subtables, one per distinct mask. Inside a
 * subtable, rules are found by hashing the packet's bits under that mask, so a lookup costs one
 * hash probe per subtable visited, whatever the number of rules. Subtables are kept sorted by the
 * highest priority they hold; a lookup visits them in that order and stops as soon as the best
 * rule found so far has a priority >= the next subtable's maximum.
 *
 * The megaflow contract
 * ---------------------
 * lookup(flow, wc) ORs into `wc` every bit of `flow` whose value influenced the result. Any
 * packet that agrees with `flow` on all bits set in `wc` gets the same result (the same rule, or
 * the same miss). That is what xlate relies on to install a megaflow. To keep megaflows wide,
 * a lookup un-wildcards only what it consulted:
 *   - Staged lookup. A subtable's mask is cut into stages (metadata+in_port, L2, L3, L4; see
 *     STAGE_ENDS in flow.ts). For every stage but the last, the subtable keeps the set of hashes
 *     of its rules' bits in the stages so far. A probe that misses at stage s proves that no rule
 *     of the subtable matches any packet agreeing on stages 0..s, so only those bits are
 *     un-wildcarded.
 *   - Prefix tracking. For nw_src and nw_dst a trie of all rules' prefixes tells, before the L3
 *     stage of a subtable whose mask on the field is a prefix of length L, whether any rule's
 *     prefix of length L lies on the packet's path; if not, the subtable is skipped after
 *     un-wildcarding only the leading bits the trie walk needed (see trie.ts).
 *   - Ports trie. When a subtable's last stage holds only tp_src/tp_dst and no rule matched,
 *     a per-subtable trie over the rules' port values tells how many leading port bits were
 *     needed to prove it; only those are un-wildcarded (OVS's ports_trie).
 *   - Priority cut-off. Subtables not visited contribute nothing.
 * Hash collisions only ever make a lookup consult more bits, never fewer, and every final
 * candidate is compared bit for bit, so they cost width, not correctness.
 *
 * Invariants
 * ----------
 *   - Every rule's match has value & mask == value (Match.normalize), and a rule object is in
 *     the classifier at most once. Its match and priority must not change while it is inside:
 *     remove, change, insert again.
 *   - Two rules with the same match and the same priority are allowed but which one a lookup
 *     returns is unspecified (OpenFlow forbids them in one table; FlowTable replaces instead).
 *     Overlapping rules with equal priority resolve deterministically for a given rule set, which
 *     is all megaflow soundness needs.
 *   - Subtables are created on first insert of a mask and destroyed when empty.
 *
 * What callers must do
 * --------------------
 *   - Pass `wc` (a words mask, usually zeroed at the start of a translation) to every lookup
 *     whose result feeds a megaflow, and never clear bits in it.
 *   - Not mutate the rule set during a lookup (JS is single-threaded; no RCU needed here).
 */
import { N_STAGES, N_WORDS, STAGE_ENDS, W, type Words } from './flow.ts';
import type { Match } from './match.ts';
import { IntMap } from './intmap.ts';
import { PrefixTrie, prefixLen, prefixMask } from './trie.ts';

export interface ClsRule {
  readonly match: Match;
  readonly priority: number;
}

const TRIE_WORDS = [W.NW_SRC, W.NW_DST] as const;
const L3_STAGE = 2;
const L4_STAGE = 3;

function portsWord(w: Words): number {
  return (((w[W.TP_SRC]! & 0xffff) << 16) | (w[W.TP_DST]! & 0xffff)) >>> 0;
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

class Subtable<R extends ClsRule> {
  readonly mask: Words;
  /** Per non-empty stage: the word indices with a non-zero mask, and those masks. */
  readonly stageIdx: Int32Array[] = [];
  readonly stageMask: Uint32Array[] = [];
  /** The same, flattened for the hot path: idxAll/maskAll in stage order, stageEnd[s] = end of stage s. */
  readonly idxAll: Int32Array;
  readonly maskAll: Int32Array;
  readonly stageEnd: Int32Array;
  /** Global stage number (0..N_STAGES-1) of each non-empty stage. */
  readonly stageNo: number[] = [];
  /** Hash -> count, for every non-final stage: the "indices" of OVS. */
  readonly stageSets: IntMap<number>[] = [];
  readonly buckets = new IntMap<R[]>();
  /** Prefix length of the mask on nw_src / nw_dst: 0 = not matched, -1 = not a prefix. */
  readonly triePlen: [number, number];
  readonly hasTrie: boolean;
  readonly prioCount = new Map<number, number>();
  /**
   * Ports trie (OVS's ports_trie): when the last stage holds only tp_src/tp_dst, the rules'
   * (tp_src << 16 | tp_dst) & mask values with plen = the mask's length up to its last 1-bit.
   */
  readonly portsMask: number;
  readonly portsPlen: number;
  readonly portsTrie = new PrefixTrie();
  maxPriority = -1;
  nRules = 0;

  constructor(mask: Words) {
    this.mask = mask.slice();
    let start = 0;
    for (let s = 0; s < N_STAGES; s++) {
      const idx: number[] = [];
      for (let i = start; i < STAGE_ENDS[s]!; i++) if (mask[i] !== 0) idx.push(i);
      start = STAGE_ENDS[s]!;
      if (idx.length === 0) continue;
      this.stageIdx.push(Int32Array.from(idx));
      this.stageMask.push(Uint32Array.from(idx.map((i) => mask[i]!)));
      this.stageNo.push(s);
    }
    if (this.stageIdx.length === 0) { // the catch-all mask: one empty stage
      this.stageIdx.push(new Int32Array(0));
      this.stageMask.push(new Uint32Array(0));
      this.stageNo.push(0);
    }
    for (let s = 0; s < this.stageIdx.length - 1; s++) this.stageSets.push(new IntMap<number>());
    this.idxAll = Int32Array.from(this.stageIdx.flatMap((a) => Array.from(a)));
    this.maskAll = Int32Array.from(this.stageMask.flatMap((a) => Array.from(a, (x) => x | 0)));
    let acc = 0;
    this.stageEnd = Int32Array.from(this.stageIdx.map((a) => (acc += a.length)));
    this.triePlen = [prefixLen(mask[W.NW_SRC]!), prefixLen(mask[W.NW_DST]!)];
    this.hasTrie = this.triePlen[0] > 0 || this.triePlen[1] > 0;
    const last = this.stageIdx[this.stageIdx.length - 1]!;
    const onlyPorts = this.stageNo[this.stageNo.length - 1] === L4_STAGE
      && Array.from(last).every((i) => i === W.TP_SRC || i === W.TP_DST);
    this.portsMask = onlyPorts ? portsWord(mask) : 0;
    this.portsPlen = this.portsMask ? 32 - ctz32(this.portsMask) : 0;
  }

  /** The hashes of `value` (already masked) at each stage; the last is the bucket key. */
  hashes(value: Words): number[] {
    const out: number[] = [];
    let h = 0;
    for (let s = 0; s < this.stageIdx.length; s++) {
      const idx = this.stageIdx[s]!;
      for (let j = 0; j < idx.length; j++) h = mix(h, value[idx[j]!]!);
      out.push(h);
    }
    return out;
  }

  /** ORs this subtable's mask, stages [0, upTo), into wc. */
  foldMask(wc: Words, upTo: number): void {
    if (upTo === 0) return;
    const idx = this.idxAll, m = this.maskAll;
    for (let j = 0, end = this.stageEnd[upTo - 1]!; j < end; j++) wc[idx[j]!] |= m[j]!;
  }
}

export class Classifier<R extends ClsRule> {
  private readonly subtables = new Map<string, Subtable<R>>();
  private sorted: Subtable<R>[] = [];
  private readonly tries = [new PrefixTrie(), new PrefixTrie()];
  private nRules = 0;
  /** Subtables visited by the most recent lookup (for statistics and the benchmark). */
  lastVisited = 0;
  // Per-lookup trie results: [plens, maskbits] per trie field, valid when trieGen matches.
  private readonly trieOut = [new Int32Array(2), new Int32Array(2), new Int32Array(2)];
  private readonly trieDone = [false, false];

  get size(): number {
    return this.nRules;
  }

  get subtableCount(): number {
    return this.sorted.length;
  }

  insert(rule: R): void {
    const mk = rule.match.mask.join(',');
    let st = this.subtables.get(mk);
    if (!st) {
      st = new Subtable<R>(rule.match.mask);
      this.subtables.set(mk, st);
      this.sorted.push(st);
    }
    const hs = st.hashes(rule.match.value);
    for (let s = 0; s < st.stageSets.length; s++) {
      const set = st.stageSets[s]!;
      set.set(hs[s]!, (set.get(hs[s]!) ?? 0) + 1);
    }
    const key = hs[hs.length - 1]!;
    const bucket = st.buckets.get(key);
    if (bucket) {
      let i = 0;
      while (i < bucket.length && bucket[i]!.priority >= rule.priority) i++;
      bucket.splice(i, 0, rule);
    } else {
      st.buckets.set(key, [rule]);
    }
    st.prioCount.set(rule.priority, (st.prioCount.get(rule.priority) ?? 0) + 1);
    st.nRules++;
    this.nRules++;
    for (let t = 0; t < 2; t++) {
      const pl = st.triePlen[t]!;
      if (pl > 0) this.tries[t]!.insert(rule.match.value[TRIE_WORDS[t]]!, pl);
    }
    if (st.portsPlen) st.portsTrie.insert(portsWord(rule.match.value), st.portsPlen);
    if (rule.priority > st.maxPriority) {
      st.maxPriority = rule.priority;
      this.resort();
    }
  }

  /** Removes `rule` (by identity). Returns false when it was not present. */
  remove(rule: R): boolean {
    const st = this.subtables.get(rule.match.mask.join(','));
    if (!st) return false;
    const hs = st.hashes(rule.match.value);
    const key = hs[hs.length - 1]!;
    const bucket = st.buckets.get(key);
    const at = bucket ? bucket.indexOf(rule) : -1;
    if (!bucket || at < 0) return false;
    bucket.splice(at, 1);
    if (bucket.length === 0) st.buckets.delete(key);
    for (let s = 0; s < st.stageSets.length; s++) {
      const set = st.stageSets[s]!;
      const c = set.get(hs[s]!)! - 1;
      if (c === 0) set.delete(hs[s]!); else set.set(hs[s]!, c);
    }
    for (let t = 0; t < 2; t++) {
      const pl = st.triePlen[t]!;
      if (pl > 0) this.tries[t]!.remove(rule.match.value[TRIE_WORDS[t]]!, pl);
    }
    if (st.portsPlen) st.portsTrie.remove(portsWord(rule.match.value), st.portsPlen);
    st.nRules--;
    this.nRules--;
    const pc = st.prioCount.get(rule.priority)! - 1;
    if (pc === 0) st.prioCount.delete(rule.priority); else st.prioCount.set(rule.priority, pc);
    if (st.nRules === 0) {
      this.subtables.delete(rule.match.mask.join(','));
      this.sorted = this.sorted.filter((x) => x !== st);
    } else if (pc === 0 && rule.priority === st.maxPriority) {
      st.maxPriority = Math.max(...st.prioCount.keys());
      this.resort();
    }
    return true;
  }

  private resort(): void {
    this.sorted.sort((a, b) => b.maxPriority - a.maxPriority);
  }

  /** The rule with exactly this match and priority, if any. */
  findExact(match: Match, priority: number): R | undefined {
    const st = this.subtables.get(match.mask.join(','));
    if (!st) return undefined;
    const hs = st.hashes(match.value);
    for (const r of st.buckets.get(hs[hs.length - 1]!) ?? []) {
      if (r.priority === priority && r.match.equals(match)) return r;
    }
    return undefined;
  }

  *rules(): IterableIterator<R> {
    for (const st of this.sorted) for (const b of st.buckets.values()) yield* b;
  }

  /**
   * The highest-priority rule matching `flow`, or undefined. Bits consulted are ORed into `wc`
   * when given (see the megaflow contract above).
   */
  lookup(flow: Words, wc?: Words): R | undefined {
    const scratch = wc ?? SCRATCH.fill(0);
    this.trieDone[0] = this.trieDone[1] = false;
    let best: R | undefined;
    let bestPri = -1;
    let visited = 0;
    const sorted = this.sorted;
    for (let i = 0; i < sorted.length; i++) {
      const st = sorted[i]!;
      if (bestPri >= st.maxPriority) break;
      visited++;
      const r = this.lookupSubtable(st, flow, scratch, bestPri);
      if (r !== undefined) { best = r; bestPri = r.priority; }
    }
    this.lastVisited = visited;
    return best;
  }

  /**
   * Every rule with priority > `minPriority` that matches `flow` (conjunctive matches need all
   * the clauses, not only the best rule: conj.ts). Same megaflow contract as lookup(): a probe
   * that misses at stage s un-wildcards stages 0..s; a probe that reaches the bucket, the whole
   * mask. No trie skipping here: it would only narrow `wc`, and these tables are small.
   */
  lookupAll(flow: Words, wc: Words, minPriority: number): R[] {
    const out: R[] = [];
    for (const st of this.sorted) {
      if (st.maxPriority <= minPriority) break;
      const idx = st.idxAll, m = st.maskAll, ends = st.stageEnd, n = ends.length;
      let h = 0, s = 0;
      for (let j = 0; s < n; s++) {
        for (const end = ends[s]!; j < end; j++) h = mix(h, flow[idx[j]!]! & m[j]!);
        if (s < n - 1 && !st.stageSets[s]!.has(h)) break;
      }
      st.foldMask(wc, Math.min(s + 1, n));
      if (s < n) continue;
      for (const r of st.buckets.get(h) ?? []) {
        if (r.priority > minPriority && matchesIn(st, r.match.value, flow)) out.push(r);
      }
    }
    return out;
  }

  private lookupSubtable(st: Subtable<R>, flow: Words, wc: Words, bestPri: number): R | undefined {
    const nStages = st.stageEnd.length;
    const idx = st.idxAll, m = st.maskAll, ends = st.stageEnd;
    let h = 0;
    for (let s = 0, j = 0; s < nStages; s++) {
      if (st.stageNo[s] === L3_STAGE && st.hasTrie && this.trieSkips(st, flow, wc)) {
        st.foldMask(wc, s);
        return undefined;
      }
      for (const end = ends[s]!; j < end; j++) h = mix(h, flow[idx[j]!]! & m[j]!); // int32 all the way: no boxing
      if (s < nStages - 1) {
        if (!st.stageSets[s]!.has(h)) {
          st.foldMask(wc, s + 1);
          return undefined;
        }
      }
    }
    const bucket = st.buckets.get(h);
    let match: R | undefined;
    if (bucket !== undefined) {
      // Sorted by priority, highest first: the first rule that matches is the subtable's answer.
      for (let k = 0; k < bucket.length; k++) {
        if (matchesIn(st, bucket[k]!.match.value, flow)) { match = bucket[k]; break; }
      }
    }
    if (match === undefined && st.portsPlen) {
      // No rule here: the ports trie tells how many leading port bits proved it (OVS
      // find_match_wc), so the rest of tp_src/tp_dst stays wildcarded.
      st.foldMask(wc, nStages - 1);
      const out = this.trieOut[2]!;
      st.portsTrie.lookup((portsWord(flow) & st.portsMask) >>> 0, out);
      const bits = (st.portsMask & prefixMask(out[1]!)) >>> 0;
      wc[W.TP_SRC] |= bits >>> 16;
      wc[W.TP_DST] |= bits & 0xffff;
      return undefined;
    }
    st.foldMask(wc, nStages);
    return match !== undefined && match.priority > bestPri ? match : undefined;
  }

  /** True when a trie proves `st` cannot match; the trie's bits are then in `wc`. */
  private trieSkips(st: Subtable<R>, flow: Words, wc: Words): boolean {
    for (let t = 0; t < 2; t++) {
      const plen = st.triePlen[t]!;
      if (plen <= 0) continue;
      const out = this.trieOut[t]!;
      const word = TRIE_WORDS[t]!;
      if (!this.trieDone[t]) {
        this.tries[t]!.lookup(flow[word]!, out);
        this.trieDone[t] = true;
      }
      if ((out[0]! & (1 << (plen - 1))) !== 0) continue;
      const bits = prefixMask(out[1]!);
      if (out[1]! <= plen) {
        wc[word] |= bits;
        return true;
      }
      if (((wc[word]! & bits) >>> 0) === bits) return true;
    }
    return false;
  }
}

const SCRATCH = new Uint32Array(N_WORDS);

function matchesIn<R extends ClsRule>(st: Subtable<R>, value: Words, flow: Words): boolean {
  const idx = st.idxAll, m = st.maskAll;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    if ((flow[i]! & m[j]!) !== (value[i]! | 0)) return false;
  }
  return true;
}
