/**
 * NXT_RESUME (OVS ofproto.c handle_nxt_resume, ofproto-dpif.c nxt_resume, xlate_resume): a
 * controller sends back a packet that controller(pause) stopped, with the continuation of its
 * NXT_PACKET_IN2, to finish its way through the tables.
 *
 * The flow is rebuilt from the packet as it comes now (the controller may have edited it) and
 * from the resume's metadata (in_port, metadata, registers: edited too, maybe); the frozen
 * frames run (ofproto xlateResume); the result is executed in the kernel as a packet-out's is,
 * and the rules it went through count the packet (as OVS's xcache credits them). Nothing is installed: each paused packet is resumed on its own. A pause met again sends a new
 * packet-in with a new continuation.
 *
 * Binding: a continuation is for the bridge that made it (freeze.ts bridgeId, random per bridge
 * object, as OVS's ofproto uuid): from another bridge, an earlier daemon, or without one it is
 * NXR_STALE. It is not bound to the flow tables: flows may change between pause and resume,
 * and the resumed run sees the tables as they are then, as in OVS. Like OVS, any role may resume.
 */
import { keyFromFrame } from '../datapath/index.ts';
import { OFPP, W, sameBridge, xlateResume } from '../ofproto/index.ts';
import { OfpError, type ResumeMsg } from '../openflow/index.ts';
import type { PacketIn } from '../vswitch/index.ts';
import { executeResult } from './packet-out.ts';
import type { SwitchRuntime } from './switch.ts';

/** Shorter than an Ethernet header is not a packet. */
const MIN_FRAME = 14;

export function resume(rt: SwitchRuntime, m: ResumeMsg, toControllers: (pi: PacketIn) => void): void {
  const br = rt.ofproto;
  if (!sameBridge(m.frozen.bridge, br)) {
    throw new OfpError('NXR_STALE', `the continuation was not made by bridge ${rt.name} in this process`);
  }
  if (m.data.length < MIN_FRAME) throw new OfpError('OFPBRC_BAD_LEN', `NXT_RESUME packet of ${m.data.length} bytes is not an Ethernet frame`);
  const md = m.match;
  const fields = new Uint32Array(md.value.length);
  for (let i = 0; i < W.CONJ_ID; i++) fields[i] = md.value[i]! & md.mask[i]!;
  const inPort = md.mask[W.IN_PORT] ? md.value[W.IN_PORT]! : OFPP.NONE;
  // The port it came in on, while the bridge still has it; else in_port's.
  const odp = m.frozen.odpPort;
  const dpIn = odp !== undefined && br.fromDp(odp) !== undefined ? odp : br.toDp(inPort) ?? 0;
  const packet = m.data;
  const r = xlateResume(br, keyFromFrame(packet, dpIn), inPort, fields, m.frozen, {
    sideEffects: true,
    onPacketIn: (ev) => toControllers({ ev, packet, totalLen: packet.length }),
  });
  // The rules the resumed run went through count the packet, as OVS credits them (xcache).
  const now = br.now();
  if (r.error === undefined) for (const rule of r.rules) br.pipeline.credit(rule, 1, packet.length, now);
  executeResult(rt, packet, r, dpIn);
}
