/**
 * OFPT_PACKET_OUT (OpenFlow 1.3 §7.3.7; OVS ofproto.c handle_packet_out): the packet the
 * controller sends, run through its action list by the same translation flows use
 * (ofproto xlateActions), then executed in the kernel by the datapath's exec program (no second
 * copy of the actions in TypeScript). Nothing is installed: a packet-out is one packet.
 *
 * bvs never buffers, so a packet-out naming a buffer is OFPBRC_BUFFER_UNKNOWN. in_port may be
 * a port of the bridge, LOCAL, CONTROLLER or NONE (0xffff in 1.0, ANY after); others are
 * OFPBRC_BAD_PORT. Output to a port the bridge lacks sends nothing, as a flow would. Controller
 * actions in the list come back as packet-ins at once; NORMAL learns like any packet.
 */
import { keyFromFrame } from '../datapath/index.ts';
import { OFPP, xlateActions, type XlateResult } from '../ofproto/index.ts';
import { OfpError, type PacketOutMsg } from '../openflow/index.ts';
import type { PacketIn } from '../vswitch/index.ts';
import type { SwitchRuntime } from './switch.ts';

const NO_BUFFER = 0xffffffff;
/** Shorter than an Ethernet header is not a packet. */
const MIN_FRAME = 14;

export function packetOut(rt: SwitchRuntime, m: PacketOutMsg, toControllers: (pi: PacketIn) => void): void {
  if (m.bufferId !== NO_BUFFER) throw new OfpError('OFPBRC_BUFFER_UNKNOWN', `buffer ${m.bufferId}: bvs does not buffer packets`);
  const br = rt.ofproto;
  const inPort = m.inPort;
  const port = br.ports.get(inPort);
  if (!port && inPort !== OFPP.LOCAL && inPort !== OFPP.CONTROLLER && inPort !== OFPP.NONE) {
    throw new OfpError('OFPBRC_BAD_PORT', `packet-out in_port ${inPort} is not a port of bridge ${rt.name}`);
  }
  if (m.data.length < MIN_FRAME) throw new OfpError('OFPBRC_BAD_LEN', `packet-out data of ${m.data.length} bytes is not an Ethernet frame`);
  const dpIn = port ? port.dpPort : 0;
  const packet = m.data;
  const r = xlateActions(br, keyFromFrame(packet, dpIn), inPort, m.actions, {
    sideEffects: true,
    onPacketIn: (ev) => toControllers({ ev, packet, totalLen: packet.length }),
  });
  executeResult(rt, packet, r, dpIn);
}

/** Runs a translation's actions on `packet` in the kernel; its controller actions already went
 *  out as packet-ins. A failed translation drops, as a flow's does. (NXT_RESUME uses it too.) */
export function executeResult(rt: SwitchRuntime, packet: Uint8Array, r: XlateResult, dpIn: number): void {
  if (r.error !== undefined) return;
  const acts = r.actions.filter((a) => a.type !== 'userspace');
  if (acts.length > 0) rt.datapath.execute(packet, acts, dpIn);
}
