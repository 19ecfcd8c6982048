/**
 * OpenFlow actions as bvs holds them (OVS's ofpacts, reduced). Parsed by parse-actions.ts,
 * printed by format.ts, executed by xlate.ts. `spelling` keeps the name the user wrote where OVS
 * has synonyms (strip_vlan/pop_vlan, mod_nw_src/set_field), so a flow prints back as written.
 */
import type { FieldDef } from './fields.ts';

/** A bit range of a field: NXM_NX_REG0[0..15] is { field: reg0, ofs: 0, nBits: 16 }. */
export interface SubField {
  field: FieldDef;
  ofs: number;
  nBits: number;
}

/** Why a packet went to the controller (OpenFlow 1.3 §7.4.1 ofp_packet_in_reason). */
export const PACKET_IN_REASON = { no_match: 0, action: 1, invalid_ttl: 2 } as const;
export type PacketInReason = keyof typeof PACKET_IN_REASON;

export type OfAction =
  | { type: 'output'; port: number; maxLen?: number }
  | { type: 'controller'; maxLen: number; reason: PacketInReason; id: number; spelling: 'short' | 'long' }
  | { type: 'set_field'; field: FieldDef; value: bigint; mask?: bigint; spelling: string }
  | { type: 'load'; dst: SubField; value: bigint }
  | { type: 'move'; src: SubField; dst: SubField }
  | { type: 'dec_ttl' }
  | { type: 'push_vlan'; tpid: number }
  | { type: 'pop_vlan'; spelling: 'pop_vlan' | 'strip_vlan' }
  | { type: 'mod_vlan_vid'; vid: number }
  | { type: 'mod_vlan_pcp'; pcp: number }
  | { type: 'resubmit'; port?: number; table?: number }
  | { type: 'goto_table'; table: number }
  | { type: 'group'; id: number };

/** How many resubmits/goto_tables deep a translation may go before it is dropped (OVS: 64). */
export const MAX_RESUBMIT_DEPTH = 64;
/** Total resubmits per translation (OVS MAX_RESUBMITS), against exponential fan-out. */
export const MAX_RESUBMITS = 4096;
