/**
 * Datapath actions in ovs-dpctl syntax (OVS lib/odp-util.c format_odp_action and
 * odp_actions_from_string), over DpAction.
 *
 * Printed forms (OVS 3.x):
 *   2                                  output to port 2
 *   drop                               the empty list
 *   userspace(pid=N)                   an upcall; with a cookie: userspace(pid=N,userdata(HEX)),
 *                                      HEX the cookie's 8 bytes, most significant first
 *   push_vlan(vid=10,pcp=0)            tpid 0x8100; another TPID prints tpid=0x88a8, first
 *   pop_vlan
 *   set(eth(src=..,dst=..)), set(ipv4(src=..,dst=..,tos=..,ttl=..)), set(tcp(src=..,dst=..)),
 *   set(udp(..))                       only the subfields the action sets, in OVS's field order
 *                                      (how OVS 3.x prints a masked set with exact masks)
 *   meter(N)                           datapath meter N (0..1023; OVS's form, a decimal id)
 * Parsing also accepts userdata of 1..8 bytes (zero-extended on the left), push_vlan's cfi=1,
 * an empty text as drop. Anything else OVS knows (ct, recirc, sample, partial set masks, ...)
 * is rejected as unsupported, naming the token.
 */
import { ABI } from '../abi.ts';
import { type DpAction, MAX_ACTIONS, VLAN_CFI } from '../flow.ts';
import { formatIpv4, formatMac } from './addr.ts';
import { OdpSyntaxError } from './errors.ts';
import { hex4, hexC, type PortNames } from './fields.ts';
import { formatVlanBody } from './key-format.ts';
import { type Node, parseUintBits, splitItems, splitNodes } from './lexer.ts';
import { ipv4VM, macVM } from './values.ts';

const MAX_METERS = ABI.MAX_METERS;

const UNSUPPORTED = new Set([
  'sample', 'clone', 'ct', 'ct_clear', 'recirc', 'trunc', 'tnl_push', 'tnl_pop', 'hash',
  'check_pkt_len', 'push_mpls', 'pop_mpls', 'add_mpls', 'push_eth', 'pop_eth', 'push_nsh',
  'pop_nsh', 'lb_output', 'emit_sample', 'psample', 'dec_ttl', 'set_masked',
]);

/** One action's text. */
export function formatAction(a: DpAction, ports: PortNames = {}): string {
  switch (a.type) {
    case 'output': return ports.names?.get(a.port) ?? String(a.port);
    case 'userspace':
      return a.cookie === undefined
        ? `userspace(pid=${a.pid})`
        : `userspace(pid=${a.pid},userdata(${BigInt.asUintN(64, a.cookie).toString(16).padStart(16, '0')}))`;
    case 'push_vlan':
      return `push_vlan(${a.tpid !== 0x8100 ? `tpid=${hex4(a.tpid)},` : ''}${formatVlanBody(a.tci | VLAN_CFI, 0xffff)})`;
    case 'pop_vlan': return 'pop_vlan';
    case 'meter': return `meter(${a.id})`;
    case 'set_eth':
      return setText('eth', [a.src === undefined ? null : `src=${formatMac(a.src)}`,
        a.dst === undefined ? null : `dst=${formatMac(a.dst)}`]);
    case 'set_ipv4':
      return setText('ipv4', [a.src === undefined ? null : `src=${formatIpv4(a.src)}`,
        a.dst === undefined ? null : `dst=${formatIpv4(a.dst)}`,
        a.tos === undefined ? null : `tos=${hexC(a.tos)}`, a.ttl === undefined ? null : `ttl=${a.ttl}`]);
    case 'set_tcp': case 'set_udp':
      return setText(a.type.slice(4), [a.src === undefined ? null : `src=${a.src}`,
        a.dst === undefined ? null : `dst=${a.dst}`]);
  }
}

const setText = (name: string, f: Array<string | null>): string =>
  `set(${name}(${f.filter((x) => x !== null).join(',')}))`;

