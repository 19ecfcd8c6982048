/**
 * src/bridge: what the daemon's actors do, as OVS's bridge.c does it (public surface): read the
 * desired switch configuration from OVSDB rows, write status back, and the dependencies
 * (Services) every actor and command handler is given. The actors in src/actors decide *when*;
 * this folder holds *what*, so a machine can be tested with its I/O swapped.
 */
export {
  fastPathTuning, IFNAME_RE, ifaceStatusOp, OFPP_LOCAL, portFingerprint, readConfig, type FastPathTuning,
  type BridgeConfig, type IfaceConfig, type PortConfig, type SwitchConfig,
} from './config.ts';
export { backoffDelay, transactStatus, type Backoff, type Logger, type Services } from './services.ts';
