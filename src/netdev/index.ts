/**
 * src/netdev: the network devices under the switch (public surface). Facts about a device
 * (ifindex, veth peer placement, link state), and the veth pairs behind internal interfaces.
 * It sits below src/datapath (which reads a device when it adds a port) and knows nothing of
 * bridges or OpenFlow.
 */
export { NetdevError, type NetdevErrorCode } from './errors.ts';
export { linkState, netdevInfo, setLinkAdmin, setLinkUp, type NetdevInfo } from './info.ts';
export { ensureInternalPort, hiddenName, isHiddenName, isInternalPort, removeDevice, removeInternalPort } from './internal.ts';
