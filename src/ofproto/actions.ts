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
  | {
    type: 'controller'; maxLen: number; reason: PacketInReason; id: number; spelling: 'short' | 'long';
    /** Bytes handed to the controller with the packet-in (NXAC2PT_USERDATA); absent when none. */
    userdata?: Uint8Array;
    /** NXAC2PT_PAUSE: the translation stops here until the controller resumes it (freeze.ts). */
    pause?: boolean;
  }
  | { type: 'set_field'; field: FieldDef; value: bigint; mask?: bigint; spelling: string }
  | { type: 'load'; dst: SubField; value: bigint }
  | { type: 'move'; src: SubField; dst: SubField }
  /** On TTL expiry, packet-ins (reason invalid_ttl) go to the controllers `ids` ([0] when plain). */
  | { type: 'dec_ttl'; ids?: number[] }
  | { type: 'push_vlan'; tpid: number }
  | { type: 'pop_vlan'; spelling: 'pop_vlan' | 'strip_vlan' }
  | { type: 'mod_vlan_vid'; vid: number }
  | { type: 'mod_vlan_pcp'; pcp: number }
  | { type: 'resubmit'; port?: number; table?: number }
  | { type: 'goto_table'; table: number }
  | { type: 'group'; id: number }
  /** OpenFlow 1.3/1.4 OFPIT_METER (first in the list), 1.5 OFPAT_METER: meter id (meters.ts). */
  | { type: 'meter'; id: number }
  // ---- Nicira extensions (parse-nx.ts, format-nx.ts, xlate-nx.ts)
  /** NXAST_NOTE: no effect; `data` is already padded as OVS pads it on the wire. */
  | { type: 'note'; data: Uint8Array }
  /** NXAST_OUTPUT_REG: output to the port number held in a bit range. */
  | { type: 'output_reg'; src: SubField }
  | { type: 'stack_push'; src: SubField }
  | { type: 'stack_pop'; dst: SubField }
  | { type: 'clone'; actions: OfAction[] }
  /** OpenFlow 1.0 enqueue / set_queue: queue ids are kept and printed; the bvs datapath has no
   *  queues, so enqueue outputs to the port and set_queue does nothing (xlate-nx.ts). */
  | { type: 'enqueue'; port: number; queue: number }
  | { type: 'set_queue'; queue: number }
  /** OpenFlow 1.1+ OFPIT_WRITE_METADATA: after every apply-action, before goto_table. */
  | { type: 'write_metadata'; value: bigint; mask: bigint }
  /** Clause `clause` (1-based, as printed) of `nClauses` of conjunctive flow `id` (conj.ts). */
  | { type: 'conjunction'; id: number; clause: number; nClauses: number }
  | MultipathAction
  | BundleAction
  | LearnAction;

/** The flow fields a multipath/bundle hash covers (OVS nx_hash_fields, lib/flow.c flow_hash_fields). */
export type HashFields = 'eth_src' | 'symmetric_l4' | 'symmetric_l3l4' | 'symmetric_l3l4+udp' | 'nw_src' | 'nw_dst' | 'symmetric_l3';

export interface MultipathAction {
  type: 'multipath';
  fields: HashFields;
  basis: number;
  algorithm: 'modulo_n' | 'hash_threshold' | 'hrw' | 'iter_hash';
  /** Links are 0..maxLink (OVS's max_link = n_links - 1). */
  maxLink: number;
  arg: number;
  dst: SubField;
}

export interface BundleAction {
  type: 'bundle';
  fields: HashFields;
  basis: number;
  algorithm: 'hrw' | 'active_backup';
  members: number[];
  /** bundle_load: the chosen member's port number is loaded here instead of output. */
  dst?: SubField;
}

/** One flow_mod_spec of learn(): a match, a load or an output built from the packet. */
export type LearnSpec =
  | { kind: 'match'; dst: SubField; src?: SubField; value?: bigint }
  | { kind: 'load'; dst: SubField; src?: SubField; value?: bigint }
  | { kind: 'output'; src: SubField };

export interface LearnAction {
  type: 'learn';
  table: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  finIdleTimeout: number;
  finHardTimeout: number;
  cookie: bigint;
  /** NX_LEARN_F_SEND_FLOW_REM / NX_LEARN_F_DELETE_LEARNED */
  sendFlowRem: boolean;
  deleteLearned: boolean;
  specs: LearnSpec[];
}

/** How many resubmits/goto_tables deep a translation may go before it is dropped (OVS: 64). */
export const MAX_RESUBMIT_DEPTH = 64;
/** Total resubmits per translation (OVS MAX_RESUBMITS), against exponential fan-out. */
export const MAX_RESUBMITS = 4096;
