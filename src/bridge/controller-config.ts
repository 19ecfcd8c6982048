/**
 * A bridge's OpenFlow configuration read from OVSDB: its Controller rows, Bridge.fail_mode,
 * Bridge.protocols and other_config:datapath-id (ovs-vswitchd.conf.db(5)). Targets are checked
 * here (connmgr/target.ts), so a bad one becomes a problem on that row and the bridge serves
 * the others; unknown protocol names cannot occur (the schema's enum refuses them) but versions
 * bvs does not speak (OpenFlow11, OpenFlow12) are dropped with a problem.
 */
import { z } from 'zod';
import { parseTarget, TargetError, type ConnMgrConfig, type ControllerSpec } from '../connmgr/index.ts';
import { SUPPORTED_VERSIONS, VERSION_BY_NAME, type OfpVersion } from '../openflow/index.ts';
import { optInt, ovsSet, uuid } from './ovsdb-json.ts';

export const ControllerRow = z.object({
  _uuid: uuid, target: z.string(), max_backoff: optInt, inactivity_probe: optInt,
  connection_mode: ovsSet(z.string()).transform((a) => a[0]),
  controller_rate_limit: optInt, controller_burst_limit: optInt,
  enable_async_messages: ovsSet(z.boolean()).transform((a) => a[0]),
});

/** OVS's defaults: 8 s max backoff, 5 s inactivity probe. */
export const DEFAULT_MAX_BACKOFF_MS = 8000;
export const DEFAULT_PROBE_MS = 5000;

/** One Controller row as the connection manager takes it (its uuid for status write-back). */
export type ControllerConfig = ControllerSpec;
/** A bridge's OpenFlow configuration: the connection manager's own (src/connmgr ConnMgrConfig). */
export type OpenFlowConfig = ConnMgrConfig;

/** No controllers, standalone, every version: a bridge with no Bridge row (an orphan datapath). */
export function defaultOpenFlow(): OpenFlowConfig {
  return { controllers: [], failMode: 'standalone', versions: [...SUPPORTED_VERSIONS] };
}

interface BridgeColumns {
  name: string;
  controller: string[];
  protocols: string[];
  fail_mode: string | undefined;
  other_config: Record<string, string>;
}

export function openflowConfig(b: BridgeColumns, rows: ReadonlyMap<string, z.output<typeof ControllerRow>>, problems: string[]): OpenFlowConfig {
  const controllers: ControllerConfig[] = [];
  for (const u of b.controller) {
    const row = rows.get(u);
    if (!row) continue;
    try {
      controllers.push(controllerConfig(row));
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      problems.push(`Bridge ${b.name}: Controller ${row.target}: ${err.message}`);
    }
  }
  controllers.sort((x, y) => x.text.localeCompare(y.text));
  let versions = [...SUPPORTED_VERSIONS];
  if (b.protocols.length > 0) {
    versions = b.protocols.flatMap((n) => VERSION_BY_NAME.get(n) ?? []).sort((x, y) => x - y);
    const skipped = b.protocols.filter((n) => !VERSION_BY_NAME.has(n));
    if (skipped.length) problems.push(`Bridge ${b.name}: protocols ${skipped.join(', ')} are not supported by bvs (OpenFlow10, 13, 14, 15)`);
  }
  const out: OpenFlowConfig = { controllers, failMode: b.fail_mode === 'secure' ? 'secure' : 'standalone', versions };
  const dpid = b.other_config['datapath-id'];
  if (dpid !== undefined) {
    const hex = dpid.replace(/^0x/i, '');
    if (/^[0-9a-fA-F]{16}$/.test(hex) && BigInt(`0x${hex}`) !== 0n) out.datapathId = BigInt(`0x${hex}`);
    else problems.push(`Bridge ${b.name}: other_config:datapath-id "${dpid}" is not 16 hex digits (and not all zero)`);
  }
  return out;
}

function controllerConfig(row: z.output<typeof ControllerRow>): ControllerConfig {
  const c: ControllerConfig = {
    uuid: row._uuid, text: row.target, target: parseTarget(row.target),
    maxBackoffMs: row.max_backoff ?? DEFAULT_MAX_BACKOFF_MS,
    probeMs: row.inactivity_probe ?? DEFAULT_PROBE_MS,
    ...(row.enable_async_messages === false ? { enableAsync: false } : {}),
  };
  if (row.controller_rate_limit !== undefined) {
    // OVS: the burst defaults to a quarter of the rate (at least 1).
    const rate = row.controller_rate_limit;
    c.rateLimit = { rate, burst: row.controller_burst_limit ?? Math.max(1, Math.floor(rate / 4)) };
  }
  return c;
}
