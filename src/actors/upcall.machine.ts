/**
 * The upcall handler actor of one bridge (OVS: the handler threads of ofproto-dpif-upcall.c).
 *
 *   running --RING_ERROR--> failed (throws: the error propagates to the bridge actor, whose
 *                                   supervisor restarts it)
 *
 * It owns the datapath's upcall ring: the `ring` actor (src/bridge/fastpath-io.ts) opens it on
 * start and closes it in its cleanup, so stopping this actor (the bridge leaves `running`) or a
 * failure always releases it. Batches go to the bridge's Udpif (src/vswitch/udpif.ts
 * handleBatch) on the JS thread; no event per packet crosses xstate.
 * A ring poll failure, or an exception out of handleBatch (a bug: it counts per-upcall
 * failures itself), closes the ring and fails the actor.
 */
import { assign, setup } from 'xstate';
import { upcallRingLogic, type RingEvent, type UpcallRuntime } from '../bridge/index.ts';
import { DEFAULT_MAX_BATCH } from '../vswitch/index.ts';

/** The slice of the daemon's services the fast-path actors use (pino's Logger fits). */
export interface FastPathLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UpcallInput {
  /** The bridge (BridgeRuntime fits): its name, datapath ring and udpif. */
  runtime: UpcallRuntime;
  services?: { log: FastPathLog };
  /** Records per batch (>= 64 keeps the per-call overhead low under a miss storm). */
  maxBatch?: number;
}

export class UpcallRingError extends Error {
  override name = 'UpcallRingError';
}

export const upcallMachine = setup({
  types: {
    input: {} as UpcallInput,
    context: {} as UpcallInput & { error: unknown },
    events: {} as RingEvent,
  },
  actors: { ring: upcallRingLogic },
  actions: {
    started: ({ context }) => context.services?.log.info({ component: 'upcall', bridge: context.runtime.name }, 'upcall handler started'),
    fail: ({ context }) => {
      context.services?.log.error({ component: 'upcall', bridge: context.runtime.name, err: context.error }, 'upcall handler failed');
      throw new UpcallRingError(`upcall handler of ${context.runtime.name} failed: ${(context.error as Error)?.message ?? String(context.error)}`, { cause: context.error });
    },
  },
}).createMachine({
  id: 'upcall',
  context: ({ input }) => ({ ...input, error: undefined }),
  initial: 'running',
  states: {
    running: {
      entry: 'started',
      invoke: {
        src: 'ring',
        input: ({ context }) => ({ runtime: context.runtime, maxBatch: context.maxBatch ?? DEFAULT_MAX_BATCH }),
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
      },
      on: { RING_ERROR: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) } },
    },
    failed: { entry: 'fail' },
  },
});
