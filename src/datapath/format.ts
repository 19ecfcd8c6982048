/**
 * ovs-dpctl's text forms for datapath state: `show` and the stats part of `dump-flows`.
 * The flow and action text come from the ODP module; this file adds what ovs-dpctl prints
 * around them, in its format (lib/dpif.c, lib/dpctl.c).
 */
import type { DpFlow, DpStats, Port, PortStats } from './datapath.ts';
import { formatActions, formatFlow } from './odp/index.ts';

const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80, NS: 0x100 } as const;

/** tcpdump-style flags, as OVS's packet_format_tcp_flags prints them. */
export function formatTcpFlags(f: number): string {
  if (!f) return 'none';
  let s = '';
  if (f & TCP.SYN) s += 'S';
  if (f & TCP.FIN) s += 'F';
  if (f & TCP.PSH) s += 'P';
  if (f & TCP.RST) s += 'R';
  if (f & TCP.URG) s += 'U';
  if (f & TCP.ACK) s += '.';
  if (f & TCP.ECE) s += 'E';
  if (f & TCP.CWR) s += 'C';
  if (f & TCP.NS) s += 'N';
  for (const bit of [0x200, 0x400, 0x800]) if (f & bit) s += `[${bit.toString(16)}]`;
  return s;
}

/** "used:" of a flow: seconds since its last hit, or never. `nowNs` is CLOCK_MONOTONIC. */
export function formatUsed(usedNs: bigint, nowNs: bigint): string {
  if (usedNs === 0n) return 'never';
  const ms = nowNs > usedNs ? Number((nowNs - usedNs) / 1_000_000n) : 0;
  return `${(ms / 1000).toFixed(3)}s`;
}

/** One dump-flows line. */
export function formatDpFlow(f: DpFlow, nowNs: bigint): string {
  let s = `${formatFlow(f.key, f.mask)}, packets:${f.stats.packets}, bytes:${f.stats.bytes}, used:${formatUsed(f.stats.usedNs, nowNs)}`;
  if (f.stats.tcpFlags) s += `, flags:${formatTcpFlags(f.stats.tcpFlags)}`;
  return `${s}, actions:${formatActions(f.actions)}`;
}

function human(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The `show` block of one datapath, as ovs-dpctl prints it. */
export function formatShow(name: string, st: DpStats, ports: Array<Port & { stats?: PortStats }>): string {
  const lookups = st.hit + st.missed;
  const hitPerPkt = lookups > 0n ? Number(st.maskHit) / Number(lookups) : 0;
  const cacheRate = lookups > 0n ? (Number(st.maskCacheHit) * 100) / Number(lookups) : 0;
  const lines = [
    `bvs@${name}:`,
    `  lookups: hit:${st.hit} missed:${st.missed} lost:${st.lost}`,
    `  flows: ${st.flows}`,
    `  masks: hit:${st.maskHit} total:${st.masks} hit/pkt:${hitPerPkt.toFixed(2)}`,
    `  cache: hit:${st.maskCacheHit} hit-rate:${cacheRate.toFixed(2)}%`,
  ];
  for (const p of ports) {
    const kind = p.flags & 0x2 ? ' (internal)' : '';
    lines.push(`  port ${p.portNo}: ${p.name}${kind}`);
    if (p.stats) {
      const s = p.stats;
      lines.push(`    RX packets:${s.rxPackets} errors:0 dropped:${s.rxDropped} overruns:0 frame:0`);
      lines.push(`    TX packets:${s.txPackets} errors:0 dropped:${s.txDropped} aborted:0 carrier:0`);
      lines.push('    collisions:0');
      lines.push(`    RX bytes:${s.rxBytes} (${human(s.rxBytes)})  TX bytes:${s.txBytes} (${human(s.txBytes)})`);
    }
  }
  return lines.join('\n');
}