/** ovs-dpctl's action list: comma-separated, "drop" when empty. */
export function formatActions(actions: DpAction[], ports: PortNames = {}): string {
  return actions.length ? actions.map((a) => formatAction(a, ports)).join(',') : 'drop';
}

/** Parses an action list. Throws OdpSyntaxError naming the offending token. */
export function parseActions(text: string, ports: PortNames = {}): DpAction[] {
  const nodes = splitNodes(text, 0);
  const out: DpAction[] = [];
  for (const n of nodes) {
    if (n.name === 'drop' && n.body === undefined) {
      if (nodes.length > 1) throw new OdpSyntaxError(n.pos, 'drop', '"drop" must be the only action');
      return [];
    }
    if (out.length === MAX_ACTIONS) {
      throw new OdpSyntaxError(n.pos, n.name, `too many actions (the datapath holds at most ${MAX_ACTIONS})`);
    }
    out.push(parseAction(n, ports));
  }
  return out;
}

function parseAction(n: Node, ports: PortNames): DpAction {
  if (n.body === undefined) {
    const named = ports.numbers?.get(n.name);
    if (named !== undefined) return { type: 'output', port: named };
    if (/^[0-9]/.test(n.name)) return { type: 'output', port: parseUintBits(n.name, n.pos, 'output port', 32) };
    if (n.name === 'pop_vlan') return { type: 'pop_vlan' };
  } else {
    switch (n.name) {
      case 'userspace': return userspace(n);
      case 'push_vlan': return pushVlan(n);
      case 'set': return setAction(n);
      case 'meter': return meter(n);
    }
  }
  if (UNSUPPORTED.has(n.name)) throw new OdpSyntaxError(n.pos, n.name, `action "${n.name}" is not supported by the bvs datapath`);
  const shown = n.body === undefined ? n.name : `${n.name}(...)`;
  throw new OdpSyntaxError(n.pos, n.name, `unknown action "${shown}"`);
}

function noMask(value: string, pos: number, what: string): string {
  const slash = value.indexOf('/');
  if (slash >= 0) throw new OdpSyntaxError(pos + slash, value.slice(slash), `a mask is not supported in ${what}`);
  return value;
}

/** name=value items of an action body, each once, each known. */
function items(n: Node, known: readonly string[], where: string): Map<string, { v: string; pos: number }> {
  const got = new Map<string, { v: string; pos: number }>();
  for (const it of splitItems(n.body ?? '', n.bodyPos)) {
    if (!known.includes(it.name)) {
      throw new OdpSyntaxError(it.pos, it.name, `unknown or unsupported field "${it.name}" in ${where}`);
    }
    if (got.has(it.name)) throw new OdpSyntaxError(it.pos, it.name, `duplicate field "${it.name}" in ${where}`);
    if (it.value === undefined || it.value.trim() === '') {
      throw new OdpSyntaxError(it.pos, it.name, `expected "${it.name}=value" in ${where}`);
    }
    got.set(it.name, { v: noMask(it.value, it.valuePos, where), pos: it.valuePos });
  }
  return got;
}

function userspace(n: Node): DpAction {
  let pid: number | undefined;
  let cookie: bigint | undefined;
  for (const it of splitItems(n.body ?? '', n.bodyPos)) {
    if (it.name === 'pid' && it.value !== undefined) {
      if (pid !== undefined) throw new OdpSyntaxError(it.pos, 'pid', 'duplicate field "pid" in userspace(...)');
      pid = parseUintBits(it.value, it.valuePos, 'userspace pid', 32);
    } else if (it.value === undefined && /^userdata\(.*\)$/.test(it.name)) {
      if (cookie !== undefined) throw new OdpSyntaxError(it.pos, 'userdata', 'duplicate userdata in userspace(...)');
      const hex = it.name.slice(9, -1);
      if (!/^([0-9a-fA-F]{2}){1,8}$/.test(hex)) {
        throw new OdpSyntaxError(it.pos + 9, hex, `bad userdata "${hex}": expected 1 to 8 bytes of hex (the cookie)`);
      }
      cookie = BigInt(`0x${hex}`);
    } else {
      throw new OdpSyntaxError(it.pos, it.name, `unknown or unsupported field "${it.name}" in userspace(...)`);
    }
  }
  if (pid === undefined) throw new OdpSyntaxError(n.pos, 'userspace', 'userspace(...) needs pid=N');
  return cookie === undefined ? { type: 'userspace', pid } : { type: 'userspace', pid, cookie };
}

