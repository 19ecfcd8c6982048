/**
 * `bvs appctl COMMAND [ARG...]`: queries of a running daemon's live state, like ovs-appctl
 * talking to ovs-vswitchd, over NATS request/reply (src/bus contracts `appctl.*`, `daemon.*`).
 * Output follows ovs-appctl's text for the same command; bvs-only facts (bvs has one datapath
 * per bridge, per-handler counters) are added in the same style.
 *
 * The command table below is the one place that lists what appctl serves; `list-commands`
 * prints it (after checking that the daemon answers, as ovs-appctl needs the daemon too).
 */
import type { Command } from 'commander';
import { OFPP_LOCAL, type ReplyOf } from '../bus/index.ts';
import { addBusOptions, call, CliError, type BusCliOptions } from './ofctl.ts';

interface AppctlCommand {
  args: string;
  min: number;
  max: number;
  run(o: BusCliOptions, args: string[]): Promise<string>;
}

/** ovs-appctl fdb/show: " port  VLAN  MAC                Age", then `%5s  %4d  MAC  %3d`. */
export function formatFdb(r: ReplyOf<'appctl.fdb.show'>): string {
  let s = ' port  VLAN  MAC                Age\n';
  for (const e of r.entries) {
    const port = e.ofport === OFPP_LOCAL ? 'LOCAL' : String(e.ofport);
    s += `${port.padStart(5)}  ${String(e.vlan).padStart(4)}  ${e.mac.toLowerCase()}  ${String(Math.floor(e.age_s)).padStart(3)}\n`;
  }
  return s;
}

/** ovs-appctl dpif/show: per datapath "NAME: hit:H missed:M", its bridge, its ports by name. */
export function formatDpif(r: ReplyOf<'appctl.dpif.show'>): string {
  let s = '';
  for (const dp of r.datapaths) {
    s += `${dp.name}: hit:${dp.hit} missed:${dp.missed}\n`;
    s += `  ${dp.bridge}:\n`;
    for (const p of [...dp.ports].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      s += `    ${p.name} ${p.ofport ?? 'none'}/${p.odp_port}: (${p.type})\n`;
    }
  }
  return s;
}

/** ovs-appctl upcall/show: flow counts and limit, dump duration, then per thread counters. */
export function formatUpcall(r: ReplyOf<'appctl.upcall.show'>): string {
  let s = 'bvs:\n';
  s += `  flows         : (current ${r.flows.current}) (avg ${Math.round(r.flows.average)}) (max ${r.flows.max}) (limit ${r.flows.limit})\n`;
  s += `  dump duration : ${Math.round(r.dump_duration_ms)}ms\n`;
  s += `  max idle      : ${r.max_idle_ms}ms\n`;
  s += '\n';
  for (const h of r.handlers) {
    s += `  handler ${h.id}: (upcalls ${h.upcalls})`;
    if (h.flows_installed !== undefined) s += ` (flows installed ${h.flows_installed})`;
    if (h.errors !== undefined) s += ` (errors ${h.errors})`;
    s += '\n';
  }
  for (const v of r.revalidators) {
    s += `  revalidator ${v.id}:`;
    if (v.dumps !== undefined) s += ` (dumps ${v.dumps})`;
    if (v.flows_removed !== undefined) s += ` (flows removed ${v.flows_removed})`;
    s += '\n';
  }
  return s;
}

/**
 * ovs-appctl coverage/show: a header, then each event that was hit as
 * "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: N", then "N events never hit". OVS's header
 * carries a hash of the counters; this one hashes the names of the events hit (FNV-1a), which
 * changes exactly when the set of events hit changes.
 */
export function formatCoverage(r: ReplyOf<'appctl.coverage.show'>): string {
  const hit = r.events.filter((e) => e.total > 0);
  let h = 0x811c9dc5;
  for (const c of hit.map((e) => e.name).join('\n')) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  let s = `Event coverage, avg rate over last: ${r.interval_s} seconds, last minute, last hour,  hash=${h.toString(16).padStart(8, '0')}:\n`;
  for (const e of hit) {
    s += `${e.name.padEnd(24)} ${e.rate_interval.toFixed(1).padStart(5)}/sec ${e.rate_minute.toFixed(3).padStart(9)}/sec `
      + `${e.rate_hour.toFixed(4).padStart(13)}/sec   total: ${e.total}\n`;
  }
  return `${s}${r.events.length - hit.length} events never hit\n`;
}

export function formatHealth(r: ReplyOf<'daemon.health'>): string {
  let s = `status: ${r.status}\n`;
  for (const c of r.components) {
    s += `  ${c.name}: ${c.status}${c.restarts ? ` (restarts ${c.restarts})` : ''}${c.detail ? `: ${c.detail}` : ''}\n`;
  }
  return s;
}

/** A hex Ethernet frame as ovs-appctl takes it (eth_from_hex: hex digits, blanks ignored), or
 *  undefined when `s` is not one (not hex, odd length, or shorter than an Ethernet header). */
export function frameFromHex(s: string): Uint8Array | undefined {
  const hex = s.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex) || hex.length < 28) return undefined;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * ofproto/trace's arguments as ovs-appctl reads them (ofproto-dpif-trace.c): the last one is
 * the packet when it is "-generate" or a hex frame; what is left is `br_flow` or `bridge
 * br_flow`. With three arguments the last must be a packet. "-generate" traces a packet made
 * from the flow, which for bvs (trace never has side effects) is the plain flow trace.
 */
