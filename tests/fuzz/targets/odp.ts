/**
 * Fuzz targets of the ODP syntax (src/datapath/odp): flows and action lists, with and without
 * port names. Beyond "a result or an OdpSyntaxError", the printer's contract (odp/index.ts):
 * formatFlow never throws, and its output parses back and prints the same (stable after one
 * round); an action list prints and parses back to the same actions.
 */
import {
  formatActions, formatFlow, OdpSyntaxError, parseActions, parseFlow, type PortNames,
} from '../../../src/datapath/odp/index.ts';
import {
  ETHTYPE_BY_L3, FRAG_NAMES, L3_BY_ETHTYPE, L4_BY_PROTO, PROTO_BY_L4, TCP_FLAG_NAMES,
} from '../../../src/datapath/odp/fields.ts';
import { entriesState, PropertyViolation, prototypeState, textTarget, type Target } from '../target.ts';

/** Port names as `ovs-dpctl --names` would use them, odd ones included. */
const PORTS: PortNames = (() => {
  const byNum = new Map<number, string>([[1, 'p1'], [2, 'br0'], [7, 'veth.7'], [8, 'a-b+c'], [4294967295, 'last']]);
  return { names: byNum, numbers: new Map([...byNum].map(([n, s]) => [s, n])) };
})();

const FRAGMENTS = [
  'recirc_id(0)', 'in_port(', 'eth(', 'eth_type(0x8100)', 'vlan(vid=', 'encap(', 'ipv4(', 'ipv6(', 'arp(', 'tcp(',
  'udp(', 'icmp(', 'icmpv6(', 'tcp_flags(', 'vlan_tci(', 'frag=', 'src=', 'dst=', 'proto=', '/0x', '/255.0.0.0',
  '::1', 'fe80::/64', 'userspace(pid=', 'userdata(', 'push_vlan(', 'set(', 'pop_vlan', 'meter(', 'drop', 'p1', 'veth.7',
  'ufid:12345678-1234-1234-1234-123456789abc', '+syn-ack', 'syn|ack', 'first', 'later', 'no',
];

function state(): unknown[] {
  return [...prototypeState(), ...entriesState(FRAG_NAMES), ...TCP_FLAG_NAMES.flat(), ...entriesState(L3_BY_ETHTYPE),
    ...entriesState(L4_BY_PROTO), ...entriesState(PROTO_BY_L4), ...entriesState(ETHTYPE_BY_L3),
    ...entriesState(PORTS.names!), ...entriesState(PORTS.numbers!)];
}

const text = textTarget(FRAGMENTS, (e) => e instanceof OdpSyntaxError, state);

/** Parses; on success, the printed form must parse back and print the same. */
function stable<T>(input: string, parse: (s: string) => T, print: (v: T) => string, what: string): void {
  let first: T;
  try { first = parse(input); } catch (e) { if (e instanceof OdpSyntaxError) return; throw e; }
  const shown = print(first);
  let again: string;
  try {
    again = print(parse(shown));
  } catch (e) {
    throw new PropertyViolation(`${what} prints "${shown}", which does not parse back: ${(e as Error).message}`);
  }
  if (again !== shown) throw new PropertyViolation(`${what} prints "${shown}", which parses back as "${again}"`);
}

export const odpFlow: Target<string> = {
  ...text,
  name: 'odp-flow',
  run(s) {
    stable(s, (x) => parseFlow(x), ({ key, mask }) => formatFlow(key, mask), 'flow');
    stable(s, (x) => parseFlow(x, PORTS), ({ key, mask }) => formatFlow(key, mask, PORTS), 'flow (with port names)');
  },
};

/** Actions as comparable text: bigints (userspace cookies) written out. */
const actionsJson = (a: unknown): string => JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

export const odpActions: Target<string> = {
  ...text,
  name: 'odp-actions',
  run(s) {
    for (const ports of [undefined, PORTS]) {
      let first;
      try { first = parseActions(s, ports); } catch (e) { if (e instanceof OdpSyntaxError) continue; throw e; }
      const shown = formatActions(first, ports);
      let back;
      try {
        back = parseActions(shown, ports);
      } catch (e) {
        throw new PropertyViolation(`actions print "${shown}", which does not parse back: ${(e as Error).message}`);
      }
      if (actionsJson(back) !== actionsJson(first)) {
        throw new PropertyViolation(`actions print "${shown}", which parses back as ${actionsJson(back)}, not ${actionsJson(first)}`);
      }
    }
  },
};
