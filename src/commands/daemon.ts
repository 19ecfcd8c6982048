/** daemon.ping and daemon.health: is the daemon there, and how are its components. */
import { BUS_PROTOCOL_VERSION, hostId, type Handlers } from '../bus/index.ts';
import type { Services } from '../bridge/index.ts';

export const BVS_VERSION = '0.1.0';

export interface DaemonCommandDeps {
  services: Services;
  host: string;
  startedAt: number;
}

export function daemonHandlers(d: DaemonCommandDeps): Handlers {
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
  };
}
