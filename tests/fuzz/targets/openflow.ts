/**
 * Fuzz target of the OpenFlow message decoder (src/openflow/messages.ts decodeMessage), the
 * parser every byte from a controller reaches. Any bytes give a decoded message or an
 * OfpError; the property adds that a decoded message encodes (in its own version, xid and
 * MORE flag) to bytes that decode to the same message, so what bvs understood is what it
 * would say. Seeds: corpus/openflow-msg/seeds.jsonl (requests the real ovs-ofctl sent, 1.0 to
 * 1.5) and the encodings of every non-flow message kind built below.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  BODY, decodeMessage, encodeMessage, encodeReplies, ERROR_SPECS, errorMessage, OfpError, WIRE, type OfpMessage,
  type OfpPort, type OfpVersion,
} from '../../../src/openflow/index.ts';
import { byteInputs } from '../mutate.ts';
import { entriesState, PropertyViolation, prototypeState, type Target } from '../target.ts';

const PORT: OfpPort = {
  portNo: 3, hwAddr: 0x020000000003, name: 'p3', config: 1, state: 1, curr: 0x840, advertised: 0, supported: 0, peer: 0,
  currSpeed: 0, maxSpeed: 0,
};
const STATS = {
  portNo: 3, rxPackets: 1n, txPackets: 2n, rxBytes: 3n, txBytes: 4n, rxDropped: 5n, txDropped: 6n, rxErrors: 7n,
  txErrors: 8n, rxFrameErr: 9n, rxOverErr: 10n, rxCrcErr: 11n, collisions: 12n, durationSec: 0, durationNsec: 0,
};

function messages(v: OfpVersion): OfpMessage[] {
  const all: OfpMessage[] = [
    { kind: 'hello', versions: [1, 4, 5, 6] }, { kind: 'echo_request', data: Uint8Array.of(1, 2) },
    errorMessage('OFPBRC_BAD_LEN', Uint8Array.of(v, 5, 0, 8, 0, 0, 0, 1)), errorMessage('NXR_NOT_SUPPORTED', new Uint8Array(0)),
    { kind: 'features_request' },
    { kind: 'features_reply', datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x47, actions: 0, ports: v === 1 ? [PORT] : [] },
    { kind: 'get_config_reply', flags: 0, missSendLen: 128 }, { kind: 'set_config', flags: 1, missSendLen: 0xffff },
    { kind: 'port_status', reason: 0, port: PORT }, { kind: 'barrier_request' },
    { kind: 'port_mod', portNo: 3, hwAddr: 0x020000000003, config: 1, mask: 1, advertise: 0 },
    { kind: 'desc_request' }, { kind: 'desc_reply', mfrDesc: 'm', hwDesc: 'h', swDesc: 's', serialNum: 'n', dpDesc: 'd' },
    { kind: 'port_desc_request', portNo: 0xffffffff }, { kind: 'port_desc_reply', ports: [PORT] },
    { kind: 'port_stats_request', portNo: 3 }, { kind: 'port_stats_reply', stats: [STATS] },
    { kind: 'table_stats_request' },
    { kind: 'table_stats_reply', tables: [{ tableId: 0, name: '', wildcards: 0, maxEntries: 0, activeCount: 1, lookupCount: 2n, matchedCount: 3n }] },
    { kind: 'nx_set_packet_in_format', format: 1 }, { kind: 'nx_set_controller_id', controllerId: 1 },
    { kind: 'nx_set_async_config', master: { packetIn: 1, portStatus: 7, flowRemoved: 15 }, slave: { packetIn: 0, portStatus: 7, flowRemoved: 0 } },
    { kind: 'nx_role_request', role: 1 }, { kind: 'nx_tlv_table_request' }, { kind: 'flow_mod', body: new Uint8Array(40) },
  ];
  if (v === 1) all.push({ kind: 'nx_set_flow_format', format: 2 });
  if (v >= 4) {
    all.push(
      { kind: 'role_request', role: 2, generationId: 7n }, { kind: 'get_async_request' },
      { kind: 'set_async', master: { packetIn: 1, portStatus: 7, flowRemoved: 15 }, slave: { packetIn: 0, portStatus: 7, flowRemoved: 0 } },
      { kind: 'table_mod', tableId: 0, config: 3 }, { kind: 'table_features_request', tables: [] },
      {
        kind: 'table_features_reply', tables: [{
          tableId: 0, name: 't0', metadataMatch: 0n, metadataWrite: 0n, capabilities: 0, maxEntries: 10, command: 0, features: 0,
          props: [{ type: 0, ids: [1, 4] }, { type: 2, ids: [1] }, { type: 8, ids: [0x80000004, 0xffff0008] }, { type: 0x77, raw: Uint8Array.of(9) }],
        }],
      },
    );
  }
  if (v >= 4) {
    const bands = [{ type: 1, rate: 1000, burstSize: 100, arg: 0 }, { type: 2, rate: 2000, burstSize: 0, arg: 1 }];
    all.push(
      { kind: 'meter_mod', command: 0, flags: 9, meterId: 5, bands }, { kind: 'meter_config_reply', meters: [{ flags: 9, meterId: 5, bands }] },
      { kind: 'meter_stats_reply', meters: [{ meterId: 5, flowCount: 2, packetInCount: 1n, byteInCount: 2n, durationSec: 3, durationNsec: 0, bands: [{ packetCount: 1n, byteCount: 2n }] }] },
      { kind: 'meter_features_reply', maxMeter: 9, bandTypes: 6, capabilities: 15, maxBands: 1, maxColor: 0 },
      { kind: 'group_stats_reply', groups: [{ groupId: 1, refCount: 2, packetCount: 3n, byteCount: 4n, durationSec: 5, durationNsec: 0, buckets: [{ packetCount: 1n, byteCount: 2n }] }] },
      { kind: 'group_features_reply', types: 15, capabilities: 7, maxGroups: [1, 2, 3, 4], actions: [1, 1, 1, 1] },
      { kind: 'meter_stats_request', id: 0xffffffff }, { kind: 'group_desc_request', id: 0xfffffffc },
    );
  }
  if (v >= 5) all.push({ kind: 'role_status', role: 2, reason: 1, generationId: 9n });
  return all;
}

function builtSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of [1, 4, 5, 6] as OfpVersion[]) {
    for (const m of messages(v)) out.push(...encodeReplies(v, 0x1234, m));
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const openflowMsg: Target<Uint8Array> = {
  name: 'openflow-msg',
  encode: hex,
  decode: (j) => Uint8Array.from(Buffer.from(j as string, 'hex')),
  builtSeeds,
  inputs: byteInputs,
  isNamed: (e) => e instanceof OfpError,
  state: () => [...prototypeState(), ...entriesState(WIRE), ...entriesState(BODY), ...entriesState(ERROR_SPECS)],
  run(b) {
    // A mutation that changes the length mostly stops at the header's length check: also try a
    // copy whose header length is the buffer's, so that the body decoders see the mutation.
    if (b.length >= 4 && b.length <= 0xffff) {
      const fixed = b.slice();
      fixed[2] = b.length >> 8; fixed[3] = b.length & 0xff;
      try { roundTrip(fixed); } catch (e) { if (!(e instanceof OfpError)) throw e; }
    }
    roundTrip(b);
  },
};

function roundTrip(b: Uint8Array): void {
  const d = decodeMessage(b);
  const again = encodeMessage(d.version, d.xid, d.msg, d.more);
  if (!isDeepStrictEqual(decodeMessage(again), d)) {
    throw new PropertyViolation(`${d.msg.kind} re-encodes as ${hex(again)}, which decodes differently`);
  }
}
