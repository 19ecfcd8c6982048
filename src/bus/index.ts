/**
 * Public surface of src/bus: the NATS subjects and their contracts, the typed client, and the
 * embedded nats-server. See docs/nats.md for the wire-level description.
 *
 * Typical daemon use:
 *   const srv = url ? null : await startNatsServer({ runDir });
 *   const bus = await connectBus({ servers: url ?? srv!.url, token: srv?.token, credsFile });
 *   bus.serveAll({ 'daemon.ping': () => ({ ... }), 'ofctl.add-flow': (req) => ... });
 *   bus.publish('port.status', { bridge, port, ofport, state: 'up' });
 *   ... on SIGTERM: await bus.close(); await srv?.stop();
 * Typical CLI use:
 *   const bus = await connectRunDir(runDir);  // or connectBus({ servers: url, credsFile })
 *   const r = await bus.request('ofctl.dump-flows', { bridge: 'br0' });
 *   await bus.close();
 */
export {
  Bus, connectBus, connectRunDir, DEFAULT_REQUEST_TIMEOUT_MS,
  type AnyEvent, type ConnectBusOptions, type EventSubscription, type Handler, type HandlerContext,
  type Handlers, type RequestOptions, type Service,
} from './client.ts';
export { decodeJson, encodeJson, jsonText } from './codec.ts';
export {
  BusConnectionError, BusError, BusErrorCode, BusNoRespondersError, BusRemoteError, BusTimeoutError,
  BusValidationError, describeIssues, type ValidationSide,
} from './errors.ts';
export { OFPP_LOCAL, replyEnvelope, u64, type ReplyEnvelope, type ReplyError } from './contracts/common.ts';
export { InterfaceType, HealthStatus } from './contracts/vsctl.ts';
export { PacketInReason } from './contracts/events.ts';
export { readEndpoint, removeEndpoint, RunDirFile, writeEndpoint, type BusEndpoint } from './rundir.ts';
export {
  DEFAULT_NATS_SERVER, NatsServerBusyError, NatsServerError, reapStaleNatsServer, startNatsServer,
  type NatsServer, type NatsServerExit, type NatsServerOptions,
} from './server.ts';
export {
  allCommandsSubject, allEventsSubject, BUS_PROTOCOL_VERSION, commandSubject, Commands, eventSubject,
  Events, hostId, isHostToken, parseSubject, SUBJECT_ROOT, SubjectKind,
  type CommandContract, type CommandName, type EventContract, type EventInputOf, type EventName,
  type EventOf, type ParsedRequestOf, type ReplyInputOf, type ReplyOf, type RequestOf,
} from './subjects.ts';
