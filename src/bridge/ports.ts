/**
 * Port planning: the pure rules the bridge and port actors apply to a configured port (which
 * datapath device it uses, which ofport it gets, what its ofproto port looks like, what a
 * change of it means). No I/O here; port-io.ts does the attaching.
 *
 * ofport assignment (the bridge allocates, so there are no races between port actors): the
 * bridge's own internal interface gets OFPP_LOCAL (65534); else Interface.ofport_request if
 * free; else the ofport the interface had (in OVSDB, or the pinned datapath's port number for
 * that device, so a restart keeps numbers and megaflows valid); else the lowest free from 1.
 * The datapath port number equals the ofport.
 */
import { hiddenName } from '../netdev/index.ts';
import { OFPP_LOCAL, type PortConfig } from './config.ts';

/** The datapath device of an interface: itself, or the hidden end of an internal pair. */
export function dpDevice(c: PortConfig): string {
  return c.iface.type === 'internal' ? hiddenName(c.iface.name) : c.iface.name;
}

/** The ofproto side of a port: datapath port = ofport; trunks only on an untagged port. */
export function ofprotoPort(c: PortConfig, ofport: number) {
  return { name: c.iface.name, ofport, dpPort: ofport, tag: c.tag, trunks: c.tag === undefined ? c.trunks : undefined };
}

/** Identity of a port's attachment: a change means detach and attach anew. */
export function portIdentity(p: PortConfig): string {
  return JSON.stringify([p.iface.name, p.iface.type, p.iface.ofportRequest, p.invalid]);
}

/** Picks the ofport of a new port (see the note above). */
export function assignOfport(bridge: string, p: PortConfig, used: Set<number>, dpPorts: Map<string, number>): number {
  if (p.iface.type === 'internal' && p.iface.name === bridge) return OFPP_LOCAL;
  const free = (n: number | undefined): n is number => n !== undefined && n >= 1 && n < 0xff00 && !used.has(n);
  if (free(p.iface.ofportRequest)) return p.iface.ofportRequest;
  if (free(p.iface.ofport)) return p.iface.ofport;
  const dp = dpPorts.get(dpDevice(p));
  if (free(dp)) return dp;
  let n = 1;
  while (used.has(n)) n++;
  return n;
}

/** Interface.error for a failed attach: ovs-vswitchd's wording for a missing device. */
export function attachErrorText(err: unknown, c: PortConfig): string {
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code === 'NO_SUCH_INTERFACE') return `could not open network device ${c.iface.name} (No such device)`;
  // OVS: "could not add network device X to ofproto (File too large)" for a full datapath.
  if (e?.code === 'PORT_TABLE_FULL') return `could not add network device ${c.iface.name} to ofproto (port table full: ${e.message})`;
  return e?.message ?? String(err);
}

/** One transaction op that writes an Interface's link_state (admin_state is always up). */
export function linkStateOp(ifaceUuid: string, up: boolean): unknown {
  return { op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', ifaceUuid]]], row: { link_state: up ? 'up' : 'down', admin_state: 'up' } };
}
