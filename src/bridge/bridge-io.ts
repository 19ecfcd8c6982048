/**
 * The bridge actor's I/O (src/actors/bridge.machine.ts decides when; this does it): open the
 * datapath and build the bridge's runtime, close it, destroy it; and release the runtime of a
 * bridge actor that failed (for the vswitch actor). Each is actor logic the machines name in
 * setup({ actors }), so a test swaps it with machine.provide({ actors }).
 *
 * Opening creates the datapath, or ADOPTS it when it is pinned already (a restart after
 * SIGKILL): its flows keep forwarding meanwhile, and the revalidator re-checks them against
 * the new tables. Datapath ports that are no longer configured are removed here; configured
 * ones are adopted by their port actors (never attached twice). OpenFlow tables are not
 * persistent: every start begins from OVS's default flows, which the connection manager
 * (src/connmgr) puts in place from the fail mode and the controllers.
 */
import { fromPromise } from 'xstate';
import path from 'node:path';
import { ConnMgr, type ConnMgrConfig } from '../connmgr/index.ts';
import { Datapath, removePins } from '../datapath/index.ts';
import { isHiddenName, removeDevice } from '../netdev/index.ts';
import { parseFlow } from '../ofproto/index.ts';
import { BridgeRuntime, type LimitHit } from '../vswitch/index.ts';
import type { BridgeConfig } from './config.ts';
import type { OpenFlowConfig } from './controller-config.ts';
import { controllerStatusWriter } from './controller-status.ts';
import type { PortDatapath } from './port-io.ts';
import { dpDevice } from './ports.ts';
import type { Services } from './services.ts';

/** The software version OpenFlow desc replies carry. */
const BVS_SOFTWARE = 'bvs 0.1.0';

/** The datapath of an open bridge, as the bridge actor and its port actors use it. */
export interface BridgeDatapath extends PortDatapath {
  close(): void;
}

export interface OpenedBridge {
  datapath: BridgeDatapath;
  runtime: BridgeRuntime;
  /** False when an existing (pinned) datapath was adopted. */
  created: boolean;
  /** The OpenFlow side (absent without a run dir). */
  connmgr?: ConnMgr;
}

export interface OpenBridgeInput {
  config: BridgeConfig;
  services: Pick<Services, 'log' | 'publish' | 'coverage' | 'runDir' | 'db'>;
}

/**
 * Creates or adopts the datapath and builds the runtime; removes unconfigured dp ports; serves
 * the bridge's OpenFlow management socket (RUN/BR.mgmt) when the services name a run dir.
 */
export async function openBridge(input: OpenBridgeInput): Promise<OpenedBridge> {
  const { config, services } = input;
  const created = !Datapath.exists(config.name);
  // A half-made datapath dir (a crash inside destroy) would make create fail: clear it.
  if (created) removePins(Datapath.dirOf(config.name));
  const datapath = created ? Datapath.create(config.name) : Datapath.open(config.name);
  try {
    if (!created) datapath.repairMasks();
    const wanted = new Set(config.ports.map(dpDevice));
    for (const p of datapath.listPorts()) {
      if (wanted.has(p.name)) continue;
      datapath.delPort(p.portNo);
      // The hidden end of an internal port whose Interface row went while we were down: the
      // pair is ours (only bvs makes bvi<hash> devices and attaches them), delete it.
      if (isHiddenName(p.name)) removeDevice(p.name);
      services.log.info({ component: 'bridge', bridge: config.name, port: p.name, portNo: p.portNo }, 'removed unconfigured datapath port');
    }
    const runtime = new BridgeRuntime({
      datapath,
      publish: (name, payload) => services.publish(name, payload),
      maxIdleMs: config.tuning.maxIdleMs,
      flowLimit: config.tuning.flowLimit,
      coverage: services.coverage,
      onLimit: (hit) => services.log.warn({ component: 'upcall', ...hit }, LIMIT_TEXT[hit.kind]),
    });
    // Without a run dir (unit tests of the machines) there is no OpenFlow side: the default flow.
    const connmgr = services.runDir === undefined ? undefined : await serveOpenFlow(runtime, input, services.runDir);
    if (!connmgr) runtime.ofproto.pipeline.add(parseFlow('priority=0,actions=NORMAL'));
    return { datapath, runtime, created, connmgr };
  } catch (err) {
    datapath.close();
    throw err;
  }
}

/**
 * The bridge's connection manager (RUN/BR.mgmt and its controllers), closed with the runtime.
 * It puts the default flow in place (NORMAL unless fail_mode is secure or controllers are set).
 */
async function serveOpenFlow(runtime: BridgeRuntime, input: OpenBridgeInput, runDir: string): Promise<ConnMgr> {
  const { services, config } = input;
  const log = services.log.child({ component: 'connmgr', bridge: runtime.name });
  let write: () => void = () => {};
  const mgr = await ConnMgr.open(runtime, connMgrConfig(config.openflow, runDir), {
    runDir, software: BVS_SOFTWARE,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
    onMgmtReject: () => services.coverage.inc('ofconn_mgmt_rejected'),
    onStatus: () => write(),
  });
  runtime.openflow = mgr.sw;
  write = controllerStatusWriter(mgr, config.uuid, services);
  write();
  runtime.onClose(() => { void mgr.close(); });
  return mgr;
}

/** The connection manager's view of OpenFlowConfig: relative unix paths are under the run dir. */
export function connMgrConfig(o: OpenFlowConfig, runDir: string): ConnMgrConfig {
  const controllers = o.controllers.map((c) => {
    const t = c.target;
    const target = (t.kind === 'unix' || t.kind === 'punix') && !path.isAbsolute(t.path) ? { ...t, path: path.join(runDir, t.path) } : t;
    return { ...c, target };
  });
  return { ...o, controllers };
}

/** Log lines of the upcall path's limits (OVS: "upcall: datapath reached the dynamic limit"). */
const LIMIT_TEXT: Readonly<Record<LimitHit['kind'], string>> = {
  'flow-limit': 'datapath reached the flow limit: misses are handled without installing flows, and the least recently used flows are deleted',
  'flow-table-full': 'datapath flow table is full: misses are handled without installing flows',
  'masks-full': 'datapath mask slots are all in use: misses needing a new mask are handled without installing flows',
};

/** Destroys the bridge's datapath (pins included), closing the open one first. */
export function destroyBridge(input: { name: string; opened: OpenedBridge | null }): void {
  input.opened?.runtime.close();
  if (Datapath.exists(input.name)) Datapath.destroy(input.name);
  else removePins(Datapath.dirOf(input.name));
}

/**
 * Closes the datapath fds of a runtime whose bridge actor failed (an actor that errors runs no
 * cleanup of its own). The datapath stays pinned: the restarted bridge adopts it.
 */
export function releaseRuntime(runtime: BridgeRuntime): void {
  runtime.close();
}

export const openBridgeLogic = fromPromise<OpenedBridge, OpenBridgeInput>(({ input }) => openBridge(input));
/** Closes the fds only: the datapath stays pinned and forwarding (a daemon stop). */
export const closeBridgeLogic = fromPromise<void, { opened: OpenedBridge | null }>(async ({ input }) => { input.opened?.runtime.close(); });
export const destroyBridgeLogic = fromPromise<void, { name: string; opened: OpenedBridge | null }>(async ({ input }) => destroyBridge(input));
export const releaseRuntimeLogic = fromPromise<void, { runtime: BridgeRuntime }>(async ({ input }) => releaseRuntime(input.runtime));
