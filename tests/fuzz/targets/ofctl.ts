/**
 * Fuzz targets of the ovs-ofctl syntax (src/ofproto): flows (add, delete and packet modes),
 * action lists, groups. Beyond "a result or a FlowSyntaxError", whatever parses must print
 * (format.ts) and parse back to the same meaning and text: a flow bvs accepts is a flow
 * dump-flows can show and add-flow can take again, unchanged.
 */
import {
  FlowSyntaxError, formatActions, formatFlow, formatGroup, parseActions, parseFlow, parseGroup, type FlowMod, type SubField,
} from '../../../src/ofproto/index.ts';
import { allFields, type FieldDef } from '../../../src/ofproto/fields.ts';
import { PACKET_IN_REASON } from '../../../src/ofproto/actions.ts';
import { ETH, OFPP, PROTO, W } from '../../../src/ofproto/flow.ts';
import { entriesState, PropertyViolation, prototypeState, textTarget, type Target } from '../target.ts';

/** Fragments of the syntax that the seeds' words alone do not spell. */
const FRAGMENTS = [
  'actions=', 'actions:', 'bucket=', 'weight:', 'bucket_id:', 'group_id=', 'type=', '->', 'NXM_NX_REG0[]',
  'NXM_OF_IP_SRC[0..7]', '[1..0]', '[99]', 'controller(', 'resubmit(', '(,', ',)', '/0x', '/24', '::', '::/64',
  '10.0.0.1', '00:00:00:00:00:01', 'reason=', 'max_len=', 'id=',
];

/** The field definitions are frozen (an edit throws), so their identities are enough here. */
function state(): unknown[] {
  return [...prototypeState(), ...allFields(), ...entriesState(PACKET_IN_REASON), ...entriesState(OFPP),
    ...entriesState(ETH), ...entriesState(PROTO), ...entriesState(W)];
}

const text = textTarget(FRAGMENTS, (e) => e instanceof FlowSyntaxError, state);

/**
 * What a parse means, as comparable text: a field by name, a bit range by where its bits are
 * (dl_vlan[] and NXM_OF_VLAN_TCI[0..11] are the same bits) and what it needs, words as arrays.
 */
function meaning(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint32Array) return Array.from(x);
    if (x !== null && typeof x === 'object' && 'nBits' in x && 'field' in x) {
      const sf = x as SubField;
      return `bits ${sf.field.word}/${sf.field.nWords}:${sf.field.shift + sf.ofs}+${sf.nBits} ${sf.field.prereq}${sf.field.writable ? ' rw' : ''}`;
    }
    if (x !== null && typeof x === 'object' && 'nxm' in x) return `field ${(x as FieldDef).name}`;
    return x;
  });
}

/**
 * Parsed once, printed, parsed again: the second parse must mean what the first did, and
 * print the same text (a flow dump-flows shows can be added again, unchanged).
 */
function reparses<T>(what: string, first: T, print: (v: T) => string, parse: (s: string) => T): void {
  const shown = print(first);
  let again: T;
  try {
    again = parse(shown);
  } catch (e) {
    throw new PropertyViolation(`${what} prints "${shown}", which does not parse back: ${(e as Error).message}`);
  }
  if (print(again) !== shown) throw new PropertyViolation(`${what} prints "${shown}", which parses back as "${print(again)}"`);
  if (meaning(again) !== meaning(first)) throw new PropertyViolation(`${what} prints "${shown}", which parses back as something else: ${meaning(again)} vs ${meaning(first)}`);
}

const addFlow = (s: string): FlowMod => { const f = parseFlow(s); return { ...f, table: f.table ?? 0 }; };
const printFlow = (f: FlowMod): string => formatFlow({ ...f, table: f.table ?? 0 });

export const ofctlFlow: Target<string> = {
  ...text,
  name: 'ofctl-flow',
  run(s) {
    let first: FlowMod | undefined;
    try { first = addFlow(s); } catch (e) { if (!(e instanceof FlowSyntaxError)) throw e; }
    if (first !== undefined) reparses('flow', first, printFlow, addFlow);
    for (const mode of ['del', 'packet'] as const) {
      try { parseFlow(s, mode); } catch (e) { if (!(e instanceof FlowSyntaxError)) throw e; }
    }
  },
};

export const ofctlActions: Target<string> = {
  ...text,
  name: 'ofctl-actions',
  run(s) {
    reparses('action list', parseActions(s), formatActions, (x) => parseActions(x));
  },
};

export const ofctlGroup: Target<string> = {
  ...text,
  name: 'ofctl-group',
  run(s) {
    reparses('group', parseGroup(s), formatGroup, parseGroup);
  },
};
