/**
 * src/commands: every NATS command handler of the daemon, in one place (public surface). Each
 * file serves one family of the subjects in src/bus/contracts: daemon.* (ping, health),
 * ofctl.* (OpenFlow tables), appctl.* (live state), vsctl.* (OVSDB transactions).
 *
 * Handlers run on the daemon's event loop, between upcall batches, so they see a consistent
 * runtime. The bus validates requests against the contracts before a handler runs and turns
 * any other throw into an `internal` reply, so nothing a client sends can stop the daemon.
 * A RuntimeError becomes invalid_request naming its field; an unknown bridge is not_found
 * with field "bridge".
 */
import type { Handlers } from '../bus/index.ts';
import type { Services } from '../bridge/index.ts';
import { appctlHandlers } from './appctl.ts';
import { daemonHandlers, type DaemonCommandDeps } from './daemon.ts';
import { ofctlHandlers } from './ofctl.ts';
import { vsctlHandlers } from './vsctl.ts';

export { BVS_VERSION, type DaemonCommandDeps } from './daemon.ts';
export { REVALIDATE_WAIT_MS } from './ofctl.ts';

/** Every command the daemon serves. */
export function commandHandlers(d: DaemonCommandDeps): Handlers {
  const s: Services = d.services;
  return { ...daemonHandlers(d), ...ofctlHandlers(s), ...appctlHandlers(s), ...vsctlHandlers(s) };
}
