/** Public surface of the datapath layer. */
export * from './flow.ts';
export { Datapath, pinRoot, DEFAULT_PIN_ROOT } from './datapath.ts';
export type { DpFlow, DpStats, FlowEntry, Port, PortStats, PutMode, CreateOptions } from './datapath.ts';
export { DatapathError } from './errors.ts';
export type { Upcall, FlowStats } from './codec.ts';
export { applyActions, fixChecksums } from './packet.ts';
export { formatDpFlow, formatShow, formatTcpFlags, formatUsed } from './format.ts';
export { parseFlow, formatFlow, parseActions, formatActions, OdpSyntaxError } from './odp/index.ts';
