/** What every command handler shares: finding the bridge, and mapping runtime errors. */
import { BusError, BusErrorCode } from '../bus/index.ts';
import type { Services } from '../bridge/index.ts';
import { RuntimeError, type BridgeRuntime } from '../vswitch/index.ts';

export function runtimeOf(s: Services, bridge: string): BridgeRuntime {
  const rt = s.runtimes.get(bridge);
  if (!rt) throw new BusError(BusErrorCode.NotFound, `no bridge named ${bridge}`, { field: 'bridge' });
  return rt;
}

/** Runs `fn`, mapping a RuntimeError (a flow that does not parse, an unknown port) to
 *  invalid_request naming its field. */
export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuntimeError) {
      throw new BusError(BusErrorCode.InvalidRequest, err.message, { field: err.field ?? 'flow', cause: err });
    }
    throw err;
  }
}
