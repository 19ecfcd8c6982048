/**
 * A bridge: its ports (with their VLAN mode for NORMAL), its OpenFlow pipeline and its MAC
 * table. Ports have an OpenFlow number (ofport) and a datapath port number (dpPort); offline
 * they are equal, the daemon sets dpPort to what the datapath assigned. `mapPort` may be
 * injected to override the ofport -> datapath port mapping entirely.
 *
 * VLAN modes (ovs-vswitchd.conf.db(5) Port vlan_mode, reduced): a port with `tag` is an access
 * port of that VLAN; otherwise it is a trunk carrying the VLANs in `trunks`, or all VLANs when
 * `trunks` is absent or empty. Untagged frames on a trunk belong to VLAN 0.
 */
import { z } from 'zod';
import { OFPP } from './flow.ts';
import { MacTable, type MacTableOptions } from './mac-learning.ts';
import { MeterTable } from './meters.ts';
import { Pipeline } from './table.ts';

export interface PortConfig {
  name: string;
  ofport: number;
  dpPort?: number;
  tag?: number;
  trunks?: number[];
}

export interface BridgePort {
  readonly name: string;
  readonly ofport: number;
  readonly dpPort: number;
  readonly tag: number | undefined;
  readonly trunks: ReadonlySet<number> | undefined;
}

export class BridgeError extends Error {
  override name = 'BridgeError';
}

export interface BridgeOptions {
  now?: () => number;
  mac?: Omit<MacTableOptions, 'now'>;
  mapPort?: (ofport: number) => number | undefined;
}

export class Bridge {
  readonly ports = new Map<number, BridgePort>();
  private readonly byDp = new Map<number, BridgePort>();
  readonly pipeline: Pipeline;
  readonly mac: MacTable;
  /** OpenFlow meters (meters.ts); the datapath runs them. */
  readonly meters: MeterTable;
  readonly now: () => number;
  private readonly mapPort: ((ofport: number) => number | undefined) | undefined;
  /** Bumped when ports, their link state or the table-miss behaviour change: every megaflow may be stale. */
  portGeneration = 0;
  private missToCtl = false;
  /** Ports (by name) whose link is down; liveness is per interface, so it survives re-adds. */
  private readonly linkDown = new Set<string>();

  constructor(readonly name: string, opts: BridgeOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.pipeline = new Pipeline(this.now);
    this.mac = new MacTable({ ...opts.mac, now: this.now });
    this.meters = new MeterTable(undefined, undefined, this.now);
    this.mapPort = opts.mapPort;
  }

  addPort(c: PortConfig): BridgePort {
    if (!Number.isInteger(c.ofport) || c.ofport < 1 || (c.ofport >= OFPP.MAX && c.ofport !== OFPP.LOCAL)) {
      throw new BridgeError(`port ${c.name}: ofport ${c.ofport} is not a valid port number`);
    }
    if (this.ports.has(c.ofport)) throw new BridgeError(`port ${c.name}: ofport ${c.ofport} is already used`);
    for (const p of this.ports.values()) if (p.name === c.name) throw new BridgeError(`port ${c.name} already exists`);
    if (c.tag !== undefined && (c.tag < 1 || c.tag > 4095)) throw new BridgeError(`port ${c.name}: tag ${c.tag} is out of range 1..4095`);
    if (c.tag !== undefined && c.trunks?.length) throw new BridgeError(`port ${c.name}: tag and trunks are exclusive`);
    for (const v of c.trunks ?? []) if (v < 0 || v > 4095) throw new BridgeError(`port ${c.name}: trunk VLAN ${v} is out of range 0..4095`);
    const p: BridgePort = {
      name: c.name, ofport: c.ofport, dpPort: c.dpPort ?? c.ofport, tag: c.tag,
      trunks: c.trunks?.length ? new Set(c.trunks) : undefined,
    };
    this.ports.set(p.ofport, p);
    this.byDp.set(p.dpPort, p);
    this.portGeneration++;
    return p;
  }

  /** Ports with OFPPC_NO_FLOOD (a port-mod): output to FLOOD and NORMAL's flooding skip them. */
  readonly noFlood = new Set<number>();

