/**
 * Event payloads: published by the daemon, fire-and-forget, no reply. Per-packet work never
 * crosses NATS; packet-in is the controller action's explicit exception, and its rate is bounded
 * by the flows that send to the controller.
 */
import { z } from 'zod';
import { bridgeName, count, ofport, portName, u64 } from './common.ts';

export const portStatusEvent = z.object({
  bridge: bridgeName,
  port: portName,
  /** Assigned OpenFlow port; absent while none is assigned (e.g. the interface is missing). */
  ofport: ofport.optional(),
  state: z.enum(['up', 'down']),
  /** Why: carrier change, port added/removed by configuration, or the interface is missing. */
  reason: z.enum(['link', 'added', 'removed', 'missing']).optional(),
});

export const flowLimitEvent = z.object({
  /** Datapath name, e.g. "bvs@br0". */
  datapath: z.string(),
  bridge: bridgeName.optional(),
  limit: count,
  count,
});

/** OpenFlow 1.3 §7.4.1 ofp_packet_in_reason, by OVS's names. */
export const PacketInReason = { Action: 'action', NoMatch: 'no_match', InvalidTtl: 'invalid_ttl' } as const;

export const packetInEvent = z.object({
  bridge: bridgeName,
  table: z.number().int().min(0).max(254),
  cookie: u64,
  reason: z.enum([PacketInReason.Action, PacketInReason.NoMatch, PacketInReason.InvalidTtl]),
  in_port: ofport,
  /** Length of the frame on the wire; `packet` may be truncated (controller:max_len). */
  total_len: count,
  /** The Ethernet frame, base64. */
  packet: z.base64(),
  /** The extracted flow key in ovs-ofctl syntax (what ofproto matched on). */
  flow: z.string(),
  /** controller(userdata=...): the bytes for the controller, base64 (NXPINT_USERDATA). */
  userdata: z.base64().optional(),
  /** controller(pause): the pipeline stopped here; only an OpenFlow controller (NXT_PACKET_IN2
   *  continuation, NXT_RESUME) can resume it, the bus event carries no continuation. */
  pause: z.boolean().optional(),
});

export const configChangedEvent = z.object({
  /** Open_vSwitch.next_cfg after the commit (a change may also leave it unchanged: --no-wait). */
  next_cfg: count,
});

export const configAppliedEvent = z.object({
  /** Open_vSwitch.cur_cfg after the change went live. */
  cur_cfg: count,
});

export const daemonStartedEvent = z.object({
  pid: count,
  version: z.string(),
  protocol: count,
});

export const daemonStoppingEvent = z.object({
  pid: count,
  /** e.g. "SIGTERM". */
  reason: z.string(),
});
