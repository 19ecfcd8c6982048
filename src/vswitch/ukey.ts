/**
 * Ukey: the upcall handler's memory of one installed megaflow (OVS: struct udpif_key), kept by
 * the bridge's Udpif in a map keyed by the datapath's flow id (putFlow's return value, the same
 * string dumpFlowEntries reports).
 *
 * It holds what the translation depended on (rules to credit, MAC dependencies and the
 * generations to check staleness against, MACs to refresh on use) and the stats last seen, so
 * the revalidator pushes deltas and skips re-translating flows nothing changed under.
 */
import type { DpAction } from '../datapath/index.ts';
import type { GroupHit, LearnedFlow, MacDep, Rule } from '../ofproto/index.ts';

export interface Ukey {
  actions: DpAction[];
  rules: Rule[];
  /** The translation's table lookups, credited like the rules (table statistics). */
  lookups: number[];
  /** Flows its learn() actions build: applied again when the flow is used (OVS's xlate cache
   *  re-runs learn on each stats push), so learned flows live as long as their traffic. */
  learns: LearnedFlow[];
  /** Groups (and chosen buckets) its translation went through: credited like the rules. */
  groupHits: GroupHit[];
  macDeps: MacDep[];
  learned: { vlan: number; mac: number; port: number }[];
  generations: { pipeline: number; mac: number; ports: number };
  packets: bigint;
  bytes: bigint;
  /** CLOCK_MONOTONIC ns when the handler installed (or the revalidator adopted) the flow. */
  createdNs: bigint;
  /** Number of the last revalidation pass that saw the flow in the datapath, or, for a flow
   *  the handler installed, the latest pass started then. A pass drops the Ukeys whose number
   *  is below its own and that it did not see: their flows are gone. */
  seen: number;
}

/** A Ukey for a flow found in the datapath that this process did not install (a restart, or
 *  dpctl): nothing is known of its translation, so its generations never match and the first
 *  pass re-translates it; its current stats are the baseline. */
export function adoptedUkey(actions: DpAction[], stats: { packets: bigint; bytes: bigint }, nowNs: bigint, pass: number): Ukey {
  return {
    actions, rules: [], lookups: [], learns: [], groupHits: [], macDeps: [], learned: [], generations: { pipeline: -1, mac: -1, ports: -1 },
    packets: stats.packets, bytes: stats.bytes, createdNs: nowNs, seen: pass,
  };
}
