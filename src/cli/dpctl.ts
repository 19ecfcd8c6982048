/**
 * `bvs dpctl`: inspect and program a datapath's pinned maps directly, like ovs-dpctl. It needs
 * no daemon. Every command opens the datapath by name, does one thing, and closes it.
 * DP arguments accept `NAME` or `bvs@NAME`; where ovs-dpctl lets DP be omitted, it may be
 * omitted when exactly one datapath exists.
 */
import type { Command } from 'commander';
import { addon, Datapath, DatapathError, formatDpFlow, formatShow } from '../datapath/index.ts';
import { formatFlow, parseActions, parseFlow } from '../datapath/odp/index.ts';

function dpName(arg: string): string {
  const name = arg.startsWith('bvs@') ? arg.slice(4) : arg.startsWith('system@') ? arg.slice(7) : arg;
  if (!name) throw new DatapathError('NO_SUCH_DATAPATH', `invalid datapath name "${arg}"`);
  return name;
}

/** The datapath a command with an optional DP argument means. */
function defaultDp(arg: string | undefined): string {
  if (arg) return dpName(arg);
  const all = Datapath.list();
  if (all.length === 1) return all[0];
  throw new DatapathError('NO_SUCH_DATAPATH', all.length === 0 ? 'no datapaths exist' : `several datapaths exist (${all.join(', ')}): name one`);
}

function withDp<T>(name: string, fn: (dp: Datapath) => T): T {
  const dp = Datapath.open(name);
  try {
    return fn(dp);
  } finally {
    dp.close();
  }
}

/** Parse `IFNAME[,port_no=N][,type=internal]` as ovs-dpctl add-if does. */
function parseIfSpec(spec: string): { ifname: string; portNo?: number; internal: boolean } {
  const [ifname, ...opts] = spec.split(',');
  if (!ifname) throw new DatapathError('NO_SUCH_INTERFACE', `missing interface name in "${spec}"`);
  let portNo: number | undefined;
  let internal = false;
  for (const o of opts) {
    const [k, v] = o.split('=', 2);
    if (k === 'port_no' && v !== undefined && /^\d+$/.test(v)) portNo = Number(v);
    else if (k === 'type' && (v === 'system' || v === 'internal' || v === 'netdev')) internal = v === 'internal';
    else throw new DatapathError('PORT_NUMBER', `${ifname}: bad option "${o}" (expected port_no=N or type=system|internal)`);
  }
  return { ifname, portNo, internal };
}

function out(s: string): void {
  process.stdout.write(`${s}\n`);
}

