/**
 * Executing learn() (after OVS ofproto-dpif-xlate.c xlate_learn_action and lib/learn.c
 * learn_execute): the specs build a flow from the packet being translated, and the flow is
 * added to its table, or, when the same match and priority are already there with the same
 * actions, refreshed (its idle and hard timers start over, counters stay).
 *
 * When: the flow mods are collected during the translation (XlateResult.learns)
 * and applied at its end, only with side effects on (a real upcall; never in trace), so the
 * tables do not change under a translation. The translation's generations are taken before,
 * so a learn that changes a table makes its own megaflow stale once (revalidated, as OVS's
 * learned flows do through the revalidator).
 *
 * Megaflow: every packet bit a spec reads is un-wildcarded (readSubField), so all packets of
 * the megaflow would learn the same flow.
 *
 * Not done as OVS: fin_idle_timeout/fin_hard_timeout are kept and printed but not applied (no
 * TCP FIN tracking). delete_learned: the learned flows go when the learning flow is removed
 * (Pipeline.removeRule), without flow-removed events of their own.
 * A packet handled by the datapath's megaflow does not re-run learn (OVS re-executes it from
 * the revalidator's statistics push; that needs the revalidator (src/vswitch) to call
 * applyLearned with the flow mods it keeps, which it does not yet).
 */
import type { LearnAction, OfAction } from './actions.ts';
import { formatFlow } from './format.ts';
import { Match } from './match.ts';
import type { FlowMod } from './parse.ts';
import type { Pipeline, Rule } from './table.ts';
import { readSubField, type LearnedFlow, type XlateCtx } from './xlate-ctx.ts';

export function xlateLearn(ctx: XlateCtx, a: LearnAction, rule: Rule | undefined): void {
  const match = new Match();
  const actions: OfAction[] = [];
  for (const s of a.specs) {
    switch (s.kind) {
      case 'match': {
        const v = s.src ? readSubField(ctx, s.src) : s.value!;
        const m = (1n << BigInt(s.dst.nBits)) - 1n;
        match.setMasked(s.dst.field, (v & m) << BigInt(s.dst.ofs), m << BigInt(s.dst.ofs));
        break;
      }
      case 'load':
        actions.push({ type: 'load', dst: s.dst, value: s.src ? readSubField(ctx, s.src) : s.value! });
        break;
      case 'output':
        actions.push({ type: 'output', port: Number(readSubField(ctx, s.src) & 0xffffn) });
        break;
    }
  }
  const fm: FlowMod = {
    table: a.table, priority: a.priority, cookie: a.cookie, cookieMask: 0n, match, actions, hasActions: true,
    idleTimeout: a.idleTimeout, hardTimeout: a.hardTimeout, sendFlowRem: a.sendFlowRem, outPort: undefined,
  };
  ctx.learns.push(a.deleteLearned && rule ? { fm, owner: rule } : { fm });
  ctx.note(`learn: table=${a.table} ${formatFlow({ ...fm, table: 0 })}`);
}

/** Adds or refreshes each learned flow; returns how many were new or changed. */
export function applyLearned(pipeline: Pipeline, learns: readonly LearnedFlow[], now: number): number {
  let changed = 0;
  for (const { fm, owner } of learns) {
    const old = pipeline.table(fm.table ?? 0).findExact(fm.match, fm.priority);
    if (old && old.cookie === fm.cookie && old.idleTimeout === fm.idleTimeout && old.hardTimeout === fm.hardTimeout
      && JSON.stringify(old.actions, big) === JSON.stringify(fm.actions, big)) {
      old.used = now;
      old.created = now;
      continue;
    }
    const added = pipeline.add(fm);
    if (owner) pipeline.addLearned(owner, added);
    changed++;
  }
  return changed;
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
