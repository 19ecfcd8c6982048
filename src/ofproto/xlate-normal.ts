/**
 * The NORMAL action: an L2 learning switch with VLANs (after OVS ofproto-dpif-xlate.c
 * xlate_normal, without bonds, mirrors or STP).
 *
 * Megaflow bits: NORMAL reads in_port (always exact), dl_src (learning), dl_dst (lookup) and the
 * VLAN id and presence (input VLAN), so those are un-wildcarded. The forwarding decision also
 * depends on the MAC table: the destination entry consulted is recorded in ctx.macDeps so the
 * revalidator can tell when the megaflow went stale (MacTable.isValid). Learning is a side
 * effect, done only with opts.sideEffects; ctx.learned lists what a real upcall learned (OVS
 * replays this from its xlate cache when a megaflow is used, to keep the entry from aging out).
 */
import { formatMac, VLAN_CFI } from '../datapath/index.ts';
import { Bridge, type BridgePort } from './bridge.ts';
import { join48, W } from './flow.ts';
import { isMulticastMac } from './mac-learning.ts';
import type { XlateCtx } from './xlate-ctx.ts';

const PCP_MASK = 0xe000;

/** 01:80:c2:00:00:0x: IEEE 802.1D reserved (STP, LACP, ...); never forwarded. */
function isReservedMulticast(mac: number): boolean {
  return Math.floor(mac / 16) === 0x0180c200000;
}

/** Outputs to `out` with the frame tagged as that port carries `vlan` (output_normal). */
function outputNormal(ctx: XlateCtx, out: BridgePort, vlan: number): void {
  const f = ctx.flow;
  const oldTci = f[W.VLAN_TCI]!;
  const vid = out.tag !== undefined ? 0 : vlan;
  let tci = 0;
  if (vid !== 0) tci = vid | VLAN_CFI | (oldTci & PCP_MASK);
  f[W.VLAN_TCI] = tci;
  ctx.output(out.ofport);
  f[W.VLAN_TCI] = oldTci;
}

export function xlateNormal(ctx: XlateCtx): void {
  const f = ctx.flow, wc = ctx.wc, bridge = ctx.bridge;
  wc[W.DL_SRC] = 0xffff; wc[W.DL_SRC + 1] = 0xffffffff;
  wc[W.DL_DST] = 0xffff; wc[W.DL_DST + 1] = 0xffffffff;
  // VID and "tagged". For an untagged packet (TCI 0) the whole TCI: it matches the same packets
  // (the parser leaves TCI 0 when there is no tag) and the megaflow prints as OVS prints it, with
  // no vlan() attribute. For a tagged packet PCP stays wildcarded, as wide as OVS's megaflow.
  wc[W.VLAN_TCI] |= f[W.VLAN_TCI]! & VLAN_CFI ? 0x0fff | VLAN_CFI : 0xffff;
  wc[W.IN_PORT] = 0xffffffff;

  const inPort = bridge.ports.get(f[W.IN_PORT]!);
  if (!inPort) {
    ctx.note(`NORMAL: no input port ${f[W.IN_PORT]}, dropping`);
    return;
  }
  const tci = f[W.VLAN_TCI]!;
  const pktVid = tci & VLAN_CFI ? tci & 0x0fff : 0;
  let vlan: number;
  if (inPort.tag !== undefined) {
    if (pktVid !== 0) {
      ctx.note(`NORMAL: dropping VLAN ${pktVid} tagged packet received on port ${inPort.name} configured as VLAN ${inPort.tag} access port`);
      return;
    }
    vlan = inPort.tag;
  } else {
    vlan = pktVid;
    if (!Bridge.includesVlan(inPort, vlan)) {
      ctx.note(`NORMAL: dropping VLAN ${vlan} packet received on port ${inPort.name} not configured for trunking VLAN ${vlan}`);
      return;
    }
  }
  const src = join48(f[W.DL_SRC]!, f[W.DL_SRC + 1]!);
  const dst = join48(f[W.DL_DST]!, f[W.DL_DST + 1]!);
  if (isReservedMulticast(dst)) {
    ctx.note(`NORMAL: packet to reserved multicast ${formatMac(dst)}, dropping`);
    return;
  }
  if (ctx.opts.sideEffects && !isMulticastMac(src)) {
    const r = bridge.mac.learn(vlan, src, inPort.ofport, ctx.now);
    ctx.learned.push({ vlan, mac: src, port: inPort.ofport });
    if (r !== 'refreshed') ctx.note(`NORMAL: learned ${formatMac(src)} on port ${inPort.name} in VLAN ${vlan} (${r})`);
  }
  if (!isMulticastMac(dst)) {
    ctx.macDeps.push({ vlan, mac: dst });
    const port = bridge.mac.lookup(vlan, dst, ctx.now);
    if (port !== undefined) {
      const out = bridge.ports.get(port);
      if (port === inPort.ofport) {
        ctx.note('NORMAL: learned port is input port, dropping');
        return;
      }
      if (out) {
        ctx.note(`NORMAL: forwarding to learned port ${out.name}`);
        outputNormal(ctx, out, vlan);
        return;
      }
    }
    ctx.note(`NORMAL: no learned MAC for destination, flooding VLAN ${vlan}`);
  } else {
    ctx.note(`NORMAL: multicast/broadcast destination, flooding VLAN ${vlan}`);
  }
  // Ports that take the frame with its current tagging first, then the others, so the
  // datapath actions change the VLAN header at most twice (OVS gets this from bundle order).
  const out = bridge.sortedPorts().filter((p) => p.ofport !== inPort.ofport && Bridge.includesVlan(p, vlan) && !bridge.noFlood.has(p.ofport));
  const taggedOut = (p: BridgePort): boolean => p.tag === undefined && vlan !== 0;
  const nowTagged = (f[W.VLAN_TCI]! & VLAN_CFI) !== 0;
  for (const p of out) if (taggedOut(p) === nowTagged) outputNormal(ctx, p, vlan);
  for (const p of out) if (taggedOut(p) !== nowTagged) outputNormal(ctx, p, vlan);
}