  setNoFlood(ofport: number, on: boolean): void {
    if (on === this.noFlood.has(ofport)) return;
    if (on) this.noFlood.add(ofport); else this.noFlood.delete(ofport);
    this.portGeneration++;
  }

  removePort(ofport: number): boolean {
    const p = this.ports.get(ofport);
    if (!p) return false;
    this.noFlood.delete(ofport);
    this.ports.delete(ofport);
    this.byDp.delete(p.dpPort);
    this.mac.flushPort(ofport);
    this.portGeneration++;
    return true;
  }

  /** Whether a miss in table 0 goes to the controllers (xlate.ts xlateTable). */
  get missToController(): boolean {
    return this.missToCtl;
  }

  set missToController(on: boolean) {
    if (on === this.missToCtl) return;
    this.missToCtl = on;
    this.portGeneration++;
  }

  /**
   * Records a port's link state (the port actor's LINK events). Returns whether it changed;
   * a change bumps portGeneration, since fast failover and select groups read liveness.
   */
  setLinkUp(name: string, up: boolean): boolean {
    if (up !== this.linkDown.has(name)) return false;
    if (up) this.linkDown.delete(name); else this.linkDown.add(name);
    this.portGeneration++;
    return true;
  }

  /** OVS's may_enable: the port exists and its link is not known to be down. */
  isPortLive(ofport: number): boolean {
    const p = this.ports.get(ofport);
    return p !== undefined && !this.linkDown.has(p.name);
  }

  /** Datapath port of an OpenFlow port, or undefined when the bridge has no such port. */
  toDp(ofport: number): number | undefined {
    if (this.mapPort) return this.mapPort(ofport);
    return this.ports.get(ofport)?.dpPort;
  }

  /** OpenFlow port of a datapath port. */
  fromDp(dpPort: number): number | undefined {
    return this.byDp.get(dpPort)?.ofport;
  }

  /** Whether `p` carries `vlan` (xbundle_includes_vlan). */
  static includesVlan(p: BridgePort, vlan: number): boolean {
    if (p.tag !== undefined) return p.tag === vlan;
    return p.trunks === undefined || p.trunks.has(vlan);
  }

  sortedPorts(): BridgePort[] {
    return [...this.ports.values()].sort((a, b) => a.ofport - b.ofport);
  }
}

const vid = z.coerce.number().int().min(0).max(4095);
const PortSpecItem = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'port name must be 1-15 of [A-Za-z0-9_.-]'),
  ofport: z.union([z.literal('LOCAL').transform(() => OFPP.LOCAL), z.coerce.number().int().min(1).max(0xfeff)]),
  tag: vid.min(1).optional(),
  trunks: z.array(vid).optional(),
});

export class PortSpecError extends Error {
  override name = 'PortSpecError';
}

/**
 * Parses the trace command's port list: `NAME=OFPORT[:tag=VID|:trunks=VID/VID/...]`, comma
 * separated. OFPORT may be LOCAL. Errors name the offending item.
 */
export function parsePortSpec(spec: string): PortConfig[] {
  const out: PortConfig[] = [];
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=([^:]+)(?::(tag|trunks)=(.*))?$/.exec(raw);
    if (!m) throw new PortSpecError(`bad port "${raw}": expected NAME=OFPORT[:tag=VID|:trunks=VID/VID/...]`);
    const r = PortSpecItem.safeParse({
      name: m[1], ofport: m[2]!.toUpperCase() === 'LOCAL' ? 'LOCAL' : m[2],
      tag: m[3] === 'tag' ? m[4] : undefined,
      trunks: m[3] === 'trunks' ? m[4]!.split('/') : undefined,
    });
    if (!r.success) {
      const iss = r.error.issues[0]!;
      throw new PortSpecError(`bad port "${raw}": ${iss.path.join('.') || 'value'}: ${iss.message}`);
    }
    out.push({ name: r.data.name, ofport: r.data.ofport, tag: r.data.tag, trunks: r.data.trunks });
  }
  if (out.length === 0) throw new PortSpecError('no ports given');
  return out;
}
