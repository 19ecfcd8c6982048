/**
 * The fast-path actors' I/O (src/actors/upcall.machine.ts and revalidator.machine.ts decide
 * when; this does it): the upcall ring of a bridge's datapath feeding its Udpif, and the
 * revalidator's hook and pass. Each is actor logic the machines name in setup({ actors }), so
 * a test swaps it with machine.provide({ actors }).
 */
import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { revalidateSliced, type BridgeRuntime, type PassResult, type Udpif } from '../vswitch/index.ts';

/** What the upcall ring needs of a bridge (BridgeRuntime fits). */
export interface UpcallRuntime {
  readonly name: string;
  readonly datapath: Pick<BridgeRuntime['datapath'], 'openUpcalls'>;
  readonly udpif: Pick<Udpif, 'handleBatch'>;
}

export type RingEvent = { type: 'RING_ERROR'; error: unknown };

/**
 * Opens the datapath's upcall ring on start and closes it in its cleanup. Batches (up to
 * maxBatch records per call, from the addon's libuv poll) go to udpif.handleBatch on the JS
 * thread; no event per packet crosses xstate. A poll failure, or an exception out of
 * handleBatch (a bug: it counts per-upcall failures itself), closes the ring and sends
 * RING_ERROR once.
 */
export const upcallRingLogic = fromCallback<EventObject, { runtime: UpcallRuntime; maxBatch: number }>(({ input, sendBack }) => {
  const { runtime, maxBatch } = input;
  let ring: { close(): void } | undefined;
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    ring?.close();
    sendBack({ type: 'RING_ERROR', error } satisfies RingEvent);
  };
  ring = runtime.datapath.openUpcalls((batch) => {
    try {
      runtime.udpif.handleBatch(batch);
    } catch (err) {
      fail(err);
    }
  }, maxBatch, fail);
  return () => ring?.close();
});

/** Attaches the revalidator's wake-up to the udpif (REVALIDATE); detaches in its cleanup. */
export const revalidatorHookLogic = fromCallback<EventObject, { udpif: Pick<Udpif, 'attachRevalidator'> }>(({ input, sendBack }) =>
  input.udpif.attachRevalidator(() => sendBack({ type: 'REVALIDATE' })));

/** One revalidation pass (src/vswitch/revalidate.ts); stops at the next chunk when aborted. */
export const revalidatorPassLogic = fromPromise<PassResult, { udpif: Udpif }>(({ input, signal }) => revalidateSliced(input.udpif, signal));
