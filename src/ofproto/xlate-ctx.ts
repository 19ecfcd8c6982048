/**
 * Translation state and the commit of header changes to datapath actions (OVS
 * odp-util.c commit_odp_actions, reduced to what the bvs datapath can do).
 *
 * `flow` is the packet as the pipeline sees it now (actions modify it); `base` is the packet as
 * the datapath will have it after the actions emitted so far. Before each output or userspace
 * action, commit() emits set_eth / pop_vlan+push_vlan / set_ipv4 / set_tcp / set_udp for the
 * fields where flow and base differ, in that order, and makes base equal to flow. Header bits
 * that decided what commit emitted are un-wildcarded (a pop reads the whole old tag; L4 sets
 * read nw_proto), so every packet of the megaflow commits identically.
 *
 * Changes the datapath cannot express (IPv6, ARP, ICMP fields, nested VLANs) make the
 * translation fail with an XlateError note; the caller then installs a drop, as OVS does for
 * translations it cannot execute in the datapath.
 */
import { VLAN_CFI, type DpAction } from '../datapath/index.ts';
import { ETH, N_WORDS, PROTO, W, newWords, type Words } from './flow.ts';
import type { Bridge } from './bridge.ts';
import type { MacDep } from './mac-learning.ts';
import type { Rule } from './table.ts';
import type { GroupHit } from './groups.ts';
import type { SubField } from './actions.ts';
import { getField, orFieldMask, setFieldMasked } from './fields.ts';
import type { FlowMod } from './parse.ts';
import type { Freezing, FrozenState } from './freeze.ts';

/** A flow learn() built; `owner` is the learning rule when the flow goes with it (delete_learned). */
export interface LearnedFlow {
  fm: FlowMod;
  owner?: Rule;
}

export class XlateError extends Error {
  override name = 'XlateError';
}

export interface TraceStep {
  depth: number;
  table: number;
  /** The rule matched, printed as ovs-ofctl prints a match; undefined on a miss. */
  rule?: { priority: number; cookie: string; match: string };
  actions: string[];
  notes: string[];
}

export interface PacketInEvent {
  reason: 'no_match' | 'action' | 'invalid_ttl';
  table: number;
  cookie: bigint;
  controllerId: number;
  maxLen: number;
  /** The flow as modified by the actions so far, with metadata and registers. */
  flow: Words;
  userspaceCookie: bigint;
  /** controller(userdata=...): given to the controller with the packet (NXPINT_USERDATA). */
  userdata?: Uint8Array;
  /** controller(pause): the translation stopped here; `frozen` is what NXT_RESUME finishes (freeze.ts). */
  pause?: boolean;
  frozen?: FrozenState;
  /** A miss in table 0 with no flow (Bridge.missToController), not a controller action. */
  miss?: boolean;
  /** The controller action of a table-miss flow (priority 0, matching everything): OpenFlow
   *  1.3+ reports it as no_match, as OVS does (OFPR_EXPLICIT_MISS). */
  explicitMiss?: boolean;
}

export interface XlateOptions {
  /** Learn MAC addresses and emit packet-ins (true for real upcalls, false for trace). */
  sideEffects?: boolean;
  /** Record per-table steps. */
  trace?: boolean;
  /** Called for each controller action when sideEffects is on. */
  onPacketIn?: (ev: PacketInEvent) => void;
  /** Netlink-style pid put into userspace actions; 0 by default. */
  upcallPid?: number;
  now?: number;
}

const VLAN_PUSH_DEFAULT_TPID = 0x8100;

export class XlateCtx {
  readonly base: Words;
  readonly wc: Words;
  readonly actions: DpAction[] = [];
  readonly rules: Rule[] = [];
  readonly groupHits: GroupHit[] = [];
  readonly macDeps: MacDep[] = [];
  readonly learned: { vlan: number; mac: number; port: number }[] = [];
  readonly steps: TraceStep[] = [];
  readonly packetIns: PacketInEvent[] = [];
  /** Each table lookup, in order: the table id, | LOOKUP_MATCHED (table.ts) when a rule matched. */
  readonly lookups: number[] = [];
  /** Flows learn() built, applied at the end of the translation (xlate-learn.ts). */
  readonly learns: LearnedFlow[] = [];
  /** The NX stack of push/pop (values of the pushed bits, low-aligned). */
  readonly stack: bigint[] = [];
  depth = 0;
  resubmits = 0;
  error: string | undefined;
  pushTpid = VLAN_PUSH_DEFAULT_TPID;
  step: TraceStep | undefined;
  readonly now: number;
  /** A controller(pause) is unwinding the translation (freeze.ts); doActions stops while set. */
  freezing: Freezing | undefined;
  /** The cookie of actions that run without their rule: a resumed frame's (xlateResume). */
  frameCookie: bigint | undefined;
  /** The datapath port the packet came in on (kept in a frozen state, to execute it again). */
  dpInPort = 0;

