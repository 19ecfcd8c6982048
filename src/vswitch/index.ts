/**
 * src/vswitch: the live bridges inside the daemon (OVS: ofproto-dpif and its udpif), public
 * surface.
 *
 *   const rt = new BridgeRuntime({ datapath, publish, clock });   // ofproto Bridge + Udpif
 *   rt.addPort({ name: 'p1', ofport: 1 }); rt.flowMod({ op: 'add', flows: [...] });
 *   rt.udpif.handleBatch(upcalls);              // a miss: xlate -> install -> execute (kernel)
 *   await revalidateSliced(rt.udpif, signal);   // the revalidator's pass
 *   await rt.udpif.requestRevalidation();       // the one way to ask for a pass
 *
 * Files: runtime.ts (the bridge: OpenFlow commands and views), udpif.ts (the upcall path: the
 * handler, its counters and clock, revalidation requests), ukey.ts (what an installed megaflow
 * came from), revalidate.ts (a pass over the datapath's flows).
 */
export {
  BridgeRuntime, DEFAULT_MAX_BATCH, OFPP_LOCAL, RuntimeError,
  type Applied, type DatapathLike, type FlowModCommand, type RuntimeOptions,
} from './runtime.ts';
export {
  DEFAULT_FLOW_LIMIT, DEFAULT_MAX_IDLE_MS, Every, newHandlerStats, newRevalidatorStats, PACKET_IN_RATE, systemClock, TokenBucket, Udpif,
  type Clock, type CoverageSink, type FastPathEvent, type HandlerStats, type LimitHit, type LimitKind, type Publish,
  type PacketIn, type RevalidatorStats, type UdpifDatapath, type UdpifOptions, type UdpifSinks,
} from './udpif.ts';
export { adoptedUkey, type Ukey } from './ukey.ts';
export { actionsEqual, maskWithin, revalidate, revalidateSliced, type PassResult } from './revalidate.ts';
