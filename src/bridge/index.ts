/**
 * src/bridge: what the daemon's actors do, as OVS's bridge.c does it (public surface): read the
 * desired switch configuration from OVSDB rows, write status back, the dependencies (Services)
 * every actor and command handler is given, the port rules (ports.ts), and each actor's I/O as
 * actor logic (*-io.ts). The actors in src/actors decide *when*; this folder holds *what*, so a
 * machine can be tested with its I/O swapped through provide({ actors }).
 */
export {
  fastPathTuning, IFNAME_RE, ifaceStatusOp, OFPP_LOCAL, portFingerprint, readConfig, type FastPathTuning,
  type BridgeConfig, type IfaceConfig, type PortConfig, type SwitchConfig,
} from './config.ts';
export {
  defaultOpenFlow, DEFAULT_MAX_BACKOFF_MS, DEFAULT_PROBE_MS, type ControllerConfig, type OpenFlowConfig,
} from './controller-config.ts';
export { Coverage, EVENTS, SAMPLE_SECONDS, type CoverageLine, type CoverageSink } from './coverage.ts';
export { backoffDelay, transactStatus, type Backoff, type Logger, type Services, type StatusServices } from './services.ts';
export { assignOfport, attachErrorText, dpDevice, linkStateOp, ofprotoPort, portIdentity } from './ports.ts';
export {
  attachPort, attachPortLogic, detachPort, detachPortLogic, releasePort, releasePortLogic, watchLinkLogic, writeStatusLogic,
  type AttachInput, type Attached, type DetachInput, type LinkEvent, type PortDatapath, type PortRuntime, type ReleaseInput,
  type WatchLinkInput,
} from './port-io.ts';
export {
  closeBridgeLogic, connMgrConfig, destroyBridge, destroyBridgeLogic, openBridge, openBridgeLogic, releaseRuntime, releaseRuntimeLogic,
  type BridgeDatapath, type OpenBridgeInput, type OpenedBridge,
} from './bridge-io.ts';
export { commitCurCfg, commitCurCfgLogic, CurCfgError, listDatapathsLogic } from './vswitch-io.ts';
export {
  revalidatorHookLogic, revalidatorPassLogic, upcallRingLogic, type RingEvent, type UpcallRuntime,
} from './fastpath-io.ts';
export {
  closeOvsdbLogic, currentNextCfg, openOvsdb, openOvsdbLogic, OvsdbOpenError, watchOvsdbLogic,
  type OpenOvsdbInput, type OvsdbWatchEvent,
} from './ovsdb-io.ts';