  /** `wc` and `base`, when given, are fresh arrays (xlate carves flow, wc and base out of one
   *  allocation: three typed arrays' backing stores were a quarter of a translation's cost). */
  constructor(readonly bridge: Bridge, readonly flow: Words, readonly opts: XlateOptions, wc?: Words, base?: Words) {
    this.wc = wc ?? newWords();
    if (base) base.set(flow);
    this.base = base ?? flow.slice();
    this.now = opts.now ?? bridge.now();
  }

  note(s: string): void {
    if (this.opts.trace && this.step) this.step.notes.push(s);
  }

  fail(msg: string): void {
    if (this.error === undefined) this.error = msg;
    this.note(`error: ${msg}`);
  }

  /** Emits datapath actions for every header change since the last commit. */
  commit(): boolean {
    const f = this.flow, b = this.base, wc = this.wc;
    if (f[W.DL_SRC] !== b[W.DL_SRC] || f[W.DL_SRC + 1] !== b[W.DL_SRC + 1]
      || f[W.DL_DST] !== b[W.DL_DST] || f[W.DL_DST + 1] !== b[W.DL_DST + 1]) {
      const a: Extract<DpAction, { type: 'set_eth' }> = { type: 'set_eth' };
      if (f[W.DL_SRC] !== b[W.DL_SRC] || f[W.DL_SRC + 1] !== b[W.DL_SRC + 1]) a.src = f[W.DL_SRC]! * 2 ** 32 + f[W.DL_SRC + 1]!;
      if (f[W.DL_DST] !== b[W.DL_DST] || f[W.DL_DST + 1] !== b[W.DL_DST + 1]) a.dst = f[W.DL_DST]! * 2 ** 32 + f[W.DL_DST + 1]!;
      this.actions.push(a);
    }
    if (f[W.VLAN_TCI] !== b[W.VLAN_TCI]) {
      wc[W.VLAN_TCI] = 0xffff;
      if (b[W.VLAN_TCI]! & VLAN_CFI) this.actions.push({ type: 'pop_vlan' });
      if (f[W.VLAN_TCI]! & VLAN_CFI) {
        this.actions.push({ type: 'push_vlan', tpid: this.pushTpid, tci: f[W.VLAN_TCI]! & ~VLAN_CFI & 0xffff });
      }
    }
    const t = f[W.DL_TYPE]!;
    if (t === ETH.IP) {
      const a: Extract<DpAction, { type: 'set_ipv4' }> = { type: 'set_ipv4' };
      let any = false;
      if (f[W.NW_SRC] !== b[W.NW_SRC]) { a.src = f[W.NW_SRC]!; any = true; }
      if (f[W.NW_DST] !== b[W.NW_DST]) { a.dst = f[W.NW_DST]!; any = true; }
      if (f[W.NW_TOS] !== b[W.NW_TOS]) { a.tos = f[W.NW_TOS]!; any = true; wc[W.NW_TOS] = 0xff; }
      if (f[W.NW_TTL] !== b[W.NW_TTL]) { a.ttl = f[W.NW_TTL]!; any = true; }
      if (any) this.actions.push(a);
      if (f[W.TP_SRC] !== b[W.TP_SRC] || f[W.TP_DST] !== b[W.TP_DST]) {
        wc[W.NW_PROTO] = 0xff;
        const p = f[W.NW_PROTO]!;
        if (p !== PROTO.TCP && p !== PROTO.UDP) {
          this.fail(`the datapath cannot rewrite ${p === PROTO.ICMP ? 'ICMP type/code' : `L4 fields of IP protocol ${p}`}`);
          return false;
        }
        const l4: Extract<DpAction, { type: 'set_tcp' | 'set_udp' }> = { type: p === PROTO.TCP ? 'set_tcp' : 'set_udp' };
        if (f[W.TP_SRC] !== b[W.TP_SRC]) l4.src = f[W.TP_SRC]!;
        if (f[W.TP_DST] !== b[W.TP_DST]) l4.dst = f[W.TP_DST]!;
        this.actions.push(l4);
      }
    }
    for (let i: number = W.DL_TYPE; i < N_WORDS; i++) {
      if (i === W.VLAN_TCI) continue;
      if (t === ETH.IP && (i === W.NW_SRC || i === W.NW_DST || i === W.NW_TOS || i === W.NW_TTL || i === W.TP_SRC || i === W.TP_DST)) continue;
      if (f[i] !== b[i]) {
        this.fail('the datapath cannot rewrite this header field (only Ethernet, VLAN, IPv4, TCP and UDP)');
        return false;
      }
    }
    b.set(f);
    return true;
  }

