/**
 * ofctl.* over NATS: the OpenFlow tables of a bridge (flow-mods, dumps, show).
 *
 * Flow-mods take effect on existing traffic before the reply: the handler awaits the
 * revalidation the flow-mod requested (BridgeRuntime.flowMod -> Udpif.requestRevalidation),
 * for at most REVALIDATE_WAIT_MS; a revalidator that is restarting cannot hold a reply longer.
 */
import type { Handlers } from '../bus/index.ts';
import type { Services } from '../bridge/index.ts';
import { datapathIdOf, describePort, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../connmgr/index.ts';
import { formatMac } from '../datapath/index.ts';
import { N_TABLES, OFPP } from '../ofproto/index.ts';
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

async function flowMod(s: Services, bridge: string, c: FlowModCommand): Promise<{ count: number }> {
  const rt = runtimeOf(s, bridge);
  return settled(guard(() => rt.flowMod(c)));
}

/** What `ovs-ofctl show` prints, from the same port descriptions OpenFlow sends (connmgr). */
function show(rt: BridgeRuntime) {
  const local = rt.findPort(OFPP.LOCAL);
  return {
    bridge: rt.name,
    datapath_id: rt.openflow?.datapathIdHex() ?? datapathIdOf(local).toString(16).padStart(16, '0'),
    n_tables: N_TABLES,
    ports: rt.ofproto.sortedPorts().map((p) => {
      const d = describePort(p);
      return {
        ofport: p.ofport, name: p.name, state: d.state & OFPPS_LINK_DOWN ? 'down' as const : 'up' as const,
        config: d.config & OFPPC_PORT_DOWN ? ['PORT_DOWN'] : [],
        ...(d.hwAddr !== 0 ? { mac: formatMac(d.hwAddr) } : {}),
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
