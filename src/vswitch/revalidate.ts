/**
 * Revalidation (after OVS ofproto-dpif-upcall.c, the revalidator side): one pass dumps the
 * datapath's megaflows and decides, for each, whether it may stay.
 *
 * A flow is deleted when:
 *   - it is idle: not hit for max-idle (usedNs against CLOCK_MONOTONIC, the clock of
 *     bpf_ktime_get_ns; a flow never hit counts from its install);
 *   - it is stale: re-translating its key without side effects gives other actions, fails, or
 *     needs a narrower megaflow than the one installed. A flow whose Ukey says nothing it
 *     depended on changed (isStale: pipeline, port and MAC generations) is kept without
 *     re-translation, which keeps a pass over many flows cheap when nothing changed;
 *   - the flow limit is exceeded: the least recently used flows go first, and a flow-limit
 *     event is published (at most once a second).
 * Statistics: the packets/bytes each flow gained since the last pass are credited to the
 * OpenFlow rules it came from (Pipeline.credit, which also refreshes their idle timers), and a
 * used flow refreshes the MAC entries its translation learned (never moving one: a flow from a
 * MAC's old port must not undo a move), counts its table lookups, and runs its learn() actions
 * again (refreshing, or re-adding, the flows they learn, as OVS's xlate cache does). Then OpenFlow idle/hard timeouts and MAC aging are
 * applied; if that changed anything, the surviving flows are checked again in the same pass,
 * so an expired rule stops matching traffic at once.
 *
 * Cost: a pass reads each flow's id and stats only (Datapath.dumpFlowEntries, about 1 µs a
 * flow); key, mask and actions are decoded only for flows adopted, re-translated or deleted.
 *
 * Time slicing: the handler runs on the same JS thread, so a pass over many flows would stall
 * every new flow's first packet for its whole duration. revalidateSliced() yields to the event
 * loop after each chunk of the dump (1024 flows, a few ms), so upcalls are handled in between.
 * What may interleave, and why it is safe: the handler installs flows (their Ukeys are stamped
 * with the latest pass number, so the end of the pass does not take them for vanished ones), a
 * synchronous pass runs (same stamping: it numbers after this one), and
 * bridge state changes (those request another pass, which the revalidator actor runs next).
 * Each flow is judged and deleted within one synchronous chunk, against one bridge state.
 * revalidate() runs the same pass without yielding (tests, callers that need it done).
 */
import { FLOW_FIELDS, type DpAction, type FlowEntry, type FlowMask, type FlowStats } from '../datapath/index.ts';
import { applyLearned, creditGroups, isStale, xlate } from '../ofproto/index.ts';
import type { Udpif } from './udpif.ts';
import { adoptedUkey, type Ukey } from './ukey.ts';

export interface PassResult {
  flows: number;
  idle: number;
  stale: number;
  limit: number;
  rulesExpired: number;
  macsExpired: number;
  durationMs: number;
}

/** One pass, without yielding (tests; callers that must see it done). */
export function revalidate(rt: Udpif): PassResult {
  const g = pass(rt);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** One pass, yielding to the event loop between dump chunks; stops early when aborted. */
export async function revalidateSliced(rt: Udpif, signal?: AbortSignal): Promise<PassResult> {
  const g = pass(rt);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  }
}

const CHUNK = 1024;

