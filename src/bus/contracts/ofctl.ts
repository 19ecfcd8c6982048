/**
 * Contracts of the OpenFlow commands (ovs-ofctl add-flow/add-flows/mod-flows/del-flows/
 * dump-flows/dump-ports/show), one bridge per request.
 *
 * Flows travel as ovs-ofctl text; ofproto's parser is the authority on their syntax. A flow that
 * fails to parse gets an `invalid_request` reply whose field is `flow` (or `flows.N` for the Nth
 * line of add-flows), so the CLI can point at the bad line.
 */
import { z } from 'zod';
import { bridgeName, count, flowText, mac, ofport, portName, u64 } from './common.ts';

export const addFlowRequest = z.strictObject({ bridge: bridgeName, flow: flowText });

/** All flows are added in one transaction: either all are installed or none (OpenFlow bundles). */
export const addFlowsRequest = z.strictObject({
  bridge: bridgeName,
  flows: z.array(flowText).min(1, 'at least one flow').max(100_000),
});

export const modFlowsRequest = z.strictObject({
  bridge: bridgeName,
  /** Match plus new actions, as ovs-ofctl mod-flows takes it. */
  flow: flowText,
  /** --strict: match priority and wildcards exactly. */
  strict: z.boolean().optional(),
});

export const delFlowsRequest = z.strictObject({
  bridge: bridgeName,
  /** Match; absent = every flow, as `ovs-ofctl del-flows BR`. */
  flow: flowText.optional(),
  strict: z.boolean().optional(),
});

/** Reply of the flow-changing commands: how many rules were added, modified or removed. */
export const flowModReply = z.object({ count });

export const dumpFlowsRequest = z.strictObject({
  bridge: bridgeName,
  /** Optional match filter, as `ovs-ofctl dump-flows BR MATCH`. */
  flow: flowText.optional(),
  table: z.number().int().min(0).max(254).optional(),
});

export const flowStats = z.object({
  table: z.number().int().min(0).max(254),
  priority: z.number().int().min(0).max(0xffff),
  cookie: u64,
  /** Match in ovs-ofctl syntax, without priority (e.g. "ip,nw_dst=10.0.0.1"). */
  match: z.string(),
  /** Actions in ovs-ofctl syntax (e.g. "NORMAL", "drop"). */
  actions: z.string(),
  n_packets: u64,
  n_bytes: u64,
  duration_s: z.number().nonnegative(),
  /** Seconds since the last hit (or since install when never hit). */
  idle_age_s: z.number().nonnegative(),
  idle_timeout: count.optional(),
  hard_timeout: count.optional(),
});
export const dumpFlowsReply = z.object({ flows: z.array(flowStats) });

export const dumpPortsRequest = z.strictObject({
  bridge: bridgeName,
  /** One port by name; absent = all ports. */
  port: portName.optional(),
});
export const portStats = z.object({
  /** OpenFlow port number (65534 = LOCAL). */
  ofport,
  name: z.string(),
  rx_packets: u64, rx_bytes: u64, rx_dropped: u64, rx_errors: u64,
  tx_packets: u64, tx_bytes: u64, tx_dropped: u64, tx_errors: u64,
  duration_s: z.number().nonnegative().optional(),
});
export const dumpPortsReply = z.object({ ports: z.array(portStats) });

export const showRequest = z.strictObject({ bridge: bridgeName });
export const showReply = z.object({
  bridge: z.string(),
  /** 16 hex digits, as ovs-ofctl show prints "dpid:...". */
  datapath_id: z.string().regex(/^[0-9a-f]{16}$/),
  n_tables: count,
  ports: z.array(z.object({
    ofport,
    name: z.string(),
    mac: mac.optional(),
    /** Link state (OFPPS_LINK_DOWN clear = up). */
    state: z.enum(['up', 'down']),
    /** Administrative config flags, e.g. ["PORT_DOWN"]; empty when none. */
    config: z.array(z.string()).optional(),
    speed_mbps: count.optional(),
  })),
});
