/**
 * `bvs dpctl` end to end: every command runs as its own process against the pinned datapath,
 * so these tests also show that a second process sees the datapath and its flows, and that
 * forwarding goes on with no process running.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bvs, type Host, Topology } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite('datapath-dpctl');
const topo = new Topology();
const DP = `d${topo.tag}`;
let h1: Host, h2: Host;

async function ok(args: string[]): Promise<string> {
  const r = await bvs(topo, args);
  assert.is(r.code, 0, `bvs ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function fails(args: string[]): Promise<string> {
  const r = await bvs(topo, args);
  assert.is.not(r.code, 0, `bvs ${args.join(' ')} should fail`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one-line error expected, got: ${r.stderr}`);
  return lines[0];
}

t.before(() => {
  try {
    h1 = topo.addHost(1);
    h2 = topo.addHost(2);
    topo.staticArp();
  } catch (err) {
    console.error(err);
    topo.destroy();
    throw err;
  }
});

t.after(async () => {
  await bvs(topo, ['dpctl', 'del-dp', DP]);
  topo.destroy();
});

t('add-dp with interfaces, dump-dps and show', async () => {
  await ok(['dpctl', 'add-dp', DP, h1.port]);
  await ok(['dpctl', 'add-if', DP, `${h2.port},port_no=7`]);
  assert.ok((await ok(['dpctl', 'dump-dps'])).split('\n').includes(`bvs@${DP}`));
  const show = await ok(['dpctl', 'show', DP]);
  assert.equal(show.trim().split('\n'), [
    `bvs@${DP}:`,
    '  lookups: hit:0 missed:0 lost:0',
    '  flows: 0',
    '  masks: hit:0 total:0 hit/pkt:0.00',
    '  cache: hit:0 hit-rate:0.00%',
    `  port 1: ${h1.port}`,
    `  port 7: ${h2.port}`,
  ]);
});

t('flows added by one process forward traffic with no process running', async () => {
  await ok(['dpctl', 'add-flow', DP, 'in_port(1),eth_type(0x0800)', '7']);
  await ok(['dpctl', 'add-flow', DP, 'in_port(7),eth_type(0x0800)', '1']);
  assert.is(await topo.ping(h1, h2, 2), 2);
  const dump = (await ok(['dpctl', 'dump-flows', DP])).trim().split('\n').sort();
  assert.is(dump.length, 2);
  assert.match(dump[0], /^recirc_id\(0\),in_port\(1\),eth\(\),eth_type\(0x0800\), packets:2, bytes:196, used:\d+\.\d{3}s, actions:7$/);
  assert.match(dump[1], /^recirc_id\(0\),in_port\(7\),eth\(\),eth_type\(0x0800\), packets:2, bytes:196, used:\d+\.\d{3}s, actions:1$/);
  const show = await ok(['dpctl', 'show', '-s', DP]);
  assert.match(show, /lookups: hit:4 missed:0 lost:0/);
  assert.match(show, /flows: 2/);
  assert.match(show, /masks: hit:\d+ total:1 hit\/pkt:\d\.\d\d/);
  assert.match(show, new RegExp(`port 1: ${h1.port}\\n    RX packets:2 errors:0 dropped:0 overruns:0 frame:0\\n    TX packets:2 errors:0`));
});

t('get-flow, mod-flow (stats kept, --clear resets), del-flow', async () => {
  const f = 'in_port(1),eth_type(0x0800)';
  assert.match(await ok(['dpctl', 'get-flow', DP, f]), /packets:2, bytes:196, .*actions:7/);
  await ok(['dpctl', 'mod-flow', DP, f, 'drop']);
  assert.match(await ok(['dpctl', 'get-flow', DP, f]), /packets:2, bytes:196, .*actions:drop/);
  assert.is(await topo.ping(h1, h2, 1), 0);
  // The echo request got as far as the flow, and the flow dropped it.
  await waitFor('the dropped echo request counted', async () => /packets:3, bytes:294, .*actions:drop/.test(await ok(['dpctl', 'get-flow', DP, f])));
  await ok(['dpctl', 'mod-flow', '--clear', DP, f, '7']);
  assert.match(await ok(['dpctl', 'get-flow', DP, f]), /packets:0, bytes:0, used:never, actions:7/);
  await ok(['dpctl', 'del-flow', DP, f]);
  assert.match(await fails(['dpctl', 'get-flow', DP, f]), /no such flow/);
  assert.match(await fails(['dpctl', 'del-flow', DP, f]), /no such flow/);
  await ok(['dpctl', 'del-flows', DP]);
  assert.is((await ok(['dpctl', 'dump-flows', DP])).trim(), '');
  assert.match(await ok(['dpctl', 'show', DP]), /flows: 0\n  masks: hit:\d+ total:0/);
});

t('bad input: a one-line error naming the problem, and nothing changed', async () => {
  assert.match(await fails(['dpctl', 'add-flow', DP, 'in_port(1),ipv4(sorce=1.2.3.4)', '2']), /sorce/);
  assert.match(await fails(['dpctl', 'add-flow', DP, 'in_port(1)', 'outptu:2']), /outptu/);
  assert.match(await fails(['dpctl', 'add-flow', 'nosuchdp', 'in_port(1)', '2']), /no datapath named nosuchdp/);
  assert.match(await fails(['dpctl', 'add-if', DP, 'nosuchif0']), /nosuchif0/);
  assert.match(await fails(['dpctl', 'add-if', DP, `${h1.port}`]), /already port 1/);
  assert.match(await fails(['dpctl', 'add-dp', DP]), /already exists/);
  await ok(['dpctl', 'add-flow', DP, 'in_port(1)', '7']);
  assert.match(await fails(['dpctl', 'add-flow', DP, 'in_port(1)', '7']), /exists/);
  await ok(['dpctl', 'del-flows', DP]);
  assert.match(await ok(['dpctl', 'show', DP]), /flows: 0\n  masks: hit:\d+ total:0/);
});

t('a full flow table gives a clear error and leaks no mask', async () => {
  const small = `${DP}s`;
  try {
    await ok(['dpctl', 'add-dp', '--flow-table-size', '4', small]);
    for (let i = 1; i <= 4; i++) await ok(['dpctl', 'add-flow', small, `in_port(${i})`, 'drop']);
    const err = await fails(['dpctl', 'add-flow', small, 'in_port(9),eth_type(0x0806)', 'drop']);
    assert.match(err, /flow table of .* is full \(4 flows\)/);
    assert.match(await ok(['dpctl', 'show', small]), /flows: 4\n  masks: hit:0 total:1 /);
  } finally {
    await bvs(topo, ['dpctl', 'del-dp', small]);
  }
});

t('del-dp leaves no pins, links or filters', async () => {
  // bpftool 7.1 does not print a tcx link's ifindex: find the links by the datapath's program.
  const prog = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'pinned', `${topo.pinRoot}/${DP}/prog`], { encoding: 'utf8' })) as { id: number };
  const links = () => (JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' }) || '[]') as Array<{ prog_id: number }>)
    .filter((l) => l.prog_id === prog.id);
  assert.is(links().length, 2, 'one tcx link per port before del-dp');
  await ok(['dpctl', 'del-dp', DP]);
  assert.not.ok(fs.existsSync(`${topo.pinRoot}/${DP}`), 'pin directory removed');
  assert.is(links().length, 0, 'no tcx link left');
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{ id: number }>;
  assert.not.ok(progs.some((p) => p.id === prog.id), 'the program is gone');
  for (const p of [h1.port, h2.port]) {
    const tc = execFileSync('tc', ['filter', 'show', 'dev', p, 'ingress'], { encoding: 'utf8' });
    assert.is(tc.trim(), '', `no tc filter on ${p}`);
  }
  assert.not.ok((await ok(['dpctl', 'dump-dps'])).includes(DP));
  const rx = () => Number(fs.readFileSync(`/sys/class/net/${h1.port}/statistics/rx_packets`, 'utf8'));
  const rx0 = rx();
  assert.is(await topo.ping(h1, h2, 1), 0, 'no forwarding after del-dp');
  await waitFor('the echo request reaching the former port', () => rx() > rx0);
});

t.run();
