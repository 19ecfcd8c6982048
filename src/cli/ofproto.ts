/**
 * `bvs ofproto trace --flows FILE --ports SPEC FLOW [--json]`: an offline ofproto/trace, to check
 * flow tables before deployment. Pure computation: no daemon, no datapath. Offline, each port's
 * datapath port number is its OFPORT and there is no LOCAL port unless SPEC names one.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { formatTrace, loadFlows, offlineBridge, packetFromText, trace } from '../ofproto/index.ts';

const TraceArgs = z.object({
  flows: z.string().min(1, '--flows FILE is required'),
  ports: z.string().min(1, '--ports SPEC is required'),
  flow: z.string().min(1, 'FLOW must not be empty'),
  json: z.boolean().default(false),
  bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'bridge name must be 1-15 of [A-Za-z0-9_.-]').default('br0'),
});

export class OfprotoCliError extends Error {
  override name = 'OfprotoCliError';
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}

export function runTrace(raw: unknown): string {
  const parsed = TraceArgs.safeParse(raw);
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    throw new OfprotoCliError(`ofproto trace: ${iss.path.join('.')}: ${iss.message}`);
  }
  const a = parsed.data;
  let text: string;
  try {
    text = readFileSync(a.flows, 'utf8');
  } catch (e) {
    throw new OfprotoCliError(`ofproto trace: cannot read --flows ${a.flows}: ${(e as Error).message}`, { cause: e });
  }
  const bridge = offlineBridge(a.ports, a.bridge);
  loadFlows(bridge, text, a.flows);
  const key = packetFromText(bridge, a.flow);
  const report = trace(bridge, key);
  if (!a.json) return formatTrace(report, a.bridge);
  return `${JSON.stringify({
    flow: report.flow,
    datapathActions: report.datapathActions,
    megaflow: report.megaflow,
    finalFlow: report.finalFlow,
    steps: report.steps,
    error: report.error ?? null,
  }, bigintJson, 2)}\n`;
}

export function registerOfproto(program: Command): void {
  const ofproto = program.command('ofproto').description('OpenFlow pipeline tools (like ovs-appctl ofproto/*)');
  ofproto.command('trace')
    .description('trace a packet through flow tables offline, like ovs-appctl ofproto/trace')
    .requiredOption('--flows <file>', 'flows, one per line in ovs-ofctl syntax, # comments')
    .requiredOption('--ports <spec>', 'ports: NAME=OFPORT[:tag=VID|:trunks=VID/VID/...],...')
    .option('--bridge <name>', 'bridge name for the report', 'br0')
    .option('--json', 'print {"datapathActions","megaflow","steps",...} as JSON')
    .argument('<flow>', 'the packet, e.g. in_port=1,dl_src=..,dl_dst=..,tcp,nw_src=..,tp_dst=80')
    .action((flow: string, opts: { flows: string; ports: string; json?: boolean; bridge: string }) => {
      process.stdout.write(runTrace({ flow, flows: opts.flows, ports: opts.ports, json: opts.json ?? false, bridge: opts.bridge }));
    });
}