function meter(n: Node): DpAction {
  const body = (n.body ?? '').trim();
  if (!/^[0-9]+$/.test(body)) throw new OdpSyntaxError(n.bodyPos, body, `meter(...) takes a meter id, e.g. meter(0), not "${body}"`);
  const id = parseUintBits(body, n.bodyPos, 'meter id', 32);
  if (id >= MAX_METERS) throw new OdpSyntaxError(n.bodyPos, body, `meter id ${id} is out of range (the datapath has meters 0..${MAX_METERS - 1})`);
  return { type: 'meter', id };
}

function pushVlan(n: Node): DpAction {
  const f = items(n, ['tpid', 'vid', 'pcp', 'cfi'], 'push_vlan(...)');
  const num = (name: string, bits: number, dflt: number): number => {
    const x = f.get(name);
    return x ? parseUintBits(x.v, x.pos, `push_vlan ${name}`, bits) : dflt;
  };
  const cfi = f.get('cfi');
  if (cfi && num('cfi', 1, 1) !== 1) {
    throw new OdpSyntaxError(cfi.pos, cfi.v, 'push_vlan cfi=0 is not supported (the pushed tag always has CFI set)');
  }
  return { type: 'push_vlan', tpid: num('tpid', 16, 0x8100), tci: num('vid', 12, 0) | (num('pcp', 3, 0) << 13) };
}

function setAction(n: Node): DpAction {
  const inner = splitNodes(n.body ?? '', n.bodyPos);
  if (inner.length !== 1 || inner[0].body === undefined) {
    throw new OdpSyntaxError(n.bodyPos, n.body ?? '', 'set(...) takes exactly one attribute, e.g. set(ipv4(ttl=63))');
  }
  const a = inner[0];
  const where = `set(${a.name}(...))`;
  switch (a.name) {
    case 'eth': {
      const f = items(a, ['src', 'dst'], where);
      const mac = (k: string): number | undefined => { const x = f.get(k); return x && macVM(x.v, x.pos, `set eth ${k}`).v; };
      return { type: 'set_eth', ...opt('src', mac('src')), ...opt('dst', mac('dst')) };
    }
    case 'ipv4': {
      const f = items(a, ['src', 'dst', 'tos', 'ttl'], where);
      const ip = (k: string): number | undefined => { const x = f.get(k); return x && ipv4VM(x.v, x.pos, `set ipv4 ${k}`).v; };
      const u8 = (k: string): number | undefined => { const x = f.get(k); return x && parseUintBits(x.v, x.pos, `set ipv4 ${k}`, 8); };
      return { type: 'set_ipv4', ...opt('src', ip('src')), ...opt('dst', ip('dst')), ...opt('tos', u8('tos')), ...opt('ttl', u8('ttl')) };
    }
    case 'tcp': case 'udp': {
      const f = items(a, ['src', 'dst'], where);
      const port = (k: string): number | undefined => { const x = f.get(k); return x && parseUintBits(x.v, x.pos, `set ${a.name} ${k}`, 16); };
      return { type: a.name === 'tcp' ? 'set_tcp' : 'set_udp', ...opt('src', port('src')), ...opt('dst', port('dst')) };
    }
  }
  throw new OdpSyntaxError(a.pos, a.name, `${where} is not supported by the bvs datapath`);
}

/** { [k]: v } when v is defined, else {}: DpAction's optional fields stay absent, not undefined. */
function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}
