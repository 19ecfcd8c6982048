/**
 * The small printers that format.ts and the NX action printers share (OVS's mf_format and
 * mf_format_subfield): hex in OVS's two styles, field values with masks, bit ranges of fields.
 */
import { formatIpv4, formatIpv6, formatMac } from '../datapath/index.ts';
import type { SubField } from './actions.ts';
import { fieldByName, fieldFullMask, type FieldDef } from './fields.ts';

export const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
/** C's "%#x", which OVS uses for registers, metadata and field values: 0 prints as "0". */
export const altHex = (v: number | bigint): string => (v === 0 || v === 0n ? '0' : hex(v));

/** A field value in its text format, with /mask when not all ones. */
export function formatFieldValue(d: FieldDef, value: bigint, mask?: bigint): string {
  const one = (x: bigint): string => {
    switch (d.format) {
      case 'mac': return formatMac(Number(x));
      case 'ipv4': return formatIpv4(Number(x));
      case 'ipv6': return formatIpv6(x);
      case 'hex': return altHex(x);
      default: return x.toString();
    }
  };
  if (mask === undefined || mask === fieldFullMask(d)) return one(value);
  return `${one(value)}/${d.format === 'dec' ? hex(mask) : one(mask)}`;
}

/**
 * NAME[range] in the bits of the field NAME reads back as. That is the field itself, or a wider
 * one at the same place: dl_vlan prints as NXM_OF_VLAN_TCI[0..11], not as NXM_OF_VLAN_TCI[],
 * which would be all 16 bits of the TCI.
 */
export function formatSubField(s: SubField): string {
  const name = s.field.nxm;
  const as = fieldByName(name) ?? s.field;
  const ofs = s.ofs + s.field.shift - as.shift;
  if (ofs === 0 && s.nBits === as.bits) return `${name}[]`;
  return s.nBits === 1 ? `${name}[${ofs}]` : `${name}[${ofs}..${ofs + s.nBits - 1}]`;
}