export function registerDpctl(program: Command): void {
  const dpctl = program.command('dpctl')
    .description('inspect and program a bvs datapath through its pinned maps (like ovs-dpctl)')
    .addHelpText('after', '\nDatapaths are pinned under $BVS_PIN_DIR (default /sys/fs/bpf/bvs)/<DP>.');

  dpctl.command('add-dp').argument('<dp>').argument('[ifaces...]', 'interfaces to add, IFNAME[,port_no=N]')
    .option('--flow-table-size <n>', 'capacity of the megaflow table', (v) => Number(v))
    .description('create a datapath (and add interfaces to it)')
    .action((dp: string, ifaces: string[], o: { flowTableSize?: number }) => {
      const d = Datapath.create(dpName(dp), { maxFlows: o.flowTableSize });
      try {
        for (const spec of ifaces) {
          const s = parseIfSpec(spec);
          d.addPort(s.ifname, { portNo: s.portNo, internal: s.internal });
        }
      } catch (err) {
        d.close();
        Datapath.destroy(d.name); // all or nothing
        throw err;
      }
      d.close();
    });

  dpctl.command('del-dp').argument('<dp>').description('delete a datapath: detach its ports, remove its pins')
    .action((dp: string) => Datapath.destroy(dpName(dp)));

  dpctl.command('dump-dps').description('list the datapaths')
    .action(() => { for (const n of Datapath.list()) out(`bvs@${n}`); });

  dpctl.command('add-if').argument('<dp>').argument('<ifaces...>', 'IFNAME[,port_no=N][,type=internal]')
    .description('add interfaces as ports')
    .action((dp: string, ifaces: string[]) => withDp(dpName(dp), (d) => {
      for (const spec of ifaces) {
        const s = parseIfSpec(spec);
        d.addPort(s.ifname, { portNo: s.portNo, internal: s.internal });
      }
    }));

  dpctl.command('del-if').argument('<dp>').argument('<ifaces...>').description('remove ports')
    .action((dp: string, ifaces: string[]) => withDp(dpName(dp), (d) => { for (const i of ifaces) d.delPort(i); }));

  dpctl.command('show').argument('[dps...]').option('-s, --statistics', 'print port statistics')
    .description('show datapaths, their counters and ports')
    .action((dps: string[], o: { statistics?: boolean }) => {
      const names = dps.length ? dps.map(dpName) : Datapath.list();
      for (const n of names) {
        withDp(n, (d) => {
          const ports = d.listPorts().map((p) => (o.statistics ? { ...p, stats: d.portStats(p.portNo) } : p));
          out(formatShow(n, d.stats(), ports));
        });
      }
    });

  dpctl.command('dump-flows').argument('[dp]').description('print every flow with its statistics')
    .action((dp: string | undefined) => withDp(defaultDp(dp), (d) => {
      const now = addon().monotonicNs();
      for (const f of d.dumpFlows()) out(formatDpFlow(f, now));
    }));

  const flowCmd = (name: string, mode: 'add' | 'modify', desc: string) =>
    dpctl.command(name).argument('<dp>').argument('<flow>').argument('<actions>')
      .option('-s, --statistics', 'print the flow\'s statistics (mod-flow)')
      .option('--clear', 'reset the flow\'s statistics (mod-flow)')
      .option('--may-create', 'create the flow if it does not exist (mod-flow)')
      .description(desc)
      .action((dp: string, flow: string, actions: string, o: { clear?: boolean; mayCreate?: boolean; statistics?: boolean }) => {
        const { key, mask } = parseFlow(flow);
        const acts = parseActions(actions);
        withDp(dpName(dp), (d) => {
          const before = mode === 'modify' && o.statistics ? d.getFlow(key, mask) : undefined;
          d.putFlow(key, mask, acts, mode === 'modify' && o.mayCreate ? 'put' : mode, !!o.clear);
          if (before) out(formatDpFlow(before, addon().monotonicNs()));
        });
      });
  flowCmd('add-flow', 'add', 'add a flow: FLOW in ODP syntax, ACTIONS like "2,3" or "drop"');
  flowCmd('mod-flow', 'modify', 'change the actions of an existing flow');

  dpctl.command('get-flow').argument('<dp>').argument('<flow>').description('print one flow')
    .action((dp: string, flow: string) => withDp(dpName(dp), (d) => {
      const { key, mask } = parseFlow(flow);
      const f = d.getFlow(key, mask);
      if (!f) throw new DatapathError('NO_SUCH_FLOW', `no such flow: ${formatFlow(key, mask)}`);
      out(formatDpFlow(f, addon().monotonicNs()));
    }));

  dpctl.command('del-flow').argument('<dp>').argument('<flow>').description('delete one flow')
    .action((dp: string, flow: string) => withDp(dpName(dp), (d) => {
      const { key, mask } = parseFlow(flow);
      d.delFlow(key, mask);
    }));

  dpctl.command('del-flows').argument('[dp]').description('delete every flow')
    .action((dp: string | undefined) => withDp(defaultDp(dp), (d) => { d.flushFlows(); }));

  dpctl.command('execute').argument('<dp>').argument('<packet>', 'the frame in hex')
    .argument('<actions>').description('run ACTIONS on a packet and send it (bvs extension)')
    .action((dp: string, hex: string, actions: string) => withDp(dpName(dp), (d) => {
      const clean = hex.replace(/[\s:]/g, '');
      if (!/^([0-9a-fA-F]{2})+$/.test(clean)) throw new DatapathError('BAD_PACKET', `packet is not hex: "${hex.slice(0, 32)}"`);
      d.execute(Uint8Array.from(Buffer.from(clean, 'hex')), parseActions(actions));
    }));

}
