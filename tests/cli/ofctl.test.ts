/**
 * `bvs ofctl` and `bvs appctl` (through bin/bvs) against a real nats-server (src/bus
 * startNatsServer) with a stub responder serving the contracts in this process. This checks the
 * CLI side: what it sends, how it prints replies and errors. The path through the real daemon
 * is tested in tests/daemon.
 *
 * Expected texts marked "OVS 3.1" were printed by the real ovs-ofctl/ovs-appctl 3.1.0 for a
 * userspace bridge with the same counters; the stub replies carry those counters.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BusError, BusErrorCode, connectRunDir, startNatsServer, type Bus, type Handlers, type NatsServer,
} from '../../src/bus/index.ts';
import { bvs, removeTempDirs, tempDir } from './helpers.ts';

const t = suite('cli-ofctl-appctl');
const HOST = `cli-${process.pid}`;
let srv: NatsServer | undefined;
let stub: Bus | undefined;
let runDir = '';
const got: { name: string; req: unknown }[] = [];

const notFound = (bridge: string) => new BusError(BusErrorCode.NotFound, `no bridge named ${bridge}`, { field: 'bridge' });
const known = (b: string) => { if (b !== 'br0') throw notFound(b); };
const rec = <C extends keyof Handlers>(name: C, req: unknown) => { got.push({ name, req }); };

const handlers: Handlers = {
  'daemon.ping': () => ({ host: HOST, pid: 4242, version: '0.1.0', protocol: 1, uptime_s: 1, time: new Date().toISOString() }),
  'ofctl.add-flow': (r) => { rec('ofctl.add-flow', r); known(r.bridge); return { count: 1 }; },
  'ofctl.add-flows': (r) => {
    rec('ofctl.add-flows', r);
    const bad = r.flows.findIndex((f) => f.includes('in_port=99'));
    if (bad >= 0) throw new BusError(BusErrorCode.InvalidRequest, 'in_port 99: no such port', { field: `flows.${bad}` });
    return { count: r.flows.length };
  },
  'ofctl.mod-flows': (r) => { rec('ofctl.mod-flows', r); return { count: 2 }; },
  'ofctl.del-flows': (r) => { rec('ofctl.del-flows', r); return { count: 3 }; },
  'ofctl.dump-flows': (r) => {
    rec('ofctl.dump-flows', r);
    known(r.bridge);
    return { flows: [
      { table: 0, priority: 100, cookie: 0n, match: 'ip,nw_dst=10.9.0.99', actions: 'drop', n_packets: 0, n_bytes: 0, duration_s: 0.014, idle_age_s: 0, idle_timeout: 30 },
      { table: 0, priority: 0, cookie: 0n, match: '', actions: 'NORMAL', n_packets: 7, n_bytes: 562, duration_s: 0.39, idle_age_s: 0 },
      { table: 1, priority: 5, cookie: 0x12n, match: 'tcp,tp_dst=80', actions: 'output:2', n_packets: 0, n_bytes: 0, duration_s: 0.005, idle_age_s: 0, hard_timeout: 60 },
      { table: 0, priority: 32768, cookie: 0n, match: '', actions: 'drop', n_packets: 1, n_bytes: 60, duration_s: 2, idle_age_s: 1.7 },
    ] };
  },
  'ofctl.dump-ports': (r) => {
    rec('ofctl.dump-ports', r);
    const all = [
      { ofport: 1, name: 'd3v1', rx_packets: 5, rx_bytes: 414, rx_dropped: 0, rx_errors: 0, tx_packets: 5, tx_bytes: 414, tx_dropped: 0, tx_errors: 0 },
      { ofport: 65534, name: 'br0', rx_packets: 0, rx_bytes: 0, rx_dropped: 0, rx_errors: 0, tx_packets: 0, tx_bytes: 0, tx_dropped: 2, tx_errors: 0 },
      { ofport: 2, name: 'd3v2', rx_packets: 4, rx_bytes: 328, rx_dropped: 0, rx_errors: 0, tx_packets: 7, tx_bytes: 590, tx_dropped: 0, tx_errors: 0 },
    ];
    return { ports: r.port === undefined ? all : all.filter((p) => p.name === r.port) };
  },
  'ofctl.show': (r) => ({
    bridge: r.bridge, datapath_id: '0000c60ff08d3f4f', n_tables: 254,
    ports: [
      { ofport: 65534, name: 'br0', mac: 'c6:0f:f0:8d:3f:4f', state: 'down', config: ['PORT_DOWN'] },
      { ofport: 2, name: 'd3v2', mac: '46:a4:2b:c4:9a:a5', state: 'up', config: [] },
      { ofport: 1, name: 'd3v1', mac: '12:fc:0a:6f:e4:47', state: 'up', config: [], speed_mbps: 10000 },
    ],
  }),
  'appctl.fdb.show': (r) => {
    known(r.bridge);
    return { entries: [
      { ofport: 1, vlan: 0, mac: '0a:08:4d:d9:1b:bf', age_s: 0 },
      { ofport: 2, vlan: 0, mac: 'a2:7e:f7:56:27:17', age_s: 0.9 },
      { ofport: 65534, vlan: 10, mac: 'c6:0f:f0:8d:3f:4f', age_s: 123 },
    ] };
  },
  'appctl.fdb.flush': (r) => { rec('appctl.fdb.flush', r); return { flushed: 3, bridges: ['br0'] }; },
  'appctl.dpif.show': () => ({ datapaths: [{
    name: 'bvs@br0', bridge: 'br0', hit: 9, missed: 13, lost: 0, flows: 2,
    ports: [
      { name: 'd3v2', odp_port: 3, ofport: 2, type: 'system' },
      { name: 'br0', odp_port: 1, ofport: 65534, type: 'internal' },
      { name: 'd3v1', odp_port: 2, ofport: 1, type: 'system' },
    ],
  }] }),
  'appctl.upcall.show': () => ({
    flows: { current: 6, average: 6, max: 9, limit: 200000 }, dump_duration_ms: 1, max_idle_ms: 10000,
    handlers: [{ id: 0, upcalls: 13, flows_installed: 11, errors: 0 }], revalidators: [{ id: 0, dumps: 40, flows_removed: 5 }],
  }),
  'appctl.ofproto.trace': (r) => {
    rec('appctl.ofproto.trace', r);
    return { text: `Flow: ${r.flow}\n\nbridge("br0")\n-------------\n 0. priority 0\n    NORMAL\n\nFinal flow: unchanged\nMegaflow: recirc_id=0,eth,in_port=1\nDatapath actions: 2`, datapath_actions: '2', megaflow: 'recirc_id=0,eth,in_port=1' };
  },
};

const ofctl = (...a: string[]) => bvs(['ofctl', '--run-dir', runDir, ...a]);
const appctl = (...a: string[]) => bvs(['appctl', '--run-dir', runDir, ...a]);
const last = () => got[got.length - 1];

t.before(async () => {
  runDir = tempDir('ofctl');
  srv = await startNatsServer({ runDir, hostId: HOST });
  stub = await connectRunDir(runDir);
  stub.serveAll(handlers);
  await stub.flush();
});

t.after(async () => {
  await stub?.close();
  await srv?.stop();
  removeTempDirs();
});

t('add-flow sends the flow text; a syntax error is caught before sending, with position and token', async () => {
  got.length = 0;
  const ok = await ofctl('add-flow', 'br0', 'priority=100,ip,nw_dst=10.0.0.1,actions=drop');
  assert.equal([ok.code, ok.stdout, ok.stderr], [0, '', '']);
  assert.equal(last(), { name: 'ofctl.add-flow', req: { bridge: 'br0', flow: 'priority=100,ip,nw_dst=10.0.0.1,actions=drop' } });
  const bad = await ofctl('add-flow', 'br0', 'priority=100,ip,nw_dst=10.0.0,actions=drop');
  assert.is(bad.code, 1);
  assert.is(bad.stderr, 'bvs ofctl: nw_dst: bad IPv4 address: "10.0.0" (at position 16: "nw_dst=10.0.0")\n');
  assert.is(got.length, 1, 'nothing sent for a bad flow');
  const noBr = await ofctl('add-flow', 'nope', 'actions=drop');
  assert.equal([noBr.code, noBr.stderr], [1, 'bvs ofctl: no bridge named nope\n']);
});

t('add-flows from a file and from stdin: comments skipped, errors point at FILE:LINE', async () => {
  const dir = tempDir('flows');
  const file = path.join(dir, 'flows.txt');
  writeFileSync(file, '# the table\npriority=10,arp,actions=NORMAL\n\n  # indented comment\npriority=0,actions=drop\n');
  got.length = 0;
  assert.is((await ofctl('add-flows', 'br0', file)).code, 0);
  assert.equal(last(), { name: 'ofctl.add-flows', req: { bridge: 'br0', flows: ['priority=10,arp,actions=NORMAL', 'priority=0,actions=drop'] } });
  const stdin = await bvs(['ofctl', '--run-dir', runDir, 'add-flows', 'br0', '-'], { input: 'ip,actions=NORMAL\n' });
  assert.is(stdin.code, 0);
  assert.equal(last()!.req, { bridge: 'br0', flows: ['ip,actions=NORMAL'] });
  writeFileSync(file, 'arp,actions=NORMAL\n# c\ntcp,tp_dst=http,actions=drop\n');
  const bad = await ofctl('add-flows', 'br0', file);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`^bvs ofctl: ${file}:3: .*\\(at position \\d+: "tp_dst=http"\\)\\n$`));
  writeFileSync(file, 'arp,actions=NORMAL\n\nin_port=99,actions=drop\n');
  const remote = await ofctl('add-flows', 'br0', file);
  assert.equal([remote.code, remote.stderr], [1, `bvs ofctl: ${file}:3: in_port 99: no such port\n`]);
  const missing = await ofctl('add-flows', 'br0', path.join(dir, 'nope'));
  assert.match(missing.stderr, /^bvs ofctl: .*nope: No such file or directory\n$/);
});

t('mod-flows and del-flows pass --strict and the match', async () => {
  await ofctl('mod-flows', '--strict', 'br0', 'priority=5,tcp,actions=output:3');
  assert.equal(last(), { name: 'ofctl.mod-flows', req: { bridge: 'br0', flow: 'priority=5,tcp,actions=output:3', strict: true } });
  await ofctl('del-flows', 'br0');
  assert.equal(last(), { name: 'ofctl.del-flows', req: { bridge: 'br0' } });
  await ofctl('del-flows', 'br0', 'ip,nw_src=10.0.0.0/8');
  assert.equal(last(), { name: 'ofctl.del-flows', req: { bridge: 'br0', flow: 'ip,nw_src=10.0.0.0/8' } });
  const bad = await ofctl('del-flows', 'br0', 'ip,actions=drop');
  assert.match(bad.stderr, /^bvs ofctl: actions are not allowed in a delete/);
});

t('dump-flows prints what ovs-ofctl prints', async () => {
  const r = await ofctl('dump-flows', 'br0');
  assert.is(r.code, 0);
  assert.is(r.stdout, [
    // OVS 3.1 (first three lines)
    'NXST_FLOW reply (xid=0x4):',
    ' cookie=0x0, duration=0.014s, table=0, n_packets=0, n_bytes=0, idle_timeout=30, idle_age=0, priority=100,ip,nw_dst=10.9.0.99 actions=drop',
    ' cookie=0x0, duration=0.390s, table=0, n_packets=7, n_bytes=562, idle_age=0, priority=0 actions=NORMAL',
    ' cookie=0x12, duration=0.005s, table=1, n_packets=0, n_bytes=0, hard_timeout=60, idle_age=0, priority=5,tcp,tp_dst=80 actions=output:2',
    // default priority and an empty match print nothing between idle_age and actions
    ' cookie=0x0, duration=2.000s, table=0, n_packets=1, n_bytes=60, idle_age=1, actions=drop',
    '',
  ].join('\n'));
  await ofctl('dump-flows', 'br0', 'tcp');
  assert.equal(last(), { name: 'ofctl.dump-flows', req: { bridge: 'br0', flow: 'tcp' } });
});

t('dump-ports and show print what ovs-ofctl prints', async () => {
  const r = await ofctl('dump-ports', 'br0');
  assert.is(r.stdout, [ // OVS 3.1
    'OFPST_PORT reply (xid=0x2): 3 ports',
    '  port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0',
    '           tx pkts=0, bytes=0, drop=2, errs=0, coll=0',
    '  port  1: rx pkts=5, bytes=414, drop=0, errs=0, frame=0, over=0, crc=0',
    '           tx pkts=5, bytes=414, drop=0, errs=0, coll=0',
    '  port  2: rx pkts=4, bytes=328, drop=0, errs=0, frame=0, over=0, crc=0',
    '           tx pkts=7, bytes=590, drop=0, errs=0, coll=0',
    '',
  ].join('\n'));
  const one = await ofctl('dump-ports', 'br0', '1');
  assert.is(one.stdout.split('\n')[0], 'OFPST_PORT reply (xid=0x2): 1 ports');
  await ofctl('dump-ports', 'br0', 'd3v2');
  assert.equal(last(), { name: 'ofctl.dump-ports', req: { bridge: 'br0', port: 'd3v2' } });
  const none = await ofctl('dump-ports', 'br0', '7');
  assert.equal([none.code, none.stderr], [1, 'bvs ofctl: no port 7 on bridge br0\n']);

  const s = (await ofctl('show', 'br0')).stdout.split('\n');
  assert.is(s[0], 'OFPT_FEATURES_REPLY (xid=0x2): dpid:0000c60ff08d3f4f'); // OVS 3.1
  assert.is(s[1], 'n_tables:254, n_buffers:0');
  // Port blocks by number, LOCAL last; config/state lines as OVS 3.1 prints them.
  const ports = s.slice(4, -2).join('\n');
  assert.is(ports, [
    ' 1(d3v1): addr:12:fc:0a:6f:e4:47', '     config:     0', '     state:      0', '     speed: 10000 Mbps now, 0 Mbps max',
    ' 2(d3v2): addr:46:a4:2b:c4:9a:a5', '     config:     0', '     state:      0',
    ' LOCAL(br0): addr:c6:0f:f0:8d:3f:4f', '     config:     PORT_DOWN', '     state:      LINK_DOWN',
  ].join('\n'));
  assert.is(s[s.length - 2], 'OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0');
});

t('appctl fdb/show, fdb/flush, dpif/show, upcall/show, ofproto/trace, list-commands', async () => {
  const fdb = await appctl('fdb/show', 'br0');
  assert.is(fdb.stdout, [ // OVS 3.1 header and columns
    ' port  VLAN  MAC                Age',
    '    1     0  0a:08:4d:d9:1b:bf    0',
    '    2     0  a2:7e:f7:56:27:17    0',
    'LOCAL    10  c6:0f:f0:8d:3f:4f  123',
    '',
  ].join('\n'));
  assert.is((await appctl('fdb/flush', 'br0')).stdout, 'table successfully flushed\n');
  assert.equal(last(), { name: 'appctl.fdb.flush', req: { bridge: 'br0' } });
  await appctl('fdb/flush');
  assert.equal(last(), { name: 'appctl.fdb.flush', req: {} });
  assert.is((await appctl('dpif/show')).stdout, [
    'bvs@br0: hit:9 missed:13', '  br0:', '    br0 65534/1: (internal)', '    d3v1 1/2: (system)', '    d3v2 2/3: (system)', '',
  ].join('\n'));
  const up = (await appctl('upcall/show')).stdout;
  assert.match(up, /^bvs:\n {2}flows {9}: \(current 6\) \(avg 6\) \(max 9\) \(limit 200000\)\n {2}dump duration : 1ms\n/);
  assert.match(up, /handler 0: \(upcalls 13\) \(flows installed 11\) \(errors 0\)\n/);
  assert.match(up, /revalidator 0: \(dumps 40\) \(flows removed 5\)\n/);
  const tr = await appctl('ofproto/trace', 'br0', 'in_port=1,dl_dst=00:00:00:00:00:02');
  assert.equal(last(), { name: 'appctl.ofproto.trace', req: { bridge: 'br0', flow: 'in_port=1,dl_dst=00:00:00:00:00:02' } });
  assert.match(tr.stdout, /^Flow: in_port=1,dl_dst=00:00:00:00:00:02\n[^]*\nDatapath actions: 2\n$/);
  await appctl('ofproto/trace', 'in_port=2'); // one bridge: it may be omitted
  assert.equal(last()!.req, { bridge: 'br0', flow: 'in_port=2' });
  const hex = '000000000002000000000001080045000014000100004011f9e80a0000010a000002';
  const trp = await appctl('ofproto/trace', 'br0', 'in_port=1', hex); // a packet, as hex
  assert.equal(last()!.req, { bridge: 'br0', flow: 'in_port=1', packet: Buffer.from(hex, 'hex').toString('base64') });
  assert.match(trp.stdout, /\nDatapath actions: 2\n$/);
  await appctl('ofproto/trace', 'in_port=1', hex);
  assert.equal(last()!.req, { bridge: 'br0', flow: 'in_port=1', packet: Buffer.from(hex, 'hex').toString('base64') });
  await appctl('ofproto/trace', 'br0', 'in_port=1', '-generate');
  assert.equal(last()!.req, { bridge: 'br0', flow: 'in_port=1' });
  const notPkt = await appctl('ofproto/trace', 'br0', 'in_port=1', 'abc');
  assert.equal([notPkt.code, notPkt.stderr], [1, 'bvs appctl: ofproto/trace: "abc" is not a packet (hex Ethernet frame, at least 14 bytes) or -generate\n']);
  const list = (await appctl('list-commands')).stdout;
  assert.match(list, /^The available commands are:\n/);
  for (const c of ['dpif/show', 'fdb/flush', 'fdb/show', 'ofproto/trace', 'upcall/show']) assert.match(list, new RegExp(`\\n  ${c} +`));
  const unknown = await appctl('frob/x');
  assert.equal([unknown.code, unknown.stderr], [1, 'bvs appctl: "frob/x" is not a valid command (use list-commands to see a list of valid commands)\n']);
  const noBr = await appctl('fdb/show', 'nope');
  assert.equal([noBr.code, noBr.stderr], [1, 'bvs appctl: no bridge named nope\n']);
});

t('--nats URL (or BVS_NATS_URL) instead of the run dir; a token-protected server refuses without its token', async () => {
  const dir = tempDir('open');
  const open = await startNatsServer({ runDir: dir, token: false, hostId: HOST });
  const daemon = await connectRunDir(dir);
  try {
    daemon.serveAll({ 'daemon.ping': handlers['daemon.ping']! });
    await daemon.flush();
    const a = await bvs(['appctl', '--nats', open.url, '--host', HOST, 'version']);
    assert.equal([a.code, a.stdout], [0, `bvs daemon (bvs) 0.1.0 (pid 4242, host ${HOST}, bus protocol 1)\n`]);
    const b = await bvs(['appctl', 'version'], { env: { ...process.env, BVS_NATS_URL: open.url, BVS_HOST: HOST } });
    assert.is(b.code, 0);
    const c = await bvs(['appctl', '--nats', srv!.url, '--host', HOST, 'version']);
    assert.is(c.code, 1);
    assert.match(c.stderr, /^bvs appctl: cannot connect to NATS .*(Authorization|authorization|auth)/i);
    const d = await bvs(['appctl', '--run-dir', runDir, '--nats-creds', '/nonexistent.creds', 'version']);
    assert.equal([d.code, d.stderr], [1, 'bvs appctl: --nats-creds needs --nats URL\n']);
  } finally {
    await daemon.close();
    await open.stop();
  }
});

t('no daemon: a clear error for a missing DIR/nats.url and for no responders', async () => {
  const empty = tempDir('empty');
  const a = await bvs(['ofctl', '--run-dir', empty, 'dump-flows', 'br0']);
  assert.is(a.code, 1);
  assert.is(a.stderr, `bvs ofctl: cannot read ${empty}/nats.url: is bvs daemon running with --run-dir ${empty}?\n`);
  const b = await bvs(['appctl', '--run-dir', runDir, '--host', 'nobody-here', 'dpif/show']);
  assert.is(b.code, 1);
  assert.match(b.stderr, /^bvs appctl: no bvs daemon answers on nobody-here \(.*no responders.*\)\n$/);
});

t.run();
