/**
 * The upcall handler actor of one bridge (OVS: the handler threads of ofproto-dpif-upcall.c).
 *
 *   running --RING_ERROR--> failed (throws: the error propagates to the bridge actor, whose
 *                                   supervisor restarts it)
 *
 * It owns the datapath's upcall ring: the `ring` callback actor opens it on start and closes it
 * in its cleanup, so stopping this actor (the bridge leaves `running`) or a failure always
 * releases it. Batches (up to maxBatch records per call, from the addon's libuv poll) go to
 * the bridge's Udpif (src/vswitch/udpif.ts handleBatch) on the JS thread; no event per packet
 * crosses xstate.
 * A ring poll failure, or an exception out of handleBatch (a bug: it counts per-upcall
 * failures itself), closes the ring and fails the actor.
 */
import { assign, fromCallback, setup, type EventObject } from 'xstate';
import { DEFAULT_MAX_BATCH, type BridgeRuntime } from '../vswitch/index.ts';

/** The slice of the daemon's services this actor uses (pino's Logger fits). */
export interface FastPathLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UpcallInput {
  runtime: BridgeRuntime;
  services?: { log: FastPathLog };
  /** Records per batch (>= 64 keeps the per-call overhead low under a miss storm). */
  maxBatch?: number;
}

export class UpcallRingError extends Error {
  override name = 'UpcallRingError';
}

type RingEvent = { type: 'RING_ERROR'; error: unknown };

export const upcallMachine = setup({
  types: {
    input: {} as UpcallInput,
    context: {} as UpcallInput & { error: unknown },
    events: {} as RingEvent,
  },
  actors: {
    ring: fromCallback<EventObject, { runtime: BridgeRuntime; maxBatch: number }>(({ input, sendBack }) => {
      const { runtime, maxBatch } = input;
      let ring: { close(): void } | undefined;
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        ring?.close();
        sendBack({ type: 'RING_ERROR', error });
      };
      ring = runtime.datapath.openUpcalls((batch) => {
        try {
          runtime.udpif.handleBatch(batch);
        } catch (err) {
          fail(err);
        }
      }, maxBatch, fail);
      return () => ring?.close();
    }),
  },
}).createMachine({
  id: 'upcall',
  context: ({ input }) => ({ ...input, error: undefined }),
  initial: 'running',
  states: {
    running: {
      entry: ({ context }) => context.services?.log.info({ component: 'upcall', bridge: context.runtime.name }, 'upcall handler started'),
      invoke: {
        src: 'ring',
        input: ({ context }) => ({ runtime: context.runtime, maxBatch: context.maxBatch ?? DEFAULT_MAX_BATCH }),
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
      },
      on: { RING_ERROR: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) } },
    },
    failed: {
      entry: ({ context }) => {
        context.services?.log.error({ component: 'upcall', bridge: context.runtime.name, err: context.error }, 'upcall handler failed');
        throw new UpcallRingError(`upcall handler of ${context.runtime.name} failed: ${(context.error as Error)?.message ?? String(context.error)}`, { cause: context.error });
      },
    },
  },
});
