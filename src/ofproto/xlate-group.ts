/**
 * The group action in translation (OVS xlate_group_action): `all` runs every bucket and
 * `indirect` its one bucket, each on its own copy of the flow (OpenFlow 1.3 §5.6.1: each bucket
 * processes a clone of the packet); `select` runs the bucket selectBucket picks among the live
 * ones, `ff` the first live bucket (groups.ts says what live means). Header changes a bucket
 * made are committed before its outputs; the flow is restored after each bucket.
 *
 * What it reads: the select hash un-wildcards the fields it hashes; liveness reads only bridge
 * state (ports' link state, other groups), covered by the generations isStale compares, so it
 * adds nothing to the megaflow. Each group run is recorded in ctx.groupHits for its counters.
 */
import { MAX_RESUBMIT_DEPTH, type OfAction } from './actions.ts';
import { formatAction } from './format.ts';
import { firstLiveBucket, selectBucket, type Bucket, type Liveness } from './groups.ts';
import type { XlateCtx } from './xlate-ctx.ts';

export function xlateGroup(ctx: XlateCtx, id: number, run: (actions: readonly OfAction[]) => void): void {
  const g = ctx.bridge.pipeline.groups.get(id);
  if (!g) { ctx.note(`group:${id}: no such group, skipped`); return; }
  if (ctx.depth >= MAX_RESUBMIT_DEPTH) { ctx.fail(`over max translation depth ${MAX_RESUBMIT_DEPTH}`); return; }
  const live: Liveness = { portLive: (p) => ctx.bridge.isPortLive(p), group: (gid) => ctx.bridge.pipeline.groups.get(gid) };
  let buckets: Bucket[];
  let chosen: Bucket | undefined;
  if (g.type === 'all' || g.type === 'indirect') buckets = g.buckets;
  else {
    chosen = g.type === 'select' ? selectBucket(g, ctx.flow, ctx.wc, live) : firstLiveBucket(live, g);
    if (!chosen) { ctx.note(`group:${id} (${g.type}): no live bucket`); return; }
    buckets = [chosen];
  }
  ctx.groupHits.push({ group: g, bucket: chosen });
  for (const b of buckets) {
    ctx.note(`group:${id} (${g.type}): bucket ${b.id}: ${b.actions.length ? b.actions.map(formatAction).join(',') : 'drop'}`);
    const saved = ctx.flow.slice();
    const tpid = ctx.pushTpid;
    ctx.depth++;
    run(b.actions);
    ctx.depth--;
    ctx.flow.set(saved);
    ctx.pushTpid = tpid;
    if (ctx.error !== undefined) return;
  }
}
