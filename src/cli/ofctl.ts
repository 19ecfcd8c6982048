/**
 * `bvs ofctl`: the OpenFlow tables of a running daemon's bridges, like ovs-ofctl, over NATS
 * request/reply (src/bus contracts `ofctl.*`). Output is what ovs-ofctl 3.1 prints for an
 * OpenFlow 1.0 + Nicira-extensions session (the ovs-ofctl default).
 *
 * Flows are parsed here first with ofproto's parseFlow, so a syntax error is reported before
 * anything is sent, with its position and token (and FILE:LINE for add-flows); the daemon then
 * parses the same text again (it is the authority, and other clients may send text too).
 *
 * The daemon is found through DIR/nats.url (+ nats.token, nats.host) of --run-dir DIR (default
 * $BVS_RUN_DIR or /run/bvs), or --nats URL [--nats-creds FILE] (or $BVS_NATS_URL).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  BusError, BusErrorCode, BusRemoteError, connectBus, connectRunDir, OFPP_LOCAL, type Bus, type CommandName,
  type ReplyOf, type RequestOf,
} from '../bus/index.ts';
import { FlowSyntaxError, parseFlow, type ParseMode } from '../ofproto/index.ts';

/** Options shared by ofctl and appctl (declared on the parent command). */
export interface BusCliOptions {
  runDir?: string;
  nats?: string;
  natsCreds?: string;
  host?: string;
  timeout?: string;
}

export class CliError extends Error {
  override name = 'CliError';
}

export function addBusOptions(cmd: Command): Command {
  return cmd
    .option('--run-dir <DIR>', 'the daemon\'s run dir, where nats.url is (default $BVS_RUN_DIR or /run/bvs)')
    .option('--nats <URL>', 'NATS server of the daemon (default: DIR/nats.url; env BVS_NATS_URL)')
    .option('--nats-creds <FILE>', 'NATS credentials file (with --nats)')
    .option('--host <ID>', 'host id of the daemon (default: DIR/nats.host, $BVS_HOST or the hostname)')
    .option('--timeout <SECS>', 'give up waiting for a reply after SECS seconds', '10');
}

async function connect(o: BusCliOptions): Promise<Bus> {
  const url = o.nats ?? (process.env.BVS_NATS_URL || undefined);
  const common = { name: 'bvs-cli', timeoutMs: 5000, ...(o.host === undefined ? {} : { host: o.host }) };
  if (url !== undefined) return connectBus({ ...common, servers: url, ...(o.natsCreds === undefined ? {} : { credsFile: o.natsCreds }) });
  if (o.natsCreds !== undefined) throw new CliError('--nats-creds needs --nats URL');
  return connectRunDir(o.runDir ?? (process.env.BVS_RUN_DIR || '/run/bvs'), common);
}

/** One request to the daemon, with errors turned into one-line messages. */
export async function call<C extends CommandName>(o: BusCliOptions, name: C, payload: RequestOf<C>): Promise<ReplyOf<C>> {
  const secs = Number(o.timeout ?? '10');
  if (!Number.isFinite(secs) || secs <= 0) throw new CliError(`--timeout ${o.timeout}: expected a positive number of seconds`);
  const bus = await connect(o);
  try {
    return await bus.request(name, payload, { timeoutMs: secs * 1000 });
  } catch (err) {
    if (err instanceof BusRemoteError) {
      const field = err.field !== undefined && err.field !== '' && !err.message.includes(err.field) ? ` (field ${err.field})` : '';
      throw new CliError(`${err.message}${field}`, { cause: err });
    }
    if (err instanceof BusError && err.code === BusErrorCode.NoResponders) {
      throw new CliError(`no bvs daemon answers on ${bus.host} (${err.message})`, { cause: err });
    }
    throw err;
  } finally {
    await bus.close();
  }
}

/** Parses a flow like the daemon will, so syntax errors name their position and token here. */
export function checkFlow(text: string, mode: ParseMode, where = ''): void {
  try {
    parseFlow(text, mode);
  } catch (err) {
    if (err instanceof FlowSyntaxError) throw new CliError(`${where}${err.message}`, { cause: err });
    throw err;
  }
}