export function parseTraceArgs(a: readonly string[]): { bridge?: string; flow: string; packet?: Uint8Array } {
  const rest = [...a];
  let packet: Uint8Array | undefined;
  const last = rest[rest.length - 1]!;
  if (rest.length > 1 && last === '-generate') rest.pop();
  else if (rest.length > 1 && (packet = frameFromHex(last)) !== undefined) rest.pop();
  else if (rest.length === 3) throw new CliError(`ofproto/trace: "${last}" is not a packet (hex Ethernet frame, at least 14 bytes) or -generate`);
  return rest.length === 2 ? { bridge: rest[0]!, flow: rest[1]!, packet } : { flow: rest[0]!, packet };
}

const withNl = (s: string): string => (s === '' || s.endsWith('\n') ? s : `${s}\n`);

/** The bridge a command means when it may be omitted: the only one. */
async function onlyBridge(o: BusCliOptions): Promise<string> {
  const r = await call(o, 'appctl.dpif.show', {});
  if (r.datapaths.length === 1) return r.datapaths[0]!.bridge;
  throw new CliError(r.datapaths.length === 0 ? 'no bridges exist' : `several bridges exist (${r.datapaths.map((d) => d.bridge).join(', ')}): name one`);
}

export const APPCTL_COMMANDS: Readonly<Record<string, AppctlCommand>> = {
  'coverage/show': {
    args: '', min: 0, max: 0,
    run: async (o) => formatCoverage(await call(o, 'appctl.coverage.show', {})),
  },
  'daemon/health': {
    args: '', min: 0, max: 0,
    run: async (o) => formatHealth(await call(o, 'daemon.health', {})),
  },
  'dpif/show': {
    args: '', min: 0, max: 0,
    run: async (o) => formatDpif(await call(o, 'appctl.dpif.show', {})),
  },
  'fdb/flush': {
    args: '[bridge]', min: 0, max: 1,
    run: async (o, a) => {
      await call(o, 'appctl.fdb.flush', a[0] === undefined ? {} : { bridge: a[0] });
      return 'table successfully flushed\n';
    },
  },
  'fdb/show': {
    args: 'bridge', min: 1, max: 1,
    run: async (o, a) => formatFdb(await call(o, 'appctl.fdb.show', { bridge: a[0]! })),
  },
  'list-commands': {
    args: '', min: 0, max: 0,
    run: async (o) => {
      await call(o, 'daemon.ping', {});
      const names = Object.keys(APPCTL_COMMANDS).sort();
      return `The available commands are:\n${names.map((n) => `  ${n.padEnd(24)}${APPCTL_COMMANDS[n]!.args}\n`).join('')}`;
    },
  },
  'ofproto/trace': {
    args: '[bridge] br_flow [-generate|packet]', min: 1, max: 3,
    run: async (o, a) => {
      const { bridge: named, flow, packet } = parseTraceArgs(a);
      const bridge = named ?? await onlyBridge(o);
      const req = packet === undefined ? { bridge, flow } : { bridge, flow, packet: Buffer.from(packet).toString('base64') };
      return withNl((await call(o, 'appctl.ofproto.trace', req)).text);
    },
  },
  'upcall/show': {
    args: '', min: 0, max: 0,
    run: async (o) => formatUpcall(await call(o, 'appctl.upcall.show', {})),
  },
  version: {
    args: '', min: 0, max: 0,
    run: async (o) => {
      const r = await call(o, 'daemon.ping', {});
      return `bvs daemon (bvs) ${r.version} (pid ${r.pid}, host ${r.host}, bus protocol ${r.protocol})\n`;
    },
  },
};

export function registerAppctl(program: Command): void {
  addBusOptions(program.command('appctl')
    .description('query a running bvs daemon, like ovs-appctl (over NATS); `bvs appctl list-commands` lists the commands'))
    .argument('<command>', 'e.g. fdb/show, fdb/flush, dpif/show, upcall/show, ofproto/trace, list-commands')
    .argument('[args...]')
    // ofproto/trace takes "-generate" as an argument, as ovs-appctl does; any other unknown
    // option is still refused below (no command argument starts with "-").
    .allowUnknownOption()
    .action(async (name: string, args: string[], o: BusCliOptions) => {
      const opt = [name, ...args].find((a) => a.startsWith('-') && a !== '-generate');
      if (opt !== undefined) throw new CliError(`unknown option '${opt}'`);
      // Own names only: a command named like an Object.prototype member is still unknown.
      const c = Object.hasOwn(APPCTL_COMMANDS, name) ? APPCTL_COMMANDS[name] : undefined;
      if (c === undefined) throw new CliError(`"${name}" is not a valid command (use list-commands to see a list of valid commands)`);
      if (args.length < c.min || args.length > c.max) {
        throw new CliError(`"${name}" command takes at ${args.length < c.min ? 'least' : 'most'} ${args.length < c.min ? c.min : c.max} arguments (usage: ${name} ${c.args})`);
      }
      process.stdout.write(await c.run(o, args));
    });
}
