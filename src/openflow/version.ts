/**
 * OpenFlow protocol versions bvs speaks, by their wire numbers (ofp_header.version), and the
 * names Bridge.protocols and ovs-ofctl -O use for them.
 */
export const OFP10 = 0x01;
export const OFP13 = 0x04;
export const OFP14 = 0x05;
export const OFP15 = 0x06;

export type OfpVersion = typeof OFP10 | typeof OFP13 | typeof OFP14 | typeof OFP15;

/** Every version bvs negotiates, oldest first. OpenFlow 1.1 and 1.2 are not offered. */
export const SUPPORTED_VERSIONS: readonly OfpVersion[] = [OFP10, OFP13, OFP14, OFP15];

/** Bridge.protocols names (vswitch.ovsschema) to wire versions. A Map: the keys are user tokens. */
export const VERSION_BY_NAME: ReadonlyMap<string, OfpVersion> = new Map([
  ['OpenFlow10', OFP10], ['OpenFlow13', OFP13], ['OpenFlow14', OFP14], ['OpenFlow15', OFP15],
]);

export function isSupportedVersion(v: number): v is OfpVersion {
  return v === OFP10 || v === OFP13 || v === OFP14 || v === OFP15;
}
