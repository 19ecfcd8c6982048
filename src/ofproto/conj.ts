/**
 * Conjunctive matches (ovs-fields(7) "Conjunctive Match Fields", after OVS lib/classifier.c).
 *
 * A flow whose actions are conjunction(id,k/n) (and nothing else but notes) is not a match by
 * itself: it is clause k of the n-clause conjunction `id`. A packet matches conjunction `id` at
 * priority P when, for every clause 1..n, some flow of that clause with priority P matches it.
 * The table then looks the packet up again with conj_id = id, among the ordinary flows only,
 * and that lookup's answer is the result (typically a flow matching `conj_id=id`).
 *
 * The order, as in OVS classifier_lookup__:
 *   1. hard = the best ordinary flow for the packet;
 *   2. soft = every conjunctive flow matching the packet with priority > hard's;
 *   3. from the highest soft priority down: for each conjunction complete at that priority
 *      (lowest id first, so the choice is deterministic), look up with conj_id = id; the first
 *      lookup that finds a flow gives the result;
 *   4. otherwise hard.
 * A conjunctive flow only ever contributes its match: its actions never run.
 *
 * Megaflow: both lookups and the soft scan OR what they consulted into `wc` (classifier.ts
 * contract); conj_id is pipeline state and never reaches the datapath mask.
 */
import type { OfAction } from './actions.ts';
import type { Classifier, ClsRule } from './classifier.ts';
import { W, type Words } from './flow.ts';

/** Whether `actions` make a flow conjunctive: conjunction actions, and notes, only. */
export function isConjunctive(actions: readonly OfAction[]): boolean {
  return actions.some((a) => a.type === 'conjunction') && actions.every((a) => a.type === 'conjunction' || a.type === 'note');
}

interface ConjRule extends ClsRule {
  readonly actions: readonly OfAction[];
}

/** The flow a packet gets from a table split into ordinary (`hard`) and conjunctive (`soft`) flows. */
export function conjLookup<R extends ConjRule>(hard: Classifier<R> | undefined, soft: Classifier<R> | undefined, flow: Words, wc: Words): R | undefined {
  const best = hard?.lookup(flow, wc);
  if (!soft || soft.size === 0) return best;
  const softs = soft.lookupAll(flow, wc, best?.priority ?? -1);
  if (softs.length === 0) return best;
  const byPriority = new Map<number, R[]>();
  for (const r of softs) {
    const list = byPriority.get(r.priority);
    if (list) list.push(r); else byPriority.set(r.priority, [r]);
  }
  for (const p of [...byPriority.keys()].sort((a, b) => b - a)) {
    // id -> [n, bitmap of the clauses seen]; a flow may name several conjunctions.
    const seen = new Map<number, [number, bigint]>();
    for (const r of byPriority.get(p)!) {
      for (const a of r.actions) {
        if (a.type !== 'conjunction') continue;
        const e = seen.get(a.id);
        // Flows that disagree on n for one id cannot complete it together (OVS ignores them too).
        if (e && e[0] !== a.nClauses) continue;
        seen.set(a.id, [a.nClauses, (e?.[1] ?? 0n) | (1n << BigInt(a.clause - 1))]);
      }
    }
    const complete = [...seen].filter(([, [n, bits]]) => bits === (1n << BigInt(n)) - 1n).map(([id]) => id).sort((a, b) => a - b);
    for (const id of complete) {
      const saved = flow[W.CONJ_ID]!;
      flow[W.CONJ_ID] = id;
      const r = hard?.lookup(flow, wc);
      flow[W.CONJ_ID] = saved;
      if (r) return r;
    }
  }
  return best;
}
