/**
 * Network device facts the datapath needs when it adds a port: the ifindex, whether the device
 * is a veth whose peer lives in another network namespace (then output may use
 * bpf_redirect_peer, which the kernel only allows across namespaces), and link state.
 * Read through iproute2's JSON output: this is control-path work, done once per port.
 * linkState() is the cheap poll (sysfs) the port actors run every second.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { NetdevError } from './errors.ts';

export interface NetdevInfo {
  ifindex: number;
  name: string;
  kind: string;            // '' for a physical NIC, 'veth', 'tun', 'dummy', ...
  peerInOtherNetns: boolean;
  up: boolean;             // administratively up
  carrier: boolean;        // LOWER_UP
  mtu: number;
  mac: string;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  address?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

export function netdevInfo(name: string): NetdevInfo {
  let out: string;
  try {
    out = execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', name], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw new NetdevError('NO_SUCH_INTERFACE', `no such network device: "${name}"`, { cause: err });
  }
  const links = JSON.parse(out) as IpLink[];
  const l = links[0];
  if (!l) throw new NetdevError('NO_SUCH_INTERFACE', `no such network device: "${name}"`);
  const flags = l.flags ?? [];
  const kind = l.linkinfo?.info_kind ?? '';
  return {
    ifindex: l.ifindex,
    name: l.ifname,
    kind,
    peerInOtherNetns: kind === 'veth' && l.link_netnsid !== undefined,
    up: flags.includes('UP'),
    carrier: flags.includes('LOWER_UP'),
    mtu: l.mtu ?? 0,
    mac: l.address ?? '',
  };
}

/** Bring a device up (`ip link set dev NAME up`). */
export function setLinkUp(name: string): void {
  execFileSync('ip', ['link', 'set', 'dev', name, 'up'], { stdio: 'ignore' });
}

/** Set a device's admin state (`ip link set dev NAME up|down`; OpenFlow's OFPPC_PORT_DOWN). */
export function setLinkAdmin(name: string, up: boolean): void {
  execFileSync('ip', ['link', 'set', 'dev', name, up ? 'up' : 'down'], { stdio: 'ignore' });
}

/** ifindex and operational state from sysfs, or undefined when the device is gone. */
export function linkState(name: string): { ifindex: number; up: boolean } | undefined {
  try {
    const ifindex = Number(fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
    const oper = fs.readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim();
    return { ifindex, up: oper === 'up' };
  } catch {
    return undefined;
  }
}
