/** appctl.* over NATS: queries of the live state (fdb, dpif, upcall, ofproto/trace). */
import type { Handlers } from '../bus/index.ts';
import { SAMPLE_SECONDS, type Services } from '../bridge/index.ts';
import { DEFAULT_FLOW_LIMIT, DEFAULT_MAX_IDLE_MS } from '../vswitch/index.ts';
import { guard, runtimeOf } from './common.ts';
import { settled } from './ofctl.ts';

export function appctlHandlers(s: Services): Handlers {
  return {
    'appctl.fdb.show': (r) => runtimeOf(s, r.bridge).fdbShow(),
    'appctl.fdb.flush': async (r) => {
      const rts = r.bridge === undefined ? [...s.runtimes.values()] : [runtimeOf(s, r.bridge)];
      let flushed = 0;
      for (const rt of rts) flushed += (await settled(rt.fdbFlush())).count;
      return { flushed, bridges: rts.map((rt) => rt.name) };
    },
    'appctl.dpif.show': () => ({ datapaths: [...s.runtimes.values()].sort((a, b) => a.name.localeCompare(b.name)).map((rt) => rt.dpifShow()) }),
    'appctl.upcall.show': () => {
      const rts = [...s.runtimes.values()].sort((a, b) => a.name.localeCompare(b.name));
      if (rts.length === 0) {
        return { flows: { current: 0, average: 0, max: 0, limit: DEFAULT_FLOW_LIMIT }, dump_duration_ms: 0, max_idle_ms: DEFAULT_MAX_IDLE_MS, handlers: [], revalidators: [] };
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
    'appctl.coverage.show': () => ({
      interval_s: SAMPLE_SECONDS,
      events: s.coverage.lines().map((l) => ({
        name: l.name, what: s.coverage.events.get(l.name) ?? '', total: l.total,
        rate_interval: l.rate5s, rate_minute: l.rateMinute, rate_hour: l.rateHour,
      })),
    }),
    'appctl.ofproto.trace': (r) => {
      const rt = runtimeOf(s, r.bridge);
      // With a packet, `flow` names only the in_port (runtime.trace); the contract checked
      // that `packet` is base64, so decoding cannot fail here.
      const packet = r.packet === undefined ? undefined : new Uint8Array(Buffer.from(r.packet, 'base64'));
      return guard(() => rt.trace(r.flow, packet));
    },
  };
}
