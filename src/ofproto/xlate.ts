/**
 * Translation (xlate): a packet's datapath flow key, run through a bridge's OpenFlow tables,
 * becomes datapath actions and a megaflow (after OVS ofproto-dpif-xlate.c).
 *
 * Invariants
 * ----------
 * 1. Soundness: every packet matching the returned megaflow (key & mask) gets the same datapath
 *    actions from the same bridge state. Everything the translation reads from the packet is
 *    un-wildcarded in ctx.wc: classifier lookups add the bits they consulted; actions add the
 *    fields they read or write (set_field/load: the written bits; move: source and destination;
 *    dec_ttl: nw_ttl, nw_proto; prerequisite checks: dl_type/nw_proto; NORMAL: in_port, dl_src,
 *    dl_dst, VLAN; commit: whatever decided the emitted set/push/pop actions; the NX actions
 *    of xlate-nx.ts and xlate-learn.ts: the bits they read; conjunctive lookups (conj.ts): every
 *    subtable they probed).
 * 2. Width: nothing else is un-wildcarded. Always exact, as in OVS xlate_wc_init: in_port,
 *    dl_type, and nw_frag for IP. Metadata and registers are pipeline state that starts at 0,
 *    so they never reach the datapath mask.
 * 3. The datapath's own prerequisites hold: L3 bits in the mask imply an exact dl_type, L4 bits
 *    an exact nw_proto.
 *
 * Other rules: a table miss drops (OpenFlow 1.3 default; OVS-style bridges get
 * `priority=0,actions=NORMAL` from the daemon). resubmit/goto_table nest at most 64 deep and
 * 4096 times in total; past that the translation fails and drops, as OVS does. Output to the
 * input port is skipped unless done with in_port. Failures (a field the datapath cannot write,
 * recursion) drop the packet and are reported in `error`.
 *
 * What callers must do: pass the datapath key (in_port is the datapath port, mapped through
 * Bridge.fromDp); install the megaflow and actions; keep `rules` and `groupHits` to credit statistics, and
 * `macDeps` + generations to revalidate (isStale).
 */
import { keyMatches, maskKey, type DpAction, type FlowKey, type FlowMask } from '../datapath/index.ts';
import { MAX_RESUBMIT_DEPTH, MAX_RESUBMITS, type OfAction } from './actions.ts';
import type { Bridge } from './bridge.ts';
import { ETH, N_WORDS, OFPP, STAGE_ENDS, W, keyFromWords, wordsFromKey, type Words } from './flow.ts';
import { fieldFullMask, getField, orFieldMask, prereqOk, setFieldMasked, type FieldDef } from './fields.ts';
import { formatAction, formatMatch } from './format.ts';
import type { MacDep } from './mac-learning.ts';
import { LOOKUP_MATCHED, type Rule } from './table.ts';
import { XlateCtx, encodeControllerCookie, type LearnedFlow, type PacketInEvent, type TraceStep, type XlateOptions } from './xlate-ctx.ts';
import { xlateNormal } from './xlate-normal.ts';
import type { GroupHit } from './groups.ts';
import { xlateGroup } from './xlate-group.ts';
import { xlateNx } from './xlate-nx.ts';
import { applyLearned } from './xlate-learn.ts';
import { finishFreeze, recordFrame, startFreeze, type FrozenState } from './freeze.ts';

export interface XlateResult {
  actions: DpAction[];
  megaflow: { key: FlowKey; mask: FlowMask };
  /** The flow at the end of the pipeline (internal words, with metadata and registers). */
  finalFlow: Words;
  /** Un-wildcarded bits over the internal layout (includes metadata/registers consulted). */
  wc: Words;
  rules: Rule[];
  /** The table lookups, for table statistics (Pipeline.creditLookups). */
  lookups: number[];
  /** Groups (and chosen buckets) the packet went through: credited like `rules`. */
  groupHits: GroupHit[];
  /** Flows learn() built (applied to the tables when the translation had side effects). */
  learns: LearnedFlow[];
  macDeps: MacDep[];
  learned: { vlan: number; mac: number; port: number }[];
  packetIns: PacketInEvent[];
  steps: TraceStep[];
  error: string | undefined;
  /** Bridge state this translation saw; see isStale. */
  generations: { pipeline: number; mac: number; ports: number };
}

