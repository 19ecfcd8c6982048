/**
 * The desired switch configuration, read from OVSDB rows (Open_vSwitch, Bridge, Port,
 * Interface) into plain typed objects. zod validates at this boundary: OVSDB enforces the
 * schema, but the daemon relies on more (names that are netdev names, one Interface per Port:
 * bonds are not supported), and a row that breaks those rules becomes an error on that item,
 * never a crash of the reconciler.
 *
 * RFC 7047 §5.1 JSON notation: a set column is a scalar or ["set", [...]], a map is
 * ["map", [[k, v], ...]], a uuid is ["uuid", "..."].
 */
import { z } from 'zod';
import type { DbHandle } from '../ovsdb/index.ts';
import { optInt, ovsMap, ovsSet, uuid } from './ovsdb-json.ts';
import { ControllerRow, openflowConfig, type OpenFlowConfig } from './controller-config.ts';

export const OFPP_LOCAL = 0xfffe;


const IfaceRow = z.object({
  _uuid: uuid, name: z.string(), type: z.string(),
  ofport: optInt, ofport_request: optInt, error: ovsSet(z.string()).transform((a) => a[0]),
});
const PortRow = z.object({
  _uuid: uuid, name: z.string(), interfaces: ovsSet(uuid), tag: optInt, trunks: ovsSet(z.number().int()),
  vlan_mode: ovsSet(z.string()).transform((a) => a[0]),
});
const BridgeRow = z.object({
  _uuid: uuid, name: z.string(), ports: ovsSet(uuid), other_config: ovsMap,
  controller: ovsSet(uuid), protocols: ovsSet(z.string()), fail_mode: ovsSet(z.string()).transform((a) => a[0]),
});
const OvsRow = z.object({
  _uuid: uuid, bridges: ovsSet(uuid), next_cfg: z.number().int(), cur_cfg: z.number().int(), other_config: ovsMap,
});

export const IFNAME_RE = /^[^\s/:]{1,15}$/;

export interface IfaceConfig {
  uuid: string;
  name: string;
  /** 'system' (an existing netdev) or 'internal' (the daemon creates it). */
  type: 'system' | 'internal';
  ofportRequest: number | undefined;
  /** Interface.ofport as last written (kept stable across restarts). */
  ofport: number | undefined;
  error: string | undefined;
}

export interface PortConfig {
  uuid: string;
  name: string;
  tag: number | undefined;
  trunks: number[];
  iface: IfaceConfig;
  /** Set when the row cannot be applied as configured (written to Interface.error). */
  invalid?: string;
}

export interface BridgeConfig {
  uuid: string;
  name: string;
  ports: PortConfig[];
  otherConfig: Record<string, string>;
  /** Fast-path knobs from Open_vSwitch other_config (max-idle ms, flow-limit), as in OVS. */
  tuning: FastPathTuning;
  /** Controllers, fail mode, protocols and datapath id (controller-config.ts). */
  openflow: OpenFlowConfig;
}

export interface FastPathTuning {
  maxIdleMs?: number;
  flowLimit?: number;
}

