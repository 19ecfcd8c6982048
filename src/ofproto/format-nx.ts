/**
 * Printing the Nicira-extension actions as ovs-ofctl 3.1 prints them (lib/ofp-actions.c
 * format_* functions); checked against the real tool in tests/ofproto/oracle.test.ts.
 * format.ts dispatches here; clone() prints its nested list through the `list` callback.
 */
import type { OfAction } from './actions.ts';
import { altHex, formatSubField } from './format-field.ts';
import { formatPort } from './flow.ts';
import { formatLearn } from './learn.ts';

/** Bytes as OVS prints them: two hex digits each, joined by dots. */
export function formatHexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('.');
}

/** The text of `a`, or undefined when it is not an NX action of this file. */
export function formatNxAction(a: OfAction, list: (as: readonly OfAction[]) => string): string | undefined {
  switch (a.type) {
    case 'note': return `note:${formatHexBytes(a.data)}`;
    case 'output_reg': return `output:${formatSubField(a.src)}`;
    case 'stack_push': return `push:${formatSubField(a.src)}`;
    case 'stack_pop': return `pop:${formatSubField(a.dst)}`;
    case 'clone': return `clone(${list(a.actions)})`;
    case 'write_metadata':
      return a.mask === 0xffffffffffffffffn ? `write_metadata:${altHex(a.value)}` : `write_metadata:${altHex(a.value)}/${altHex(a.mask)}`;
    case 'conjunction': return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'multipath': return `multipath(${a.fields},${a.basis},${a.algorithm},${a.maxLink + 1},${a.arg},${formatSubField(a.dst)})`;
    case 'bundle': {
      const head = `${a.fields},${a.basis},${a.algorithm},ofport`;
      const members = `members:${a.members.map(formatPort).join(',')}`;
      return a.dst ? `bundle_load(${head},${formatSubField(a.dst)},${members})` : `bundle(${head},${members})`;
    }
    case 'learn': return formatLearn(a);
    case 'enqueue': return `enqueue:${formatPort(a.port)}:${a.queue}`;
    case 'set_queue': return `set_queue:${a.queue}`;
    default: return undefined;
  }
}
