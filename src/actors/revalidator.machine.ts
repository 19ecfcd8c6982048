/**
 * The revalidator actor of one bridge (OVS: the revalidator threads of ofproto-dpif-upcall.c).
 *
 *   waiting --(every intervalMs)--------------------> dumping --done--> waiting
 *      '--REVALIDATE--> settling --(SETTLE_MS)--------^   |  REVALIDATE while dumping or
 *   (intervalMs: 500 ms like OVS, or twice the last       |  settling: folded into the next pass
 *    pass when that is longer)                             '--error--> failed (throws; propagates)
 *
 * A pass is src/vswitch/revalidate.ts revalidateSliced(udpif), run by the `pass` actor
 * (src/bridge/fastpath-io.ts, swappable in tests): it yields to the event loop between dump
 * chunks so upcalls keep flowing during a long pass, and stops at the next chunk when this
 * actor stops. REVALIDATE comes from Udpif.requestRevalidation (flow-mods, port changes, MAC
 * moves, fdb flush, the flow limit): the `hook` actor attaches to the udpif and detaches in its
 * cleanup. Requests arriving during a pass are coalesced into one more pass, so a burst of
 * flow-mods costs at most two dumps; the udpif settles each request when a pass that started
 * after it ends. The interval is a machine delay: it runs on the actor system's clock.
 *
 * Settling: a request waits SETTLE_MS before its pass starts, and requests during a pass get
 * one more pass after the same wait. A controller's flow-mods arrive a few per socket read;
 * without the wait every read started a pass of its own (one pass per flow-mod in ovs-ofctl
 * add-flows), and the passes took most of the thread. A few milliseconds on a change's way to
 * the datapath buy a burst of thousands of flow-mods a handful of passes.
 */
import { assign, setup } from 'xstate';
import { revalidatorHookLogic, revalidatorPassLogic } from '../bridge/index.ts';
import type { Udpif } from '../vswitch/index.ts';
import type { FastPathLog } from './upcall.machine.ts';

export const DEFAULT_REVALIDATE_INTERVAL_MS = 500;
/** How long a revalidation request waits for more before its pass starts (see the note). */
export const SETTLE_MS = 5;

export interface RevalidatorInput {
  udpif: Udpif;
  services?: { log: FastPathLog };
  intervalMs?: number;
}

export class RevalidatorError extends Error {
  override name = 'RevalidatorError';
}

export const revalidatorMachine = setup({
  types: {
    input: {} as RevalidatorInput,
    context: {} as RevalidatorInput & { again: boolean; error: unknown },
    events: {} as { type: 'REVALIDATE' },
  },
  actors: {
    hook: revalidatorHookLogic,
    pass: revalidatorPassLogic,
  },
  delays: {
    // A pass shares the JS thread with the upcall handler: when passes get long (many flows),
    // wait twice the last one, so revalidation takes at most about a third of the thread.
    interval: ({ context }) => Math.max(context.intervalMs ?? DEFAULT_REVALIDATE_INTERVAL_MS, 2 * context.udpif.revalidator.lastDumpMs),
    settle: SETTLE_MS,
  },
  guards: {
    requestedAgain: ({ context }) => context.again,
  },
  actions: {
    fail: ({ context }) => {
      // An actor that errors does not stop its invoked children: remove the hook here.
      context.udpif.detachRevalidator();
      context.services?.log.error({ component: 'revalidator', bridge: context.udpif.name, err: context.error }, 'revalidator failed');
      throw new RevalidatorError(`revalidator of ${context.udpif.name} failed: ${(context.error as Error)?.message ?? String(context.error)}`, { cause: context.error });
    },
  },
}).createMachine({
  id: 'revalidator',
  context: ({ input }) => ({ ...input, again: false, error: undefined }),
  invoke: { src: 'hook', input: ({ context }) => ({ udpif: context.udpif }) },
  initial: 'dumping',
  states: {
    waiting: {
      after: { interval: 'dumping' },
      on: { REVALIDATE: 'settling' },
    },
    settling: {
      after: { settle: 'dumping' },
    },
    dumping: {
      entry: assign({ again: false }),
      invoke: {
        src: 'pass',
        input: ({ context }) => ({ udpif: context.udpif }),
        onDone: [
          { guard: 'requestedAgain', target: 'settling' },
          { target: 'waiting' },
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
      },
      on: { REVALIDATE: { actions: assign({ again: true }) } },
    },
    failed: { entry: 'fail' },
  },
});
