/**
 * OFPT_PORT_MOD (OpenFlow 1.3 §7.3.4.3; OVS ofproto.c handle_port_mod): `ovs-ofctl mod-port BR
 * PORT up|down|flood|no-flood`. As OVS: an unknown port is OFPPMFC_BAD_PORT, a hw_addr that is
 * not the port's is OFPPMFC_BAD_HW_ADDR, and only the bits in `mask` change.
 *
 *   - OFPPC_PORT_DOWN sets the netdev's admin state (`ip link set dev PORT down|up`); the
 *     kernel keeps it, dump-ports-desc reads it back, and port-status follows by polling.
 *   - OFPPC_NO_FLOOD (OpenFlow 1.0 only; 1.1+ dropped the bit and it is ignored there) is the
 *     bridge's own (Bridge.noFlood): output to FLOOD and NORMAL's flooding skip the port
 *     (OFPP_ALL does not); installed megaflows are revalidated.
 *   - OFPPC_NO_RECV, NO_FWD and NO_PACKET_IN are refused with OFPPMFC_BAD_CONFIG: the datapath
 *     cannot honour them yet, and a setting that is shown but not done would be a lie.
 * `advertise` is ignored, as OVS does for ports whose features it cannot change.
 */
import type { Bridge, BridgePort } from '../ofproto/index.ts';
import { OFP10, OfpError, portTo10, type OfpVersion, type PortMod } from '../openflow/index.ts';
import { setLinkAdmin } from '../netdev/index.ts';
import type { BridgeRuntime } from '../vswitch/index.ts';
import { describePort } from './ports.ts';

export const OFPPC = { PORT_DOWN: 0x1, NO_RECV: 0x4, NO_FWD: 0x20, NO_PACKET_IN: 0x40, NO_FLOOD: 0x10 } as const;
const DOABLE = OFPPC.PORT_DOWN | OFPPC.NO_FLOOD;

export type PortModRuntime = Pick<BridgeRuntime, 'findPort' | 'ofproto'> & { udpif: Pick<BridgeRuntime['udpif'], 'requestRevalidation'> };

/** The OFPPC_* bits the bridge keeps for a port (the rest are the kernel's: describePort). */
export const bridgeConfig = (b: Bridge, p: BridgePort): number => (b.noFlood.has(p.ofport) ? OFPPC.NO_FLOOD : 0);

export function portMod(rt: PortModRuntime, m: PortMod, version: OfpVersion): void {
  // OFPPC_NO_FLOOD exists in OpenFlow 1.0 only: 1.1+ leave the bit undefined, and OVS ignores it there.
  const mask = version === OFP10 ? m.mask : m.mask & ~OFPPC.NO_FLOOD;
  const p = rt.findPort(portTo10(m.portNo));
  if (!p) throw new OfpError('OFPPMFC_BAD_PORT', `no port ${portTo10(m.portNo)}`);
  const hw = describePort(p).hwAddr;
  if (m.hwAddr !== hw) throw new OfpError('OFPPMFC_BAD_HW_ADDR', `port ${p.name} has address ${hw.toString(16)}, not ${m.hwAddr.toString(16)}`);
  const refused = mask & ~DOABLE;
  if (refused) throw new OfpError('OFPPMFC_BAD_CONFIG', `config bits 0x${refused.toString(16)}: bvs can change only port_down and no_flood`);
  if (mask & OFPPC.PORT_DOWN) setLinkAdmin(p.name, (m.config & OFPPC.PORT_DOWN) === 0);
  if (mask & OFPPC.NO_FLOOD) {
    rt.ofproto.setNoFlood(p.ofport, (m.config & OFPPC.NO_FLOOD) !== 0);
    void rt.udpif.requestRevalidation();
  }
}
