/**
 * All or nothing over a Pipeline: the atomic commit of an OpenFlow bundle (OpenFlow 1.4
 * §6.8.1). OVS gets it from versioned classifiers and a revert stage (ofproto.c
 * do_bundle_commit); bvs's tables have no versions, so undoable() applies the changes in order
 * as they come and, when one fails, undoes those already made, newest first, from the
 * Pipeline's own account of them (TableChange: what each add replaced, each modify's old
 * actions and cookie, each removal's learned flows).
 *
 * Invariants:
 *   - While `fn` runs, the pipeline's other observers (flow monitors) hear nothing; the changes
 *     are kept. If `fn` returns, they hear every kept change, in order; if it throws, none.
 *   - An undo restores the very Rule objects (counters, ages, learned links), so a failed
 *     bundle leaves the tables as they were, and `generation` moves on (megaflows built from
 *     the intermediate state, if any, are stale).
 *   - `fn` must be synchronous: nothing else may change the tables while it runs. Side
 *     effects outside the tables (flow-removed, revalidation) are the caller's to hold back
 *     until `fn` has returned (BridgeRuntime.atomically does).
 *
 * Nesting composes: an inner undoable's kept changes reach the outer one as ordinary changes.
 */
import { isConjunctive } from './conj.ts';
import type { Pipeline, Rule, TableChange } from './table.ts';

export function undoable<T>(pl: Pipeline, fn: () => T): T {
  const others = [...pl.observers];
  const kept: TableChange[] = [];
  pl.observers.clear();
  pl.observers.add((c) => kept.push(c));
  let value: T;
  try {
    value = fn();
  } catch (err) {
    restoreObservers(pl, others);
    undo(pl, kept);
    throw err;
  }
  restoreObservers(pl, others);
  for (const c of kept) for (const o of others) o(c);
  return value;
}

function restoreObservers(pl: Pipeline, others: readonly ((c: TableChange) => void)[]): void {
  pl.observers.clear();
  for (const o of others) pl.observers.add(o);
}

const take = (pl: Pipeline, r: Rule): boolean =>
  (pl.tables.get(r.table)?.remove(r) || pl.softTables.get(r.table)?.remove(r)) ?? false;
const put = (pl: Pipeline, r: Rule): void => pl.table(r.table, isConjunctive(r.actions)).insert(r);

function undo(pl: Pipeline, kept: readonly TableChange[]): void {
  for (let i = kept.length - 1; i >= 0; i--) {
    const c = kept[i]!;
    switch (c.kind) {
      case 'added':
        take(pl, c.rule);
        for (const r of c.replaced) put(pl, r);
        break;
      case 'modified': {
        // A modify may have moved the rule between the ordinary and conjunctive classifiers.
        const moved = take(pl, c.rule);
        c.rule.actions = c.old.actions;
        c.rule.cookie = c.old.cookie;
        if (moved) put(pl, c.rule);
        break;
      }
      case 'removed':
        put(pl, c.rule);
        for (const l of c.learned) pl.addLearned(c.rule, l);
        break;
    }
  }
  if (kept.length > 0) pl.generation++;
}