export function xlate(bridge: Bridge, key: FlowKey, opts: XlateOptions = {}): XlateResult {
  return run(bridge, key, bridge.fromDp(key.inPort), opts, (ctx) => xlateTable(ctx, 0, true));
}

/**
 * A packet-out: `actions` run on the packet whose datapath key is `key`, arriving on OpenFlow
 * port `inPort` (a bridge port, or OFPP.CONTROLLER / OFPP.LOCAL / OFPP.NONE as OpenFlow allows).
 * The result's actions are for Datapath.execute; nothing is installed (the megaflow is unused).
 */
export function xlateActions(bridge: Bridge, key: FlowKey, inPort: number, actions: readonly OfAction[], opts: XlateOptions = {}): XlateResult {
  return run(bridge, key, inPort, opts, (ctx) => doActions(ctx, actions, 0, undefined));
}

/**
 * NXT_RESUME: finishes a translation controller(pause) froze (freeze.ts). `key` is the
 * datapath key of the packet the controller sent back (maybe edited), `inPort` and `fields`
 * (metadata and registers: words before W.CONJ_ID) its pipeline fields from the resume's
 * metadata. The frames run one after the other; a pause among them freezes again, and the
 * frames not yet run go into that continuation. As for a packet-out, the result is for
 * Datapath.execute; nothing is installed.
 */
export function xlateResume(bridge: Bridge, key: FlowKey, inPort: number, fields: Words, frozen: FrozenState, opts: XlateOptions = {}): XlateResult {
  return run(bridge, key, inPort, opts, (ctx) => {
    for (let i = 0; i < W.CONJ_ID; i++) ctx.flow[i] = fields[i]!;
    ctx.stack.push(...frozen.stack);
    const frames = frozen.frames;
    for (let k = 0; k < frames.length && ctx.error === undefined; k++) {
      const f = frames[k]!;
      ctx.frameCookie = f.cookie;
      doActions(ctx, f.actions, f.table, undefined);
      const fz = ctx.freezing;
      if (fz) {
        // The later frames carry their own in_port restores (freeze.ts invariant 3).
        const inPort = fz.frames.at(-1)?.inPort ?? fz.ev.flow[W.IN_PORT]!;
        for (const g of frames.slice(k + 1)) fz.frames.push({ ...g, inPort });
        return;
      }
    }
  });
}

function run(bridge: Bridge, key: FlowKey, ofport: number | undefined, opts: XlateOptions, body: (ctx: XlateCtx) => void): XlateResult {
  // flow, wc and the commit base share one backing store (one allocation per translation).
  const words = new Uint32Array(3 * N_WORDS);
  const flow = wordsFromKey(key, ofport ?? 0, words.subarray(0, N_WORDS));
  const generations = { pipeline: bridge.pipeline.generation, mac: bridge.mac.generation, ports: bridge.portGeneration };
  const ctx = new XlateCtx(bridge, flow, opts, words.subarray(N_WORDS, 2 * N_WORDS), words.subarray(2 * N_WORDS));
  ctx.dpInPort = key.inPort;
  const wc = ctx.wc;
  wc[W.IN_PORT] = 0xffffffff;
  wc[W.DL_TYPE] = 0xffff;
  if (flow[W.DL_TYPE] === ETH.IP || flow[W.DL_TYPE] === ETH.IPV6) wc[W.NW_FRAG] = 0xff;
  if (ofport === undefined) {
    ctx.fail(`packet from unknown datapath port ${key.inPort}`);
  } else {
    body(ctx);
    finishFreeze(ctx);
  }
  const actions = ctx.error === undefined ? ctx.actions : [];
  if (opts.sideEffects && ctx.error === undefined && ctx.learns.length) applyLearned(bridge.pipeline, ctx.learns, ctx.now);
  // Datapath prerequisites (invariant 3).
  let l3 = false, l4 = false;
  for (let i = STAGE_ENDS[1]; i < STAGE_ENDS[2]; i++) if (wc[i]) l3 = true;
  for (let i = STAGE_ENDS[2]; i < STAGE_ENDS[3]; i++) if (wc[i]) l4 = true;
  if (l4 && (flow[W.DL_TYPE] === ETH.IP || flow[W.DL_TYPE] === ETH.IPV6)) wc[W.NW_PROTO] = 0xff;
  if (l3 || l4) wc[W.DL_TYPE] = 0xffff;
  const mask = keyFromWords(wc, 0xffffffff);
  return {
    actions,
    megaflow: { key: maskKey(key, mask), mask },
    finalFlow: ctx.flow,
    wc,
    rules: ctx.rules,
    lookups: ctx.lookups,
    groupHits: ctx.groupHits,
    learns: ctx.learns,
    macDeps: ctx.macDeps,
    learned: ctx.learned,
    packetIns: ctx.packetIns,
    steps: ctx.steps,
    error: ctx.error,
    generations,
  };
}

