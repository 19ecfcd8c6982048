/**
 * ofctl.* over NATS: the OpenFlow tables of a bridge (flow-mods, dumps, show).
 *
 * Flow-mods take effect on existing traffic before the reply: the handler awaits the
 * revalidation the flow-mod requested (BridgeRuntime.flowMod -> Udpif.requestRevalidation),
 * for at most REVALIDATE_WAIT_MS; a revalidator that is restarting cannot hold a reply longer.
 */
import fs from 'node:fs';
import type { Handlers } from '../bus/index.ts';
import type { Services } from '../bridge/index.ts';
import { OFPP } from '../ofproto/index.ts';
import type { Applied, BridgeRuntime, FlowModCommand } from '../vswitch/index.ts';
import { guard, runtimeOf } from './common.ts';

/** Longest a flow-mod's reply waits for the datapath to follow. */
export const REVALIDATE_WAIT_MS = 5_000;

/** Resolves when `a` is live in the datapath, or after REVALIDATE_WAIT_MS. */
export async function settled(a: Applied): Promise<{ count: number }> {
  if (a.count > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([a.revalidated, new Promise((r) => { timer = setTimeout(r, REVALIDATE_WAIT_MS); })]);
    clearTimeout(timer);
  }
  return { count: a.count };
}

function readSys(dev: string, file: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/class/net/${dev}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function flowMod(s: Services, bridge: string, c: FlowModCommand): Promise<{ count: number }> {
  const rt = runtimeOf(s, bridge);
  return settled(guard(() => rt.flowMod(c)));
}

function show(rt: BridgeRuntime) {
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
}

export function ofctlHandlers(s: Services): Handlers {
  return {
    'ofctl.add-flow': (r) => flowMod(s, r.bridge, { op: 'add', flows: [r.flow] }),
    'ofctl.add-flows': (r) => flowMod(s, r.bridge, { op: 'add', flows: r.flows }),
    'ofctl.mod-flows': (r) => flowMod(s, r.bridge, { op: 'modify', flow: r.flow, strict: r.strict }),
    'ofctl.del-flows': (r) => flowMod(s, r.bridge, { op: 'delete', flow: r.flow, strict: r.strict }),
    'ofctl.dump-flows': (r) => { const rt = runtimeOf(s, r.bridge); return guard(() => rt.dumpFlows({ flow: r.flow, table: r.table })); },
    'ofctl.dump-ports': (r) => { const rt = runtimeOf(s, r.bridge); return guard(() => rt.dumpPorts(r.port)); },
    'ofctl.show': (r) => show(runtimeOf(s, r.bridge)),
  };
}
