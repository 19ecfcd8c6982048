/**
 * The port actor's I/O (src/actors/port.machine.ts decides when; this does it): attach a port
 * to the datapath and ofproto, detach it, release one whose device vanished, watch its link,
 * and write its status to OVSDB. Each is actor logic the machine names in setup({ actors }),
 * so a test swaps it with machine.provide({ actors }).
 *
 * Attach: resolve the device (system: an existing netdev; internal: the veth pair of
 * netdev/internal.ts, created if missing), then attach the datapath with portNo = ofport. On a
 * daemon restart the port is usually attached already (pinned tcx link): it is ADOPTED when the
 * datapath has it under the same name, port number and ifindex with its link pin present, and
 * re-attached otherwise; so a port is never attached twice. Then the ofproto port is added
 * (tag/trunks).
 *
 * The datapath and runtime come in as the narrow interfaces below (src/datapath's Datapath and
 * src/vswitch's BridgeRuntime fit them), so a test passes a small fake.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import type { Port } from '../datapath/index.ts';
import { ensureInternalPort, linkState, netdevInfo, removeInternalPort, setLinkUp } from '../netdev/index.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import type { PortConfig } from './config.ts';
import { dpDevice, ofprotoPort } from './ports.ts';
import { transactStatus, type StatusServices } from './services.ts';

/** The Datapath methods port I/O uses. */
export interface PortDatapath {
  /** The datapath's pin directory (holds link_<portNo> for each attached port). */
  readonly dir: string;
  listPorts(): Port[];
  findPort(nameOrNo: string | number): Port | undefined;
  addPort(ifname: string, opts?: { portNo?: number }): number;
  delPort(nameOrNo: string | number): Port;
}

/** The ofproto side of a bridge, as the port actor changes it (BridgeRuntime fits). */
export type PortRuntime = Pick<BridgeRuntime, 'findPort' | 'addPort' | 'removePort' | 'setPortLink'>;

export interface Attached {
  /** The datapath device (the hidden end for an internal port). */
  dev: string;
  /** ifindex and MAC of the host-facing device (written to Interface). */
  ifindex: number;
  mac: string;
  up: boolean;
  adopted: boolean;
}

export interface AttachInput {
  config: PortConfig;
  ofport: number;
  datapath: PortDatapath;
  runtime: PortRuntime;
}

/** Resolves and attaches (or adopts) the port. Throws when the device is missing. */
export function attachPort(i: AttachInput): Attached {
  const c = i.config;
  const dev = c.iface.type === 'internal' ? ensureInternalPort(c.iface.name) : c.iface.name;
  const info = netdevInfo(dev);
  if (c.iface.type === 'system' && !info.up) setLinkUp(dev);
  const ports = i.datapath.listPorts();
  const mine = ports.find((p) => p.name === dev);
  const pinned = fs.existsSync(path.join(i.datapath.dir, `link_${i.ofport}`));
  let adopted = false;
  if (mine && mine.portNo === i.ofport && mine.ifindex === info.ifindex && pinned) {
    adopted = true;
  } else {
    if (mine) i.datapath.delPort(mine.portNo);
    const squatter = ports.find((p) => p.portNo === i.ofport && p.name !== dev);
    if (squatter) i.datapath.delPort(squatter.portNo);
    i.datapath.addPort(dev, { portNo: i.ofport });
  }
  if (i.runtime.findPort(c.iface.name)) i.runtime.removePort(c.iface.name);
  i.runtime.addPort(ofprotoPort(c, i.ofport));
  const host = c.iface.type === 'internal' ? netdevInfo(c.iface.name) : info;
  return { dev, ifindex: host.ifindex, mac: host.mac, up: host.up && host.carrier, adopted };
}

export interface DetachInput {
  config: PortConfig;
  datapath: PortDatapath;
  runtime: PortRuntime;
}

/** Removes the port from ofproto and the datapath, and deletes an internal device. */
export function detachPort(i: DetachInput): void {
  i.runtime.removePort(i.config.iface.name);
  const dev = dpDevice(i.config);
  if (i.datapath.findPort(dev)) i.datapath.delPort(dev);
  if (i.config.iface.type === 'internal') removeInternalPort(i.config.iface.name);
}

export interface ReleaseInput {
  config: PortConfig;
  /** The device the port was attached through (Attached.dev). */
  dev: string;
  datapath: PortDatapath;
  runtime: PortRuntime;
}

/**
 * Releases a port whose device vanished or was re-created: out of ofproto and the datapath at
 * once (no flow forwards to a dead port meanwhile), the device itself left alone. Best effort
 * on the datapath side: the re-attach cleans up whatever is left.
 */
export function releasePort(i: ReleaseInput): void {
  i.runtime.removePort(i.config.iface.name);
  try { if (i.datapath.findPort(i.dev)) i.datapath.delPort(i.dev); } catch { /* re-attach cleans up */ }
}

export const attachPortLogic = fromPromise<Attached, AttachInput>(async ({ input }) => attachPort(input));
export const detachPortLogic = fromPromise<void, DetachInput>(async ({ input }) => detachPort(input));
export const releasePortLogic = fromPromise<void, ReleaseInput>(async ({ input }) => releasePort(input));

/** Runs one status transaction; resolves false (logged) when it cannot. */
export const writeStatusLogic = fromPromise<boolean, { services: StatusServices; op: unknown; what: string }>(
  ({ input }) => transactStatus(input.services, [input.op], input.what));

export type LinkEvent =
  | { type: 'LINK'; up: boolean }
  | { type: 'GONE'; reason: string };

export interface WatchLinkInput {
  /** The host-facing device (its operstate is the port's link state). */
  host: string;
  /** The datapath device (it vanishing or changing ifindex means the port lost it). */
  dev: string;
}

/**
 * Watches a port's link: reads it at start and on every POLL its parent sends (the parent owns
 * the period, as a machine delay, so a simulated clock drives it in tests). Sends LINK when the
 * host device's state changes (the first read always reports) and GONE when the datapath device
 * disappeared or was re-created under the same name.
 */
export const watchLinkLogic = fromCallback<{ type: 'POLL' }, WatchLinkInput>(({ input, sendBack, receive }) => {
  const devIfindex = linkState(input.dev)?.ifindex ?? -1;
  let last: boolean | null = null;
  const tick = (): void => {
    const d = linkState(input.dev);
    if (!d || d.ifindex !== devIfindex) {
      sendBack({ type: 'GONE', reason: d ? 'the device was re-created' : 'the device disappeared' } satisfies LinkEvent);
      return;
    }
    const h = input.host === input.dev ? d : linkState(input.host);
    const up = h?.up ?? false;
    if (up !== last) {
      last = up;
      sendBack({ type: 'LINK', up } satisfies LinkEvent);
    }
  };
  tick();
  receive(tick);
});
