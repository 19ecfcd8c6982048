/**
 * src/connmgr: bvs's bridges as OpenFlow switches (OVS: ofproto/connmgr.c and the OpenFlow
 * side of ofproto.c). OfSwitch answers OpenFlow messages against a bridge's runtime (the same
 * tables `bvs ofctl` uses); MgmtListener serves RUN/BR.mgmt, where ovs-ofctl looks.
 * The wire codec and one connection's health are src/openflow's.
 */
export { OfSwitch, type SwitchInfo, type SwitchRuntime } from './switch.ts';
export { MgmtListener, DEFAULT_MGMT_CONNECTIONS, type MgmtOptions } from './mgmt.ts';
export { describePort, datapathIdOf, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from './ports.ts';
export { ConnMgr, FAIL_OPEN_PRIORITY, type ConnMgrConfig, type ConnMgrOptions, type ControllerSpec } from './connmgr.ts';
export { OfService, type ServiceStatus } from './service.ts';
export { parseTarget, TargetError, OFP_PORT, type Target } from './target.ts';