/** Whether a translation's result may no longer hold for the bridge's current state. */
export function isStale(bridge: Bridge, r: Pick<XlateResult, 'generations' | 'macDeps'>): boolean {
  return r.generations.pipeline !== bridge.pipeline.generation
    || r.generations.ports !== bridge.portGeneration
    || !bridge.mac.isValid(r.macDeps, r.generations.mac);
}

/** Whether `key` falls inside a megaflow. */
export function inMegaflow(key: FlowKey, mf: { key: FlowKey; mask: FlowMask }): boolean {
  return keyMatches(key, mf.key, mf.mask);
}

/**
 * `first`: the pipeline's first lookup. A miss there goes to the controllers (reason no_match)
 * while the bridge asks for it (Bridge.missToController: an OpenFlow 1.0 controller is
 * connected, as OVS sends table misses to 1.0-1.2 controllers only); other misses drop.
 */
function xlateTable(ctx: XlateCtx, table: number, first = false): void {
  const rule = ctx.bridge.pipeline.lookup(table, ctx.flow, ctx.wc);
  ctx.lookups.push(rule ? table | LOOKUP_MATCHED : table);
  const step: TraceStep | undefined = ctx.opts.trace ? { depth: ctx.depth, table, actions: [], notes: [] } : undefined;
  if (step) ctx.steps.push(step);
  const saved = ctx.step;
  ctx.step = step;
  if (!rule) {
    if (first && ctx.bridge.missToController) {
      ctx.note('No match: to the controllers (table miss).');
      controller(ctx, 'no_match', table, undefined, 0, 0xffff, { miss: true });
      ctx.step = saved;
      return;
    }
    ctx.note('No match.');
    if (step) step.actions.push('drop');
    ctx.step = saved;
    return;
  }
  ctx.rules.push(rule);
  if (step) {
    step.rule = { priority: rule.priority, cookie: `0x${rule.cookie.toString(16)}`, match: formatMatch(rule.match, rule.priority) };
    step.actions = rule.actions.length ? rule.actions.map(formatAction) : ['drop'];
  }
  doActions(ctx, rule.actions, table, rule);
  ctx.step = step;
  ctx.step = saved;
}

function resubmit(ctx: XlateCtx, table: number, port: number | undefined): void {
  if (ctx.depth >= MAX_RESUBMIT_DEPTH) { ctx.fail(`over max translation depth ${MAX_RESUBMIT_DEPTH}`); return; }
  if (++ctx.resubmits > MAX_RESUBMITS) { ctx.fail(`over ${MAX_RESUBMITS} resubmit actions`); return; }
  const f = ctx.flow;
  const oldPort = f[W.IN_PORT]!;
  if (port !== undefined && port !== OFPP.IN_PORT) f[W.IN_PORT] = port;
  ctx.depth++;
  xlateTable(ctx, table);
  ctx.depth--;
  f[W.IN_PORT] = oldPort;
}

function checkPrereq(ctx: XlateCtx, d: FieldDef, what: string): boolean {
  if (prereqOk(ctx.flow, d.prereq, ctx.wc)) return true;
  ctx.note(`${what}: ${d.name} prerequisites not met, skipped`);
  return false;
}

function writeField(ctx: XlateCtx, d: FieldDef, value: bigint, mask: bigint): void {
  setFieldMasked(ctx.flow, d, value, mask);
  orFieldMask(ctx.wc, d, mask);
}

