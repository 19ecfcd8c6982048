/**
 * Contracts of the appctl-style queries (ovs-appctl fdb/show, fdb/flush, dpif/show, upcall/show,
 * coverage/show, ofproto/trace). They read the daemon's live state: the MAC tables, the datapaths, the upcall
 * handlers and revalidators, and the OpenFlow tables.
 */
import { z } from 'zod';
import { bridgeName, count, emptyRequest, flowText, mac, ofport, u64, vlanId } from './common.ts';

export const fdbShowRequest = z.strictObject({ bridge: bridgeName });
export const fdbShowReply = z.object({
  entries: z.array(z.object({
    /** OpenFlow port the MAC was learned on. */
    ofport,
    port_name: z.string().optional(),
    vlan: vlanId,
    mac,
    age_s: z.number().nonnegative(),
  })),
});

export const fdbFlushRequest = z.strictObject({
  /** Absent = every bridge, as `ovs-appctl fdb/flush` without an argument. */
  bridge: bridgeName.optional(),
});
export const fdbFlushReply = z.object({
  flushed: count,
  bridges: z.array(z.string()),
});

export const dpifShowRequest = emptyRequest;
export const dpifShowReply = z.object({
  datapaths: z.array(z.object({
    /** Datapath name, e.g. "bvs@br0". */
    name: z.string(),
    bridge: z.string(),
    hit: u64,
    missed: u64,
    lost: u64,
    flows: count,
    masks: z.object({ hit: u64, total: count }).optional(),
    ports: z.array(z.object({
      name: z.string(),
      /** Datapath port number (an ifindex-derived or allocated id; distinct from ofport). */
      odp_port: count,
      ofport: ofport.optional(),
      type: z.string(),
    })),
  })),
});

export const upcallShowRequest = emptyRequest;
export const upcallShowReply = z.object({
  flows: z.object({
    current: count,
    average: z.number().nonnegative(),
    max: count,
    /** The flow limit the revalidators enforce. */
    limit: count,
  }),
  dump_duration_ms: z.number().nonnegative(),
  /** Idle time after which a megaflow is removed (OVS max-idle). */
  max_idle_ms: count,
  handlers: z.array(z.object({
    id: count,
    upcalls: u64,
    flows_installed: u64.optional(),
    errors: u64.optional(),
  })),
  revalidators: z.array(z.object({
    id: count,
    dumps: u64.optional(),
    flows_removed: u64.optional(),
  })),
});

/** coverage/show: the daemon's event counters (src/bridge/coverage.ts), every one, hit or not. */
export const coverageShowRequest = emptyRequest;
export const coverageShowReply = z.object({
  /** Seconds per sample: the first rate is over this interval. */
  interval_s: count,
  events: z.array(z.object({
    name: z.string(),
    /** What the event counts. */
    what: z.string(),
    total: u64,
    /** Per second, over the last interval, minute and hour. */
    rate_interval: z.number().nonnegative(),
    rate_minute: z.number().nonnegative(),
    rate_hour: z.number().nonnegative(),
  })),
});

export const traceRequest = z.strictObject({
  bridge: bridgeName,
  /** Flow in ovs-appctl ofproto/trace syntax, e.g. "in_port=1,dl_dst=...,ip,nw_dst=10.0.0.2". */
  flow: flowText,
  /** Optional packet to trace instead of a flow description, base64 of the Ethernet frame. */
  packet: z.base64().max(131072).optional(),
});
export const traceReply = z.object({
  /** The human-readable trace, as ovs-appctl ofproto/trace prints it. */
  text: z.string(),
  /** "Datapath actions: ..." without the prefix. */
  datapath_actions: z.string(),
  /** The megaflow the datapath would install, in ovs-dpctl syntax. */
  megaflow: z.string(),
});