function* pass(rt: Udpif): Generator<void, PassResult> {
  const t0 = rt.clock.monotonicNs();
  const pass = ++rt.passStarted;
  const installed0 = rt.handler.flowsInstalled;
  const br = rt.ofproto;
  const st = rt.revalidator;
  const nowNs = t0;
  const nowMs = br.now();
  const maxIdleNs = BigInt(Math.max(0, Math.floor(rt.maxIdleMs))) * 1_000_000n;
  const res: PassResult = { flows: 0, idle: 0, stale: 0, limit: 0, rulesExpired: 0, macsExpired: 0, durationMs: 0 };
  const keep: { e: FlowEntry; uk: Ukey; usedNs: bigint }[] = [];

  const remove = (e: FlowEntry): void => {
    const f = e.flow();
    try { rt.datapath.delFlow(f.key, f.mask); } catch { /* already gone */ }
    rt.ukeys.delete(e.id);
    st.flowsRemoved++;
  };

  /**
   * Judges one dumped flow: delete it (idle, stale) or keep it for the limit check. Only id
   * and stats are read for a flow whose Ukey is current; key and actions are decoded when the
   * flow is adopted, re-translated or deleted.
   */
  const judge = (e: FlowEntry): void => {
    let uk = rt.ukeys.get(e.id);
    if (!uk) {
      // Installed before this process (restart) or by someone else: adopt it with its current
      // stats as the baseline (they were credited to rules of another life, if any).
      uk = adoptedUkey(e.flow().actions, e.stats, nowNs, pass);
      rt.ukeys.set(e.id, uk);
    }
    uk.seen = pass;
    pushStats(rt, e.stats, uk, nowNs, nowMs);
    const usedNs = e.stats.usedNs > 0n ? e.stats.usedNs : uk.createdNs;
    if (nowNs > usedNs && nowNs - usedNs > maxIdleNs) {
      res.idle++; st.removedIdle++;
      remove(e);
      return;
    }
    if (!stillValid(rt, e, uk)) {
      res.stale++; st.removedStale++;
      remove(e);
      return;
    }
    keep.push({ e, uk, usedNs });
  };

  for (const chunk of rt.datapath.dumpFlowEntries(CHUNK)) {
    for (const e of chunk) judge(e);
    yield;
  }

  // OpenFlow timeouts and MAC aging, after the stats push refreshed what was used.
  const expired = br.pipeline.expire(nowMs);
  res.rulesExpired = expired.length;
  for (const r of expired) rt.removedRules.push(r);
  if (expired.length > 0) rt.sinks.rulesRemoved?.(expired);
  if (rt.removedRules.length > 1024) rt.removedRules.splice(0, rt.removedRules.length - 1024);
  res.macsExpired = br.mac.expire(nowMs).length;
  let live = keep;
  if (res.rulesExpired > 0 || res.macsExpired > 0) {
    live = [];
    for (const k of keep) {
      if (stillValid(rt, k.e, k.uk)) live.push(k);
      else { res.stale++; st.removedStale++; remove(k.e); }
    }
  }

  // Flow limit: drop the least recently used flows beyond it.
  if (live.length > rt.flowLimit) {
    live.sort((a, b) => (a.usedNs < b.usedNs ? -1 : a.usedNs > b.usedNs ? 1 : 0));
    const n = live.length - rt.flowLimit;
    for (let i = 0; i < n; i++) remove(live[i]!.e);
    res.limit = n; st.removedLimit += n;
    const count = live.length;
    rt.limitHit('flow-limit', 'revalidator_flow_limit_del', n, count, rt.flowLimit);
    live = live.slice(n);
    if (rt.flowLimitEvents.now()) {
      st.limitEvents++;
      try {
        rt.publish('flow-limit', { datapath: `bvs@${rt.datapath.name}`, bridge: rt.name, limit: rt.flowLimit, count });
      } catch { /* publishing is best effort */ }
    }
  }

  // A Ukey the dump did not show has no flow any more (deleted by dpctl, or a flush). Ukeys
  // stamped by a later pass (a synchronous one run while this one was suspended) or by the
  // handler meanwhile carry a number >= this pass's and stay.
  for (const [id, uk] of rt.ukeys) if (uk.seen < pass) rt.ukeys.delete(id);

  res.flows = live.length;
  // Flows the handler installed while the pass was suspended may be missing from `live`.
  rt.flowCount = live.length + (rt.handler.flowsInstalled - installed0);
  res.durationMs = Number(rt.clock.monotonicNs() - t0) / 1e6;
  st.dumps++;
  st.lastDumpMs = Math.round(res.durationMs * 1000) / 1000;
  st.lastFlows = live.length;
  st.avgFlows = st.dumps === 1 ? live.length : (st.avgFlows * 7 + live.length) / 8;
  if (live.length > st.maxFlows) st.maxFlows = live.length;
  rt.passEnded(pass);
  return res;
}

/** Credits the stats a flow gained since the last look to its rules (and MACs when used). */
function pushStats(rt: Udpif, stats: FlowStats, uk: Ukey, nowNs: bigint, nowMs: number): void {
  const dp = stats.packets - uk.packets;
  const db = stats.bytes - uk.bytes;
  if (dp <= 0n) return;
  uk.packets = stats.packets;
  uk.bytes = stats.bytes;
  const usedMs = stats.usedNs > 0n && nowNs > stats.usedNs ? nowMs - Number(nowNs - stats.usedNs) / 1e6 : nowMs;
  for (const r of uk.rules) rt.ofproto.pipeline.credit(r, Number(dp), Number(db), usedMs);
  rt.ofproto.pipeline.creditLookups(uk.lookups, Number(dp));
  if (uk.learns.length > 0) applyLearned(rt.ofproto.pipeline, uk.learns, usedMs);
  creditGroups(uk.groupHits, Number(dp), Number(db));
  const mac = rt.ofproto.mac;
  for (const l of uk.learned) {
    const cur = mac.lookup(l.vlan, l.mac, nowMs);
    if (cur === undefined || cur === l.port) mac.learn(l.vlan, l.mac, l.port, usedMs);
  }
}

/**
 * Whether an installed flow still holds for the bridge's current state. Updates the Ukey
 * (rules, deps, generations) after a successful re-translation.
 */
function stillValid(rt: Udpif, e: FlowEntry, uk: Ukey): boolean {
  if (!isStale(rt.ofproto, uk)) return true;
  const f = e.flow();
  const r = xlate(rt.ofproto, f.key, { sideEffects: false });
  if (r.error !== undefined || !actionsEqual(r.actions, f.actions) || !maskWithin(r.megaflow.mask, f.mask)) return false;
  uk.actions = r.actions;
  uk.rules = r.rules;
  uk.lookups = r.lookups;
  uk.learns = r.learns;
  uk.groupHits = r.groupHits;
  uk.macDeps = r.macDeps;
  uk.generations = r.generations;
  return true;
}

/** True when every bit `need` un-wildcards is un-wildcarded in `have` (the flow is not too wide). */
export function maskWithin(need: FlowMask, have: FlowMask): boolean {
  for (const k of FLOW_FIELDS) {
    const n = need[k], h = have[k];
    if (typeof n === 'bigint') {
      if ((n & ~(h as bigint)) !== 0n) return false;
    } else if (n !== 0) {
      const hn = h as number;
      // 48-bit fields: compare both halves (JS bit operators are 32-bit).
      const nHi = Math.floor(n / 2 ** 32), hHi = Math.floor(hn / 2 ** 32);
      if (((nHi & ~hHi) !== 0) || (((n >>> 0) & ~(hn >>> 0)) >>> 0) !== 0) return false;
    }
  }
  return true;
}

export function actionsEqual(a: readonly DpAction[], b: readonly DpAction[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Record<string, unknown>, y = b[i] as Record<string, unknown>;
    if (x.type !== y.type) return false;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      // An absent optional field and an undefined one are the same action.
      if (x[k] !== y[k] && !(k === 'cookie' && (x[k] ?? 0n) === (y[k] ?? 0n))) return false;
    }
  }
  return true;
}