function controller(ctx: XlateCtx, reason: PacketInEvent['reason'], table: number, rule: Rule | undefined, id: number, maxLen: number,
  extra: Pick<PacketInEvent, 'userdata' | 'pause' | 'miss'> = {}): void {
  if (!ctx.commit()) return;
  const cookie = encodeControllerCookie(reason, table, id, maxLen, ctx.packetIns.length);
  ctx.actions.push({ type: 'userspace', pid: ctx.opts.upcallPid ?? 0, cookie });
  const ev: PacketInEvent = { reason, table, cookie: cookieOf(ctx, rule), controllerId: id, maxLen, flow: ctx.flow.slice(), userspaceCookie: cookie };
  if (extra.userdata) ev.userdata = extra.userdata;
  if (extra.miss) ev.miss = true;
  else if (reason === 'action' && rule && rule.priority === 0 && rule.match.isCatchall()) ev.explicitMiss = true;
  // The packet-in of a pause goes out when its frozen state is complete (freeze.ts finishFreeze).
  if (extra.pause) { ev.pause = true; startFreeze(ctx, ev); return; }
  ctx.packetIns.push(ev);
  if (ctx.opts.sideEffects) ctx.opts.onPacketIn?.(ev);
}

/** The cookie of the actions being run: their rule's, a resumed frame's, or 0 (packet-out). */
function cookieOf(ctx: XlateCtx, rule: Rule | undefined): bigint {
  return rule ? rule.cookie : ctx.frameCookie ?? 0n;
}

function outputPort(ctx: XlateCtx, port: number, table: number, rule: Rule | undefined, maxLen = 0xffff): void {
  const inPort = ctx.flow[W.IN_PORT]!;
  switch (port) {
    case OFPP.IN_PORT: ctx.output(inPort); return;
    case OFPP.NORMAL: xlateNormal(ctx); return;
    case OFPP.FLOOD: case OFPP.ALL: // only FLOOD honours OFPPC_NO_FLOOD
      for (const p of ctx.bridge.sortedPorts()) {
        if (p.ofport !== inPort && (port === OFPP.ALL || !ctx.bridge.noFlood.has(p.ofport))) ctx.output(p.ofport);
      }
      return;
    case OFPP.CONTROLLER: controller(ctx, 'action', table, rule, 0, maxLen); return;
    case OFPP.TABLE: case OFPP.NONE: return;
    default:
      if (port === inPort) { ctx.note(`skipping output to input port ${port}`); return; }
      ctx.output(port);
  }
}

function setVlanTci(ctx: XlateCtx, tci: number): void {
  ctx.wc[W.VLAN_TCI] = 0xffff;
  ctx.flow[W.VLAN_TCI] = tci;
}