function positiveInt(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Open_vSwitch other_config:max-idle and :flow-limit (ovs-vswitchd.conf.db(5)). */
export function fastPathTuning(otherConfig: Record<string, string>): FastPathTuning {
  const maxIdleMs = positiveInt(otherConfig['max-idle']);
  const flowLimit = positiveInt(otherConfig['flow-limit']);
  return { ...(maxIdleMs === undefined ? {} : { maxIdleMs }), ...(flowLimit === undefined ? {} : { flowLimit }) };
}

export interface SwitchConfig {
  ovsUuid: string;
  nextCfg: number;
  curCfg: number;
  otherConfig: Record<string, string>;
  bridges: BridgeConfig[];
  /** Items skipped as invalid, with the reason (logged by the reconciler). */
  problems: string[];
}

function parseRow<T extends z.ZodType>(schema: T, row: unknown, what: string, problems: string[]): z.output<T> | undefined {
  const r = schema.safeParse(row);
  if (r.success) return r.data;
  const iss = r.error.issues[0]!;
  problems.push(`${what}: column ${iss.path.join('.') || '?'}: ${iss.message}`);
  return undefined;
}

/** Reads the desired configuration; undefined when there is no Open_vSwitch row yet. */
export function readConfig(db: DbHandle): SwitchConfig | undefined {
  const problems: string[] = [];
  const ovsRows = db.rows('Open_vSwitch');
  if (ovsRows.length === 0) return undefined;
  const ovs = parseRow(OvsRow, ovsRows[0], 'Open_vSwitch', problems);
  if (!ovs) throw new Error(problems[0]);
  const ifaces = new Map<string, z.output<typeof IfaceRow>>();
  for (const r of db.rows('Interface')) {
    const i = parseRow(IfaceRow, r, `Interface ${String((r as { name?: unknown }).name)}`, problems);
    if (i) ifaces.set(i._uuid, i);
  }
  const ports = new Map<string, z.output<typeof PortRow>>();
  for (const r of db.rows('Port')) {
    const p = parseRow(PortRow, r, `Port ${String((r as { name?: unknown }).name)}`, problems);
    if (p) ports.set(p._uuid, p);
  }
  const controllers = new Map<string, z.output<typeof ControllerRow>>();
  for (const r of db.rows('Controller')) {
    const c = parseRow(ControllerRow, r, `Controller ${String((r as { target?: unknown }).target)}`, problems);
    if (c) controllers.set(c._uuid, c);
  }
  const bridges: BridgeConfig[] = [];
  const seenNames = new Set<string>();
  for (const r of db.rows('Bridge')) {
    const b = parseRow(BridgeRow, r, `Bridge ${String((r as { name?: unknown }).name)}`, problems);
    if (!b || !ovs.bridges.includes(b._uuid)) continue;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$/.test(b.name)) {
      problems.push(`Bridge ${b.name}: name must be 1-15 of letters, digits, '_' and '-' (it names a datapath and a netdev)`);
      continue;
    }
    const out: BridgeConfig = {
      uuid: b._uuid, name: b.name, ports: [], otherConfig: b.other_config, tuning: fastPathTuning(ovs.other_config),
      openflow: openflowConfig(b, controllers, problems),
    };
    for (const pu of b.ports) {
      const p = ports.get(pu);
      if (!p) continue;
      const iface = ifaces.get(p.interfaces[0] ?? '');
      if (!iface) continue;
      const pc: PortConfig = {
        uuid: p._uuid, name: p.name, tag: p.tag, trunks: p.trunks,
        iface: {
          uuid: iface._uuid, name: iface.name, type: iface.type === 'internal' ? 'internal' : 'system',
          ofportRequest: iface.ofport_request, ofport: iface.ofport, error: iface.error,
        },
      };
      if (p.interfaces.length > 1) pc.invalid = 'bonds (several interfaces on one port) are not supported';
      else if (!['', 'system', 'internal'].includes(iface.type)) pc.invalid = `interface type "${iface.type}" is not supported (system, internal)`;
      else if (!IFNAME_RE.test(iface.name)) pc.invalid = `interface name "${iface.name}" is not a valid netdev name`;
      else if (seenNames.has(iface.name)) pc.invalid = `interface ${iface.name} is configured on another port`;
      else if (pc.tag !== undefined && (pc.tag < 1 || pc.tag > 4095)) pc.invalid = `tag ${pc.tag} is out of range 1..4095`;
      seenNames.add(iface.name);
      out.ports.push(pc);
    }
    bridges.push(out);
  }
  bridges.sort((a, b) => a.name.localeCompare(b.name));
  return {
    ovsUuid: ovs._uuid, nextCfg: ovs.next_cfg, curCfg: ovs.cur_cfg, otherConfig: ovs.other_config, bridges, problems,
  };
}

/** A string that changes iff the desired state of a port changes (status columns excluded). */
export function portFingerprint(p: PortConfig): string {
  return JSON.stringify([p.name, p.tag, p.trunks, p.iface.name, p.iface.type, p.iface.ofportRequest, p.invalid]);
}

/** One transaction op that writes an Interface's ofport and error (status columns). */
export function ifaceStatusOp(ifaceUuid: string, s: { ofport?: number; error?: string; linkState?: 'up' | 'down'; ifindex?: number; mac?: string }): unknown {
  const row: Record<string, unknown> = {
    ofport: s.ofport === undefined ? ['set', []] : s.ofport,
    error: s.error === undefined ? ['set', []] : s.error,
  };
  if (s.linkState !== undefined) { row.link_state = s.linkState; row.admin_state = 'up'; }
  if (s.ifindex !== undefined) row.ifindex = s.ifindex;
  if (s.mac !== undefined) row.mac_in_use = s.mac;
  return { op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', ifaceUuid]]], row };
}
