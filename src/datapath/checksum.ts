/**
 * Finishing an L4 checksum the sender left to the NIC (CHECKSUM_PARTIAL), on an upcall's copy
 * of the packet. A veth never finishes it: the skb carries the partial state as metadata and
 * the receiver trusts it, but the bytes the datapath copies into an upcall hold only the
 * pseudo-header sum. Before those bytes leave the datapath again (execute, packet-in) the
 * checksum is finished here, exactly as the kernel's skb_checksum_help does (and as OVS's
 * kernel module does before an upcall): the one's complement sum of the bytes from `start` to
 * the end, the pseudo-header sum already in the field included, folded, complemented, written
 * at start + offset; a result of 0 is written as 0xffff (for UDP, 0 would mean "no checksum").
 *
 * The kernel tells where (bvs_upcall.csum_start/csum_offset, read by bpf/lib/kern.h); this is
 * not a parser. It cannot be done for a truncated capture (the sum needs every byte).
 */

/** Finishes the checksum in place. Returns false (nothing written) when start/offset do not
 *  fit the frame. */
export function finishChecksum(frame: Uint8Array, start: number, offset: number): boolean {
  const at = start + offset;
  if (start < 14 || at + 2 > frame.length) return false;
  let sum = 0;
  let i = start;
  for (; i + 1 < frame.length; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  if (i < frame.length) sum += frame[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const csum = (~sum & 0xffff) || 0xffff;
  frame[at] = csum >> 8;
  frame[at + 1] = csum & 0xff;
  return true;
}
