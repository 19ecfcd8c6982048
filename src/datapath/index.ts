/** Public surface of the datapath layer. */
export * from './flow.ts';
export { ABI, DROP_REASONS } from './abi.ts';
export { addon, type Addon } from './addon.ts';
export { Datapath, pinRoot, removePins, DEFAULT_PIN_ROOT } from './datapath.ts';
export { ensurePinRoot } from './pins.ts';
export type {
  DpFlow, DpStats, FlowEntry, Port, PortStats, PutMode, CreateOptions, DpMeterBand, DpMeterConfig, DpMeterStats,
} from './datapath.ts';
export { DatapathError, type DatapathErrorCode } from './errors.ts';
export type { FlowStats } from './codec.ts';
export type { Upcall } from './records.ts';
export { keyFromFrame } from './frame.ts';
export { formatDpFlow, formatShow, formatTcpFlags, formatUsed } from './format.ts';
export {
  AddressSyntaxError, formatIpv4, formatIpv6, formatMac, ipv4PrefixMask, ipv6PrefixMask, parseIpv4, parseIpv6, parseMac,
} from './odp/addr.ts';
export { parseFlow, formatFlow, parseActions, formatActions, OdpSyntaxError } from './odp/index.ts';
