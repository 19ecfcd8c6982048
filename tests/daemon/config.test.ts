/** Pure logic of the daemon: options, reading the desired config from OVSDB rows, ofports. */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DaemonOptionsError, resolveOptions } from '../../src/daemon/options.ts';
import { OvsdbCore, VSWITCH_SCHEMA_PATH } from '../../src/ovsdb/index.ts';
import { assignOfport, readConfig, type PortConfig } from '../../src/bridge/index.ts';
import { hiddenName, isHiddenName } from '../../src/netdev/index.ts';

const t = suite('daemon-config');
const schema = JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, 'utf8'));

async function db(ops: unknown[]) {
  const h = new OvsdbCore().addMemory(structuredClone(schema));
  const r = await h.transact([{ op: 'insert', table: 'Open_vSwitch', row: { next_cfg: 3, cur_cfg: 2, other_config: ['map', [['max-idle', '1500']]] } }, ...ops]) as { error?: string }[];
  assert.not.ok(r.find((x) => x?.error), JSON.stringify(r));
  return h;
}

const iface = (name: string, row: Record<string, unknown> = {}) => ({ op: 'insert', table: 'Interface', row: { name, ...row }, 'uuid-name': `i_${name}` });
const port = (name: string, ifaces: string[], row: Record<string, unknown> = {}) => ({
  op: 'insert', table: 'Port', row: { name, interfaces: ['set', ifaces.map((i) => ['named-uuid', `i_${i}`])], ...row }, 'uuid-name': `p_${name}`,
});
const bridge = (name: string, ports: string[]) => ({ op: 'insert', table: 'Bridge', row: { name, ports: ['set', ports.map((p) => ['named-uuid', `p_${p}`])] }, 'uuid-name': `b_${name.replace(/\W/g, '_')}` });
const attach = (names: string[]) => ({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', names.map((n) => ['named-uuid', `b_${n.replace(/\W/g, '_')}`])]]] });

t('options: flags over env over defaults; errors name the flag', () => {
  const o = resolveOptions({ runDir: '/tmp/x' }, { BVS_RUN_DIR: '/tmp/y', BVS_DB: '/tmp/c.db' });
  assert.is(o.runDir, '/tmp/x');
  assert.is(o.db, '/tmp/c.db');
  assert.is(o.pinDir, '/sys/fs/bpf/bvs');
  assert.is(o.logLevel, 'info');
  assert.throws(() => resolveOptions({ pinDir: '/tmp/pins' }, {}), (e: Error) => e instanceof DaemonOptionsError && /^--pin-dir: /.test(e.message));
  assert.throws(() => resolveOptions({ nats: 'http://x' }, {}), /^--nats: /);
  assert.throws(() => resolveOptions({ logLevel: 'loud' }, {}), /^--log-level: /);
  assert.throws(() => resolveOptions({ natsCreds: '/x.creds' }, {}), /--nats-creds: needs --nats/);
});

t('readConfig: bridges attached to Open_vSwitch, ports with tag/trunks, types, tuning', async () => {
  const h = await db([
    iface('br0', { type: 'internal' }), iface('eth1', { ofport_request: 5 }), iface('eth2', { ofport: 3 }),
    port('br0', ['br0']), port('eth1', ['eth1'], { tag: 10 }), port('eth2', ['eth2'], { trunks: ['set', [10, 20]] }),
    bridge('br0', ['br0', 'eth1', 'eth2']),
    iface('x'), port('x', ['x']), bridge('detached', ['x']),
    attach(['br0']),
  ]);
  const c = readConfig(h)!;
  assert.is(c.nextCfg, 3);
  assert.is(c.curCfg, 2);
  assert.equal(c.bridges.map((b) => b.name), ['br0'], 'a Bridge row not in Open_vSwitch.bridges is not configured');
  const b = c.bridges[0]!;
  assert.equal(b.tuning, { maxIdleMs: 1500 });
  const ports = Object.fromEntries(b.ports.map((p) => [p.name, p]));
  assert.is(ports.br0!.iface.type, 'internal');
  assert.is(ports.eth1!.tag, 10);
  assert.is(ports.eth1!.iface.ofportRequest, 5);
  assert.equal(ports.eth2!.trunks, [10, 20]);
  assert.is(ports.eth2!.iface.ofport, 3);
  assert.is(ports.eth2!.iface.type, 'system');
  assert.equal(c.problems, []);
});

t('readConfig: unsupported rows become per-port errors, never exceptions', async () => {
  const h = await db([
    iface('a'), iface('b'), port('bond0', ['a', 'b']),
    iface('gre0', { type: 'gre' }), port('gre0', ['gre0']),
    iface('ok'), port('ok', ['ok'], { tag: 0 }), bridge('br1', ['bond0', 'gre0', 'ok']),
    bridge('br.bad', []),
    attach(['br1', 'br.bad']),
  ]);
  const c = readConfig(h)!;
  assert.equal(c.bridges.map((b) => b.name), ['br1']);
  assert.match(c.problems.join('\n'), /Bridge br\.bad: name must be/);
  const inv = Object.fromEntries(c.bridges[0]!.ports.map((p) => [p.name, p.invalid]));
  assert.match(inv.bond0!, /bonds/);
  assert.match(inv.gre0!, /type "gre" is not supported/);
  assert.match(inv.ok!, /tag 0 is out of range/);
});

t('assignOfport: LOCAL for the bridge port, then request, previous, datapath, lowest free', () => {
  const p = (name: string, o: Partial<PortConfig['iface']> = {}): PortConfig => ({
    uuid: 'u', name, tag: undefined, trunks: [],
    iface: { uuid: 'i', name, type: 'system', ofportRequest: undefined, ofport: undefined, error: undefined, ...o },
  });
  assert.is(assignOfport('br0', p('br0', { type: 'internal' }), new Set(), new Map()), 65534);
  assert.is(assignOfport('br0', p('a', { ofportRequest: 9 }), new Set([1]), new Map()), 9);
  assert.is(assignOfport('br0', p('a', { ofportRequest: 1 }), new Set([1]), new Map()), 2, 'a taken request falls back');
  assert.is(assignOfport('br0', p('a', { ofport: 4 }), new Set([1]), new Map()), 4, 'keeps its previous ofport');
  assert.is(assignOfport('br0', p('a', { ofport: -1 }), new Set(), new Map([['a', 6]])), 6, 'the pinned port number');
  assert.is(assignOfport('br0', p('a'), new Set([1, 2, 4]), new Map()), 3);
});

t('internal port names: hidden end fits IFNAMSIZ and is recognisable', () => {
  const h = hiddenName('br-with-long-n');
  assert.ok(h.length <= 15);
  assert.ok(isHiddenName(h));
  assert.not.ok(isHiddenName('br0'));
  assert.is.not(hiddenName('a'), hiddenName('b'));
});

t.run();
