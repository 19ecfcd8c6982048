/**
 * Table stats and table features: what a bridge tells OpenFlow about its 254 tables. ovs-ofctl
 * asks for table features before most commands in OpenFlow 1.3+ (it maps table names), and
 * OpenFlow 1.3/1.4 decoders require the eight properties below, so every table carries them:
 * the instructions and actions bvs executes (apply-actions only: no action sets yet), the
 * tables a goto_table may name (only later ones), and the OXM fields bvs matches and sets
 * (src/openflow/oxm.ts, the fields with a bvs definition).
 */
import type { Pipeline } from '../ofproto/index.ts';
import { OXM_CLASS, OXM_FIELDS, OFPTFPT, type TableFeatures, type TableStats } from '../openflow/index.ts';

export const N_TABLES = 254;
const MAX_ENTRIES = 1_000_000;

const OFPIT = { GOTO_TABLE: 1, WRITE_METADATA: 2, APPLY_ACTIONS: 4 } as const;
/** OpenFlow 1.3 action types bvs runs: output, push/pop vlan, group, dec_nw_ttl, set_field. */
const APPLY_ACTIONS = [0, 17, 18, 22, 24, 25];

const tableName = (id: number): string => (id === 0 ? 'classifier' : `table${id}`);

/** OXM headers of the OpenFlow-basic fields bvs supports (matchable), and those it can set. */
function oxmHeaders(): { match: number[]; set: number[] } {
  const match: number[] = [], set: number[] = [];
  for (const f of OXM_FIELDS) {
    if (f.def === undefined || f.cls !== OXM_CLASS.OPENFLOW_BASIC || f.len === 0) continue;
    const h = ((f.cls << 16) | (f.field << 9) | f.len) >>> 0;
    match.push(h);
    if (f.def.writable) set.push(h);
  }
  return { match, set };
}

let cachedOxms: { match: number[]; set: number[] } | undefined;

export function tableFeatures(): TableFeatures[] {
  const oxms = (cachedOxms ??= oxmHeaders());
  const out: TableFeatures[] = [];
  for (let id = 0; id < N_TABLES; id++) {
    const next = Array.from({ length: N_TABLES - id - 1 }, (_, i) => id + 1 + i);
    const instructions = id === N_TABLES - 1 ? [OFPIT.WRITE_METADATA, OFPIT.APPLY_ACTIONS] : [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.APPLY_ACTIONS];
    out.push({
      tableId: id, name: tableName(id), metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn,
      capabilities: 0, maxEntries: MAX_ENTRIES, command: 0, features: 0,
      props: [
        { type: OFPTFPT.INSTRUCTIONS, ids: instructions },
        { type: OFPTFPT.NEXT_TABLES, ids: next },
        { type: OFPTFPT.WRITE_ACTIONS, ids: [] },
        { type: OFPTFPT.APPLY_ACTIONS, ids: APPLY_ACTIONS },
        { type: OFPTFPT.MATCH, ids: oxms.match },
        { type: OFPTFPT.WILDCARDS, ids: oxms.match },
        { type: OFPTFPT.WRITE_SETFIELD, ids: [] },
        { type: OFPTFPT.APPLY_SETFIELD, ids: oxms.set },
      ],
    });
  }
  return out;
}

export function tableStats(pipeline: Pipeline): TableStats[] {
  const out: TableStats[] = [];
  for (let id = 0; id < N_TABLES; id++) {
    out.push({
      tableId: id, activeCount: pipeline.allRules(id).length,
      lookupCount: BigInt(pipeline.lookupCounts[id]!), matchedCount: BigInt(pipeline.matchedCounts[id]!),
      name: tableName(id), wildcards: 0x3fffff, maxEntries: MAX_ENTRIES,
    });
  }
  return out;
}
