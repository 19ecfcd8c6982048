/**
 * Freezing: controller(pause) stops a translation and saves what is needed to finish it later,
 * when the controller sends the packet back with NXT_RESUME (OVS ofproto-dpif-xlate.c "freezing"
 * and "continuations"; the continuation bytes are src/openflow/msg-resume.ts's).
 *
 * What a frozen translation is (FrozenState)
 * ------------------------------------------
 *   frames   the actions still to run, one frame per action list that was under way, innermost
 *            first: the rest of the list that held controller(pause), then the rest of the list
 *            that resubmitted (or went) to the table that holds that one, and so on outwards.
 *            Each frame keeps the table id and rule cookie its actions ran with (a relative
 *            resubmit and a later controller action read them). Running the frames one after
 *            the other, each to its end, is what the unfinished translation would have done.
 *   stack    the NX push/pop stack, bottom first.
 *   bridge   the identity of the bridge (a random id per Bridge object, as OVS binds to its
 *            ofproto's uuid): a continuation made by another bridge, or before a restart, is stale.
 *   odpPort  the datapath port the packet came in on, for executing it again.
 * The pipeline fields (in_port, metadata, registers) are not in it: they travel in the
 * packet-in's metadata (NXPINT_METADATA) and come back in NXT_RESUME's, where the controller
 * may change them (OVN's pinctrl writes its result bits into a register there), as in OVS.
 *
 * Invariants
 * ----------
 * 1. Nothing after the pause is translated: doActions returns as soon as ctx.freezing is set,
 *    and every enclosing action list returns after recording its rest (recordFrame). So the
 *    datapath actions end with the userspace action that carries the packet to the controller,
 *    and the megaflow sends every packet of the flow up: each one is paused on its own.
 * 2. The boundaries of a packet copy end the freeze: a pause inside clone() or a group bucket
 *    freezes only the rest of that copy's processing (finishFreeze at the boundary); the
 *    actions after the clone or group go on at once with the original packet, as OVS does for
 *    group buckets ("the actions after the group action must continue processing with the
 *    original, not the frozen packet").
 * 3. resubmit restores in_port when the nested tables are done (xlate.ts resubmit). A frame
 *    entered through such a return gets `set_field:P->in_port` in front of its actions when P
 *    is not what in_port would otherwise be when it runs, so the resumed run sees the same
 *    in_port the unfinished one would have.
 * 4. goto_table and write_metadata are instructions, not actions: a frame holds them as
 *    resubmit(,T) and a masked set_field of metadata, which bvs executes identically (as OVS's
 *    freeze_unroll_actions does). note and conjunction are dropped (they do nothing).
 *
 * bvs has no OpenFlow 1.1+ action set (write_actions is refused), so there is none to freeze.
 */
import { randomBytes } from 'node:crypto';
import type { OfAction } from './actions.ts';
import type { Bridge } from './bridge.ts';
import { fieldByName } from './fields.ts';
import { W } from './flow.ts';
import type { PacketInEvent, XlateCtx } from './xlate-ctx.ts';

export interface FrozenFrame {
  table: number;
  cookie: bigint;
  actions: OfAction[];
}

export interface FrozenState {
  /** 16 bytes: bridgeId() of the bridge that froze it. */
  bridge: Uint8Array;
  /** Innermost first; see the note above. */
  frames: FrozenFrame[];
  /** The NX stack, bottom first. */
  stack: bigint[];
  /** The datapath port the packet arrived on. */
  odpPort?: number;
}

/** A freeze under way: set by controller(pause), filled while the action lists unwind. */
export interface Freezing {
  ev: PacketInEvent;
  stack: bigint[];
  /** Recorded rests with the in_port each would have started with. */
  frames: (FrozenFrame & { inPort: number })[];
}

const ids = new WeakMap<Bridge, Uint8Array>();

/** The bridge's identity for continuations: random, made on first use, lives as long as it does. */
export function bridgeId(bridge: Bridge): Uint8Array {
  let id = ids.get(bridge);
  if (!id) { id = new Uint8Array(randomBytes(16)); ids.set(bridge, id); }
  return id;
}

export function sameBridge(a: Uint8Array, bridge: Bridge): boolean {
  const b = bridgeId(bridge);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** controller(pause) ran: stop here. `ev` is sent when the freeze is finished. */
export function startFreeze(ctx: XlateCtx, ev: PacketInEvent): void {
  ctx.freezing = { ev, stack: ctx.stack.slice(), frames: [] };
  ctx.note('controller(pause): the translation is frozen here; the controller may resume it');
}

/** An action list returns while freezing: its actions from `from` on are a frame. */
export function recordFrame(ctx: XlateCtx, actions: readonly OfAction[], from: number, table: number, cookie: bigint): void {
  const rest: OfAction[] = [];
  for (let i = from; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.type === 'note' || a.type === 'conjunction') continue;
    if (a.type === 'goto_table') rest.push({ type: 'resubmit', table: a.table });
    else if (a.type === 'write_metadata') rest.push({ type: 'set_field', field: METADATA, value: a.value, mask: a.mask, spelling: 'set_field' });
    else rest.push(a);
  }
  ctx.freezing!.frames.push({ table, cookie, actions: rest, inPort: ctx.flow[W.IN_PORT]! });
}

/**
 * Ends the freeze under way (at the top of the translation, or at a clone or bucket boundary):
 * the packet-in goes out with its frozen state, and the translation may go on after the boundary.
 */
export function finishFreeze(ctx: XlateCtx): void {
  const fz = ctx.freezing;
  if (!fz) return;
  ctx.freezing = undefined;
  if (ctx.error !== undefined) return;
  const frames: FrozenFrame[] = [];
  // in_port as the resumed run would have it when each frame starts (invariant 3).
  let inPort = fz.ev.flow[W.IN_PORT]!;
  let mayHaveChanged = false;
  for (const f of fz.frames) {
    if (f.actions.length === 0) continue;
    const actions = f.actions.slice();
    if (f.inPort !== inPort || mayHaveChanged) {
      actions.unshift({ type: 'set_field', field: IN_PORT, value: BigInt(f.inPort), spelling: 'set_field' });
    }
    inPort = f.inPort;
    mayHaveChanged = actions.some(writesInPort);
    frames.push({ table: f.table, cookie: f.cookie, actions });
  }
  const frozen: FrozenState = { bridge: bridgeId(ctx.bridge), frames, stack: fz.stack, odpPort: ctx.dpInPort };
  fz.ev.frozen = frozen;
  ctx.note(`controller(pause): ${frames.length} frame(s) frozen`);
  ctx.packetIns.push(fz.ev);
  if (ctx.opts.sideEffects) ctx.opts.onPacketIn?.(fz.ev);
}

const IN_PORT = fieldByName('in_port')!;
const METADATA = fieldByName('metadata')!;

/** Whether an action may write in_port itself (resubmits restore it, so they do not count). */
function writesInPort(a: OfAction): boolean {
  switch (a.type) {
    case 'set_field': return a.field.word === W.IN_PORT;
    case 'load': return a.dst.field.word === W.IN_PORT;
    case 'move': return a.dst.field.word === W.IN_PORT;
    case 'stack_pop': return a.dst.field.word === W.IN_PORT;
    case 'multipath': return a.dst.field.word === W.IN_PORT;
    case 'bundle': return a.dst?.field.word === W.IN_PORT;
    default: return false;
  }
}