export function doActions(ctx: XlateCtx, actions: readonly OfAction[], table: number, rule: Rule | undefined): void {
  const f = ctx.flow, wc = ctx.wc;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (ctx.error !== undefined) return;
    switch (a.type) {
      case 'output':
        if (a.maxLen !== undefined) ctx.note(`the datapath cannot truncate to ${a.maxLen} bytes: the whole packet is output`);
        outputPort(ctx, a.port, table, rule);
        break;
      case 'controller': controller(ctx, a.reason, table, rule, a.id, a.maxLen, a); break;
      case 'set_field': {
        const d = a.field;
        if (d.name === 'vlan_vid' || d.name === 'dl_vlan' || d.name === 'dl_vlan_pcp' || d.name === 'vlan_tci') {
          wc[W.VLAN_TCI] |= 0x1000;
          if (!(f[W.VLAN_TCI]! & 0x1000) && d.name !== 'vlan_tci') { ctx.note(`set_field ${d.name}: packet has no VLAN header, skipped`); break; }
          const tmp = f.slice();
          setFieldMasked(tmp, d, a.value, a.mask ?? fieldFullMask(d));
          setVlanTci(ctx, d.name === 'vlan_tci' ? tmp[W.VLAN_TCI]! : tmp[W.VLAN_TCI]! | 0x1000);
          break;
        }
        if (!checkPrereq(ctx, d, 'set_field')) break;
        writeField(ctx, d, a.value, a.mask ?? fieldFullMask(d));
        break;
      }
      case 'load': {
        const d = a.dst.field;
        if (!checkPrereq(ctx, d, 'load')) break;
        const m = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.ofs);
        if (d.word === W.VLAN_TCI) { const tmp = f.slice(); setFieldMasked(tmp, d, a.value << BigInt(a.dst.ofs), m); setVlanTci(ctx, tmp[W.VLAN_TCI]!); break; }
        writeField(ctx, d, a.value << BigInt(a.dst.ofs), m);
        break;
      }
      case 'move': {
        if (!checkPrereq(ctx, a.src.field, 'move') || !checkPrereq(ctx, a.dst.field, 'move')) break;
        const sm = ((1n << BigInt(a.src.nBits)) - 1n) << BigInt(a.src.ofs);
        orFieldMask(wc, a.src.field, sm);
        const bits = (getField(f, a.src.field) & sm) >> BigInt(a.src.ofs);
        const dm = ((1n << BigInt(a.dst.nBits)) - 1n) << BigInt(a.dst.ofs);
        if (a.dst.field.word === W.VLAN_TCI) { const tmp = f.slice(); setFieldMasked(tmp, a.dst.field, bits << BigInt(a.dst.ofs), dm); setVlanTci(ctx, tmp[W.VLAN_TCI]!); break; }
        writeField(ctx, a.dst.field, bits << BigInt(a.dst.ofs), dm);
        break;
      }
      case 'dec_ttl': {
        if (!prereqOk(f, 'ip', wc)) { ctx.note('dec_ttl: not an IP packet, skipped'); break; }
        wc[W.NW_TTL] = 0xff;
        wc[W.NW_PROTO] = 0xff; // as OVS compose_dec_ttl
        if (f[W.NW_TTL]! <= 1) {
          // OVS compose_dec_ttl: a packet-in with reason invalid_ttl to each controller id,
          // then this action list stops (the controllers' async config decides who sees it).
          for (const id of a.ids ?? [0]) controller(ctx, 'invalid_ttl', table, rule, id, 0xffff);
          ctx.note(`IPv${f[W.DL_TYPE] === ETH.IP ? 4 : 6} decrement TTL exception`);
          return;
        }
        f[W.NW_TTL] = f[W.NW_TTL]! - 1;
        break;
      }
      case 'push_vlan':
        wc[W.VLAN_TCI] |= 0x1000;
        if (f[W.VLAN_TCI]! & 0x1000) { ctx.fail('push_vlan on a tagged frame: the datapath supports one VLAN header'); return; }
        ctx.pushTpid = a.tpid;
        setVlanTci(ctx, 0x1000);
        break;
      case 'pop_vlan':
        setVlanTci(ctx, 0);
        break;
      case 'mod_vlan_vid':
        // OpenFlow 1.0 semantics, as OVS: pushes a tag when the frame has none.
        setVlanTci(ctx, (f[W.VLAN_TCI]! & 0xe000) | 0x1000 | a.vid);
        break;
      case 'mod_vlan_pcp':
        setVlanTci(ctx, (f[W.VLAN_TCI]! & 0x0fff) | 0x1000 | (a.pcp << 13));
        break;
      case 'resubmit': resubmit(ctx, a.table ?? table, a.port); break;
      case 'goto_table': resubmit(ctx, a.table, undefined); break;
      // A bucket is a copy of the packet: a pause inside it ends there (freeze.ts invariant 2).
      case 'group': xlateGroup(ctx, a.id, (list) => { doActions(ctx, list, table, rule); finishFreeze(ctx); }); break;
      case 'meter': {
        // The meter runs where it stands: header changes before it are committed first.
        const m = ctx.bridge.meters.get(a.id);
        if (!m) ctx.note(`meter:${a.id}: no such meter, skipped`);
        else if (ctx.commit()) ctx.actions.push({ type: 'meter', id: m.dpId });
        break;
      }
      default:
        xlateNx(ctx, a, {
          output: (port) => outputPort(ctx, port, table, rule),
          actions: (list) => doActions(ctx, list, table, rule),
          rule,
        });
    }
    // controller(pause) ran here or below: keep the rest of this list, stop (freeze.ts).
    if (ctx.freezing) { recordFrame(ctx, actions, i + 1, table, cookieOf(ctx, rule)); return; }
  }
}
