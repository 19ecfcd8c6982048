/**
 * The NATS command handlers of the daemon: ofctl (OpenFlow tables), appctl (live state
 * queries) and the daemon's own ping/health. They run on the daemon's event loop, between
 * upcall batches, so they see a consistent runtime.
 *
 * Errors: a RuntimeError (a flow that does not parse, an unknown port) becomes invalid_request
 * naming its field; an unknown bridge becomes not_found with field "bridge". The bus client
 * validates requests before these run and turns any other throw into an `internal` reply, so
 * nothing a client sends can stop the daemon.
 *
 * Flow-mods take effect on existing traffic before the reply: after changing the tables the
 * handler runs a revalidation pass itself (synchronous, so it cannot interleave with the
 * revalidator actor's pass), instead of waiting for the next periodic one.
 */
import fs from 'node:fs';
import { BusError, BusErrorCode, BUS_PROTOCOL_VERSION, hostId, type Handlers } from '../bus/index.ts';
import type { Services } from '../daemon/services.ts';
import { OFPP } from '../ofproto/flow.ts';
import { revalidate } from './revalidate.ts';
import { RuntimeError, type BridgeRuntime } from './runtime.ts';

export const BVS_VERSION = '0.1.0';

function runtimeOf(s: Services, bridge: string): BridgeRuntime {
  const rt = s.runtimes.get(bridge);
  if (!rt) throw new BusError(BusErrorCode.NotFound, `no bridge named ${bridge}`, { field: 'bridge' });
  return rt;
}

/** Runs `fn`, mapping RuntimeError to invalid_request with its field. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuntimeError) {
      throw new BusError(BusErrorCode.InvalidRequest, err.message, { field: err.field ?? 'flow', cause: err });
    }
    throw err;
  }
}

function readSys(dev: string, file: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/class/net/${dev}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function flowModThenRevalidate(rt: BridgeRuntime, fn: () => { count: number }): { count: number } {
  const r = guard(fn);
  if (r.count > 0) revalidate(rt);
  return r;
}

export interface CommandDeps {
  services: Services;
  host: string;
  startedAt: number;
}

export function commandHandlers(d: CommandDeps): Handlers {
  const s = d.services;
  return {
    'daemon.ping': () => ({
      host: d.host || hostId(), pid: process.pid, version: BVS_VERSION, protocol: BUS_PROTOCOL_VERSION,
      uptime_s: (Date.now() - d.startedAt) / 1000, time: new Date().toISOString(),
    }),
    'daemon.health': () => {
      const components = [...s.health.entries()].map(([name, h]) => ({
        name, status: h.status, restarts: h.restarts, ...(h.detail === undefined ? {} : { detail: h.detail }),
      }));
      for (const name of s.runtimes.keys()) {
        if (!s.health.has(`bridge:${name}`)) components.push({ name: `bridge:${name}`, status: 'ok', restarts: 0 });
      }
      const status = components.some((c) => c.status === 'failing') ? 'failing'
        : components.some((c) => c.status === 'degraded') ? 'degraded' : 'ok';
      return { status, components };
    },

    'ofctl.add-flow': (r) => { const rt = runtimeOf(s, r.bridge); return flowModThenRevalidate(rt, () => rt.flowMod({ op: 'add', flows: [r.flow] })); },
    'ofctl.add-flows': (r) => { const rt = runtimeOf(s, r.bridge); return flowModThenRevalidate(rt, () => rt.flowMod({ op: 'add', flows: r.flows })); },
    'ofctl.mod-flows': (r) => {
      const rt = runtimeOf(s, r.bridge);
      return flowModThenRevalidate(rt, () => rt.flowMod({ op: 'modify', flow: r.flow, strict: r.strict }));
    },
    'ofctl.del-flows': (r) => {
      const rt = runtimeOf(s, r.bridge);
      return flowModThenRevalidate(rt, () => rt.flowMod({ op: 'delete', flow: r.flow, strict: r.strict }));
    },
    'ofctl.dump-flows': (r) => { const rt = runtimeOf(s, r.bridge); return guard(() => rt.dumpFlows({ flow: r.flow, table: r.table })); },
    'ofctl.dump-ports': (r) => { const rt = runtimeOf(s, r.bridge); return guard(() => rt.dumpPorts(r.port)); },
    'ofctl.show': (r) => {
      const rt = runtimeOf(s, r.bridge);
      const local = rt.findPort(OFPP.LOCAL);
      const mac = (local && readSys(local.name, 'address')) ?? '00:00:00:00:00:00';
      return {
        bridge: rt.name,
        datapath_id: `0000${mac.replace(/:/g, '')}`.padStart(16, '0').slice(-16),
        n_tables: 254,
        ports: rt.ofproto.sortedPorts().map((p) => {
          const addr = readSys(p.name, 'address');
          const up = readSys(p.name, 'operstate') === 'up';
          const admin = (Number.parseInt(readSys(p.name, 'flags') ?? '0', 16) & 1) === 1;
          return {
            ofport: p.ofport, name: p.name, state: up ? 'up' as const : 'down' as const,
            config: admin ? [] : ['PORT_DOWN'],
            ...(addr && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(addr) ? { mac: addr } : {}),
          };
        }),
      };
    },

    'appctl.fdb.show': (r) => runtimeOf(s, r.bridge).fdbShow(),
    'appctl.fdb.flush': (r) => {
      const rts = r.bridge === undefined ? [...s.runtimes.values()] : [runtimeOf(s, r.bridge)];
      let flushed = 0;
      for (const rt of rts) {
        flushed += rt.fdbFlush();
        revalidate(rt);
      }
      return { flushed, bridges: rts.map((rt) => rt.name) };
    },
    'appctl.dpif.show': () => ({ datapaths: [...s.runtimes.values()].sort((a, b) => a.name.localeCompare(b.name)).map((rt) => rt.dpifShow()) }),
    'appctl.upcall.show': () => {
      const rts = [...s.runtimes.values()].sort((a, b) => a.name.localeCompare(b.name));
      if (rts.length === 0) {
        return { flows: { current: 0, average: 0, max: 0, limit: 200_000 }, dump_duration_ms: 0, max_idle_ms: 10_000, handlers: [], revalidators: [] };
      }
      const each = rts.map((rt) => rt.upcallShow());
      const first = each[0]!;
      return {
        flows: {
          current: each.reduce((n, e) => n + e.flows.current, 0),
          average: each.reduce((n, e) => n + e.flows.average, 0),
          max: each.reduce((n, e) => n + e.flows.max, 0),
          limit: first.flows.limit,
        },
        dump_duration_ms: Math.max(...each.map((e) => e.dump_duration_ms)),
        max_idle_ms: first.max_idle_ms,
        handlers: each.flatMap((e, i) => e.handlers.map((h) => ({ ...h, id: i }))),
        revalidators: each.flatMap((e, i) => e.revalidators.map((h) => ({ ...h, id: i }))),
      };
    },
    'appctl.ofproto.trace': (r) => {
      const rt = runtimeOf(s, r.bridge);
      // With a packet, `flow` names only the in_port (runtime.trace); the contract checked
      // that `packet` is base64, so decoding cannot fail here.
      const packet = r.packet === undefined ? undefined : new Uint8Array(Buffer.from(r.packet, 'base64'));
      return guard(() => rt.trace(r.flow, packet));
    },
  };
}