/** add-flows input: one flow per line; blank lines and `#` comment lines are skipped. */
export function readFlowsFile(file: string): { text: string; line: number }[] {
  let data: string;
  try {
    data = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message}`, { cause: err });
  }
  return data.split('\n').map((l, i) => ({ text: l.trim(), line: i + 1 })).filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

const portName = (ofport: number): string => (ofport === OFPP_LOCAL ? 'LOCAL' : String(ofport));

/** ofputil_flow_stats_format, for OpenFlow 1.0 + NXM as ovs-ofctl dump-flows prints it. */
export function formatFlowStatsLine(f: ReplyOf<'ofctl.dump-flows'>['flows'][number]): string {
  let s = ` cookie=0x${f.cookie.toString(16)}, duration=${f.duration_s.toFixed(3)}s, table=${f.table}, `;
  s += `n_packets=${f.n_packets}, n_bytes=${f.n_bytes}, `;
  if (f.idle_timeout) s += `idle_timeout=${f.idle_timeout}, `;
  if (f.hard_timeout) s += `hard_timeout=${f.hard_timeout}, `;
  s += `idle_age=${Math.floor(f.idle_age_s)}, `;
  const m = [...(f.priority === 32768 ? [] : [`priority=${f.priority}`]), ...(f.match === '' ? [] : [f.match])].join(',');
  return `${s}${m}${m ? ' ' : ''}actions=${f.actions}`;
}

export function formatDumpFlows(r: ReplyOf<'ofctl.dump-flows'>): string {
  return `NXST_FLOW reply (xid=0x4):\n${r.flows.map((f) => `${formatFlowStatsLine(f)}\n`).join('')}`;
}

/** OFPST_PORT reply: LOCAL first, then by port number (ovs-ofctl dump-ports). */
export function formatDumpPorts(r: ReplyOf<'ofctl.dump-ports'>): string {
  const ports = [...r.ports].sort((a, b) => (a.ofport === OFPP_LOCAL ? -1 : b.ofport === OFPP_LOCAL ? 1 : a.ofport - b.ofport));
  let s = `OFPST_PORT reply (xid=0x2): ${ports.length} ports\n`;
  for (const p of ports) {
    s += `  port ${p.ofport < 10 ? ' ' : ''}${portName(p.ofport)}: rx pkts=${p.rx_packets}, bytes=${p.rx_bytes}, drop=${p.rx_dropped}, errs=${p.rx_errors}, frame=0, over=0, crc=0\n`;
    s += `           tx pkts=${p.tx_packets}, bytes=${p.tx_bytes}, drop=${p.tx_dropped}, errs=${p.tx_errors}, coll=0\n`;
  }
  return s;
}

/** OFPT_FEATURES_REPLY + port descriptions, as ovs-ofctl show prints them (ports by number, LOCAL last). */
export function formatShow(r: ReplyOf<'ofctl.show'>): string {
  let s = `OFPT_FEATURES_REPLY (xid=0x2): dpid:${r.datapath_id}\n`;
  s += `n_tables:${r.n_tables}, n_buffers:0\n`;
  s += 'capabilities: FLOW_STATS PORT_STATS ARP_MATCH_IP\n';
  s += 'actions: output set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst\n';
  const ports = [...r.ports].sort((a, b) => a.ofport - b.ofport);
  for (const p of ports) {
    s += ` ${portName(p.ofport)}(${p.name}): addr:${p.mac ?? '00:00:00:00:00:00'}\n`;
    s += `     config:     ${p.config?.length ? p.config.join(' ') : '0'}\n`;
    s += `     state:      ${p.state === 'down' ? 'LINK_DOWN' : '0'}\n`;
    if (p.speed_mbps !== undefined) s += `     speed: ${p.speed_mbps} Mbps now, 0 Mbps max\n`;
  }
  s += 'OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0\n';
  return s;
}

function out(s: string): void {
  process.stdout.write(s);
}

export function registerOfctl(program: Command): void {
  const ofctl = addBusOptions(program.command('ofctl')
    .description('program and inspect the OpenFlow tables of a running bvs daemon, like ovs-ofctl (over NATS)'));
  const g = (cmd: Command): BusCliOptions => cmd.optsWithGlobals() as BusCliOptions;

  ofctl.command('add-flow').argument('<bridge>').argument('<flow>', 'e.g. "priority=100,ip,nw_dst=10.0.0.1,actions=drop"')
    .description('add one flow')
    .action(async (bridge: string, flow: string, _o: unknown, cmd: Command) => {
      checkFlow(flow, 'add');
      await call(g(cmd), 'ofctl.add-flow', { bridge, flow });
    });

  ofctl.command('add-flows').argument('<bridge>').argument('<file>', 'one flow per line, # comments; - for stdin')
    .description('add the flows of FILE, all or none')
    .action(async (bridge: string, file: string, _o: unknown, cmd: Command) => {
      const lines = readFlowsFile(file);
      if (lines.length === 0) return;
      for (const l of lines) checkFlow(l.text, 'add', `${file === '-' ? 'stdin' : file}:${l.line}: `);
      try {
        await call(g(cmd), 'ofctl.add-flows', { bridge, flows: lines.map((l) => l.text) });
      } catch (err) {
        // The daemon names the bad flow as field "flows.N": point at the file's line.
        const f = ((err as Error).cause as BusRemoteError | undefined)?.field;
        const m = f === undefined ? null : /^flows\.(\d+)$/.exec(f);
        if (m !== null && lines[Number(m[1])] !== undefined) {
          throw new CliError(`${file === '-' ? 'stdin' : file}:${lines[Number(m[1])]!.line}: ${((err as Error).cause as Error).message}`, { cause: err });
        }
        throw err;
      }
    });

  ofctl.command('mod-flows').argument('<bridge>').argument('<flow>').option('--strict', 'match priority and wildcards exactly')
    .description('change the actions of the flows that match')
    .action(async (bridge: string, flow: string, o: { strict?: boolean }, cmd: Command) => {
      checkFlow(flow, 'add');
      await call(g(cmd), 'ofctl.mod-flows', { bridge, flow, ...(o.strict ? { strict: true } : {}) });
    });

  ofctl.command('del-flows').argument('<bridge>').argument('[flow]').option('--strict', 'match priority and wildcards exactly')
    .description('delete the flows that match (all flows without FLOW)')
    .action(async (bridge: string, flow: string | undefined, o: { strict?: boolean }, cmd: Command) => {
      if (flow !== undefined) checkFlow(flow, 'del');
      await call(g(cmd), 'ofctl.del-flows', { bridge, ...(flow === undefined ? {} : { flow }), ...(o.strict ? { strict: true } : {}) });
    });

  ofctl.command('dump-flows').argument('<bridge>').argument('[flow]', 'only the flows that match')
    .description('print the flows with their statistics')
    .action(async (bridge: string, flow: string | undefined, _o: unknown, cmd: Command) => {
      if (flow !== undefined) checkFlow(flow, 'del');
      out(formatDumpFlows(await call(g(cmd), 'ofctl.dump-flows', { bridge, ...(flow === undefined ? {} : { flow }) })));
    });

  ofctl.command('dump-ports').argument('<bridge>').argument('[port]', 'a port name, number or LOCAL')
    .description('print port statistics')
    .action(async (bridge: string, port: string | undefined, _o: unknown, cmd: Command) => {
      const byNumber = port !== undefined && (/^\d+$/.test(port) || port.toUpperCase() === 'LOCAL');
      const r = await call(g(cmd), 'ofctl.dump-ports', { bridge, ...(port === undefined || byNumber ? {} : { port }) });
      if (byNumber) {
        const n = port!.toUpperCase() === 'LOCAL' ? OFPP_LOCAL : Number(port);
        r.ports = r.ports.filter((p) => p.ofport === n);
        if (r.ports.length === 0) throw new CliError(`no port ${port} on bridge ${bridge}`);
      }
      out(formatDumpPorts(r));
    });

  ofctl.command('show').argument('<bridge>').description('print the bridge\'s features and ports')
    .action(async (bridge: string, _o: unknown, cmd: Command) => {
      out(formatShow(await call(g(cmd), 'ofctl.show', { bridge })));
    });
}
