/**
 * Contracts of the configuration commands (ovs-vsctl's add-br/del-br/add-port/del-port) and the
 * daemon's own commands (ping, health).
 *
 * The daemon applies vsctl commands as OVSDB transactions, exactly as if ovs-vsctl had sent
 * them to DIR/db.sock, so OVSDB stays the one source of configuration truth. Unless `no_wait`
 * is set, the reply is sent once Open_vSwitch.cur_cfg has reached the transaction's next_cfg,
 * i.e. once the change is live (ovs-vsctl's default wait behaviour).
 */
import { z } from 'zod';
import { bridgeName, count, emptyRequest, portName, vlanId } from './common.ts';

/** ovs-vsctl's --no-wait: reply once committed to OVSDB, not once applied. */
const noWait = z.boolean().optional();

export const addBrRequest = z.strictObject({
  bridge: bridgeName,
  /** ovs-vsctl --may-exist: no error when the bridge exists. */
  may_exist: z.boolean().optional(),
  no_wait: noWait,
});

export const delBrRequest = z.strictObject({
  bridge: bridgeName,
  /** ovs-vsctl --if-exists: no error when the bridge does not exist. */
  if_exists: z.boolean().optional(),
  no_wait: noWait,
});

/** Interface types bvs supports: an existing netdev, or a device the daemon creates. */
export const InterfaceType = { System: 'system', Internal: 'internal' } as const;
export const interfaceType = z.enum([InterfaceType.System, InterfaceType.Internal]);

export const addPortRequest = z
  .strictObject({
    bridge: bridgeName,
    port: portName,
    /** Access VLAN (Port.tag). */
    tag: vlanId.optional(),
    /** Trunk VLANs (Port.trunks); empty or absent with no tag = trunk of all VLANs, as in OVS. */
    trunks: z.array(vlanId).max(4096).optional(),
    type: interfaceType.optional(),
    may_exist: z.boolean().optional(),
    no_wait: noWait,
  })
  .superRefine((r, ctx) => {
    if (r.trunks === undefined) return;
    const seen = new Set<number>();
    r.trunks.forEach((v, i) => {
      if (seen.has(v)) ctx.addIssue({ code: 'custom', path: ['trunks', i], message: `duplicate VLAN ${v}` });
      seen.add(v);
    });
  });

export const delPortRequest = z.strictObject({
  /** Optional as in ovs-vsctl: when given, the port must be on this bridge. */
  bridge: bridgeName.optional(),
  port: portName,
  if_exists: z.boolean().optional(),
  no_wait: noWait,
});

/**
 * Reply to every vsctl command. `changed` is false when --may-exist/--if-exists made it a no-op.
 * `next_cfg` is the Open_vSwitch.next_cfg of the transaction; `applied` tells whether cur_cfg
 * had reached it when the reply was sent (always false with no_wait).
 */
export const vsctlReply = z.object({
  changed: z.boolean(),
  next_cfg: count,
  applied: z.boolean(),
});

export const pingRequest = emptyRequest;
export const pingReply = z.object({
  host: z.string(),
  pid: count,
  /** bvs package version. */
  version: z.string(),
  /** Bus protocol version (BUS_PROTOCOL_VERSION); bumped on an incompatible contract change. */
  protocol: count,
  uptime_s: z.number().nonnegative(),
  /** ISO 8601 time on the daemon's host. */
  time: z.string(),
});

export const HealthStatus = { Ok: 'ok', Degraded: 'degraded', Failing: 'failing' } as const;
const healthStatus = z.enum([HealthStatus.Ok, HealthStatus.Degraded, HealthStatus.Failing]);

export const healthRequest = emptyRequest;
export const healthReply = z.object({
  status: healthStatus,
  /** One entry per supervised actor or subsystem (ovsdb, bridge:br0, port:br0/veth0, ...). */
  components: z.array(z.object({
    name: z.string(),
    status: healthStatus,
    detail: z.string().optional(),
    restarts: count.optional(),
  })),
});