  /** Commits, then outputs to OpenFlow port `ofport` (no-op with a note when unknown). */
  output(ofport: number): void {
    const dp = this.bridge.toDp(ofport);
    if (dp === undefined) {
      this.note(`output to nonexistent port ${ofport}: skipped`);
      return;
    }
    if (!this.commit()) return;
    this.actions.push({ type: 'output', port: dp });
  }
}

/**
 * Cookie of the userspace action that carries a packet to the controller (64 bits):
 *   63..56  kind, 0x01 = controller
 *   55..48  reason (0 no_match, 1 action, 2 invalid_ttl: OpenFlow 1.3 ofp_packet_in_reason)
 *   47..40  table id of the rule
 *   39..24  controller id (controller(id=N))
 *   23..8   max_len (bytes of the packet to send; 65535 = all)
 *    7..0   index of the controller action in its translation (mod 256), so that controller
 *           actions differing only in what the cookie cannot hold (userdata) get distinct
 *           cookies, and the daemon finds the right one when it re-translates
 * The rule's own OpenFlow cookie and the registers do not fit; the daemon gets them from the
 * onPacketIn callback of the translation that handled the upcall (or re-translates the packet).
 */
export const USERSPACE_KIND = { controller: 0x01 } as const;
const REASONS = ['no_match', 'action', 'invalid_ttl'] as const;

export function encodeControllerCookie(reason: PacketInEvent['reason'], table: number, controllerId: number, maxLen: number, index = 0): bigint {
  return (BigInt(USERSPACE_KIND.controller) << 56n) | (BigInt(REASONS.indexOf(reason)) << 48n)
    | (BigInt(table & 0xff) << 40n) | (BigInt(controllerId & 0xffff) << 24n) | (BigInt(maxLen & 0xffff) << 8n) | BigInt(index & 0xff);
}

export function decodeControllerCookie(c: bigint): { reason: PacketInEvent['reason']; table: number; controllerId: number; maxLen: number } | undefined {
  if (Number(c >> 56n) !== USERSPACE_KIND.controller) return undefined;
  const reason = REASONS[Number((c >> 48n) & 0xffn)];
  if (!reason) return undefined;
  return { reason, table: Number((c >> 40n) & 0xffn), controllerId: Number((c >> 24n) & 0xffffn), maxLen: Number((c >> 8n) & 0xffffn) };
}

const bitsMask = (sf: SubField): bigint => ((1n << BigInt(sf.nBits)) - 1n) << BigInt(sf.ofs);

/** Reads a bit range (un-wildcarding it). */
export function readSubField(ctx: XlateCtx, sf: SubField): bigint {
  const m = bitsMask(sf);
  orFieldMask(ctx.wc, sf.field, m);
  return (getField(ctx.flow, sf.field) & m) >> BigInt(sf.ofs);
}

/** Writes the low bits of `v` into a bit range (un-wildcarding it). Registers and metadata only
 *  here: packet fields go through the load path of xlate.ts, which handles VLAN and prerequisites. */
export function writeSubField(ctx: XlateCtx, sf: SubField, v: bigint): void {
  const m = bitsMask(sf);
  setFieldMasked(ctx.flow, sf.field, (v << BigInt(sf.ofs)) & m, m);
  orFieldMask(ctx.wc, sf.field, m);
}
