/**
 * Translation of the Nicira-extension actions (after OVS ofproto-dpif-xlate.c). xlate.ts calls
 * xlateNx for every action it does not handle itself; what the NX actions need from xlate.ts
 * (output to a port, running a nested action list) comes in as `XlateHooks`, so this file does
 * not import xlate.ts.
 *
 * Megaflow soundness (xlate.ts invariant 1): every bit an action reads is un-wildcarded in
 * ctx.wc: output_reg its source bits, push its source bits, multipath/bundle the fields
 * hashed (hash.ts flowHash). Writes to registers and metadata un-wildcard their bits too, as
 * OVS does, though those words never reach the datapath mask.
 *
 * What is not executed as OVS does, and why:
 *   - output(port=P,max_len=N): the bvs datapath has no truncate action and no slow path, so
 *     the whole packet is output (the trace says so). OVS truncates.
 *   - enqueue / set_queue: no queues in the bvs datapath: enqueue outputs to its port, set_queue
 *     does nothing (OVS sets skb_priority for the port's QoS queue).
 *
 * controller(pause) inside clone() freezes only the clone's own processing (freeze.ts
 * invariant 2): the freeze ends when the nested actions return, and the actions after the
 * clone go on with the original packet.
 */
import type { OfAction } from './actions.ts';
import type { Rule } from './table.ts';
import { OFPP, W } from './flow.ts';
import { bundleHrw, flowHash, multipathLink } from './hash.ts';
import { formatActions } from './format.ts';
import { readSubField, writeSubField, type XlateCtx } from './xlate-ctx.ts';
import { xlateLearn } from './xlate-learn.ts';
import { finishFreeze } from './freeze.ts';

export interface XlateHooks {
  output(port: number): void;
  actions(list: readonly OfAction[]): void;
  /** The rule whose actions these are (undefined for packet-out style lists). */
  rule: Rule | undefined;
}

/** Executes `a` when it is an NX action of this file; returns false when it is not one. */
export function xlateNx(ctx: XlateCtx, a: OfAction, hooks: XlateHooks): boolean {
  switch (a.type) {
    case 'note': return true;
    case 'conjunction':
      // Only reached when a conjunction flow is also executed as an ordinary one (it cannot be:
      // conj.ts keeps them out of the lookup) or inside clone(); OVS does nothing either.
      return true;
    case 'output_reg': {
      const port = Number(readSubField(ctx, a.src) & 0xffffn);
      ctx.note(`output to port ${port} (from ${a.src.field.name})`);
      hooks.output(port);
      return true;
    }
    case 'stack_push':
      ctx.stack.push(readSubField(ctx, a.src));
      return true;
    case 'stack_pop': {
      const v = ctx.stack.pop();
      if (v === undefined) { ctx.note('stack underflow'); return true; }
      writeSubField(ctx, a.dst, v);
      return true;
    }
    case 'clone': {
      // OVS xlate_clone without datapath clone(): the nested actions run on a copy of the flow
      // and stack; afterwards the flow is restored, and the next commit emits whatever set
      // actions undo the clone's changes on the datapath's copy of the packet (base).
      const flow = ctx.flow.slice(), stack = ctx.stack.slice(), tpid = ctx.pushTpid;
      ctx.note(`clone: ${formatActions(a.actions)}`);
      hooks.actions(a.actions);
      finishFreeze(ctx);
      ctx.flow.set(flow);
      ctx.stack.length = 0;
      ctx.stack.push(...stack);
      ctx.pushTpid = tpid;
      return true;
    }
    case 'write_metadata': {
      const f = ctx.flow;
      const md = ((BigInt(f[W.METADATA]!) << 32n) | BigInt(f[W.METADATA + 1]!)) & ~a.mask | a.value;
      f[W.METADATA] = Number((md >> 32n) & 0xffffffffn);
      f[W.METADATA + 1] = Number(md & 0xffffffffn);
      return true;
    }
    case 'multipath': {
      const h = flowHash(ctx.flow, a.fields, a.basis, ctx.wc);
      const link = multipathLink(a.algorithm, h, a.maxLink, a.arg);
      ctx.note(`multipath: hash ${h} -> link ${link}`);
      writeSubField(ctx, a.dst, BigInt(link));
      return true;
    }
    case 'bundle': {
      // A member is live when it is a port of the bridge (port changes bump portGeneration,
      // which makes every megaflow stale, so a choice never outlives the ports it saw).
      const live = a.members.filter((p) => ctx.bridge.toDp(p) !== undefined);
      let port: number | undefined;
      if (a.algorithm === 'active_backup') port = live[0];
      else if (live.length) {
        // OVS un-wildcards the hashed fields only when there is a choice to make (n_members > 1).
        const wc = a.members.length > 1 ? ctx.wc : ctx.wc.slice();
        const i = bundleHrw(flowHash(ctx.flow, a.fields, a.basis, wc), a.members.length, (k) => ctx.bridge.toDp(a.members[k]!) !== undefined);
        port = i === undefined ? undefined : a.members[i];
      }
      ctx.note(`bundle: ${port === undefined ? 'no live member' : `member ${port}`}`);
      if (a.dst) writeSubField(ctx, a.dst, BigInt(port ?? OFPP.NONE));
      else if (port !== undefined) hooks.output(port);
      return true;
    }
    case 'learn': xlateLearn(ctx, a, hooks.rule); return true;
    case 'enqueue':
      ctx.note(`enqueue: the datapath has no queues, queue ${a.queue} is ignored`);
      hooks.output(a.port);
      return true;
    case 'set_queue':
      ctx.note(`set_queue: the datapath has no queues, queue ${a.queue} is ignored`);
      return true;
    default: return false;
  }
}
