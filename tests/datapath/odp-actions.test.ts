/** ODP actions and the address helpers: OVS fixtures, errors. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DpAction } from '../../src/datapath/flow.ts';
import {
  formatActions, formatFlow, formatIpv4, formatIpv6, formatMac, OdpSyntaxError, parseActions, parseFlow, parseIpv4,
  parseIpv6, parseMac,
} from '../../src/datapath/odp/index.ts';

const t = suite('datapath-odp-actions');

const rt = (s: string): string => formatActions(parseActions(s));

t('OVS action strings print back byte for byte', () => {
  // From OVS tests/odp.at ("actions parsing and formatting - valid forms") and dump-flows output.
  for (const s of [
    '1,2,3',
    'set(eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15))',
    'set(tcp(src=80,dst=8080))', 'set(tcp(src=80))', 'set(tcp(dst=8080))',
    'set(udp(src=81,dst=6632))', 'set(udp(src=81))', 'set(udp(dst=6633))',
    'push_vlan(vid=12,pcp=0)', 'push_vlan(tpid=0x9100,vid=13,pcp=5)', 'pop_vlan',
    'set(ipv4(ttl=208)),3',
    'set(ipv4(src=10.0.0.1,dst=10.0.0.2,tos=0x80,ttl=63)),push_vlan(vid=10,pcp=0),2',
    'userspace(pid=0)', 'userspace(pid=4294967295,userdata(0102030405060708))',
    'meter(0),2', 'meter(1023),set(ipv4(tos=0x28)),meter(7),1',
    'drop',
  ]) assert.is(rt(s), s);
});

t('values', () => {
  assert.equal(parseActions('2,3'), [{ type: 'output', port: 2 }, { type: 'output', port: 3 }]);
  assert.equal(parseActions('drop'), []);
  assert.equal(parseActions(''), []);
  assert.is(formatActions([]), 'drop');
  assert.equal(parseActions('push_vlan(vid=10,pcp=3),2'), [{ type: 'push_vlan', tpid: 0x8100, tci: 10 | (3 << 13) }, { type: 'output', port: 2 }]);
  assert.equal(parseActions('push_vlan(vid=10,pcp=0,cfi=1)'), [{ type: 'push_vlan', tpid: 0x8100, tci: 10 }]);
  assert.equal(parseActions('set(ipv4(ttl=63))'), [{ type: 'set_ipv4', ttl: 63 }]);
  assert.equal(parseActions('userspace(pid=7,userdata(01))'), [{ type: 'userspace', pid: 7, cookie: 1n }]);
  assert.equal(parseActions('meter(5),2'), [{ type: 'meter', id: 5 }, { type: 'output', port: 2 }]);
  assert.equal(parseActions('meter( 5 )'), [{ type: 'meter', id: 5 }]);
  assert.is(rt('userspace(pid=7,userdata(01))'), 'userspace(pid=7,userdata(0000000000000001))');
  const a: DpAction[] = [{ type: 'set_eth', dst: 0xffffffffffff }];
  assert.is(formatActions(a), 'set(eth(dst=ff:ff:ff:ff:ff:ff))');
});

function err(text: string): OdpSyntaxError {
  try {
    parseActions(text);
  } catch (e) {
    assert.instance(e, OdpSyntaxError);
    return e as OdpSyntaxError;
  }
  assert.unreachable(`no error for ${text}`);
  throw new Error('unreachable');
}

t('errors name the position and the token', () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ['2,frobnicate', 2, 'frobnicate', /unknown action "frobnicate"/],
    ['2,ct(commit)', 2, 'ct', /action "ct" is not supported/],
    ['2,drop', 2, 'drop', /"drop" must be the only action/],
    ['4294967296', 0, '4294967296', /out of range for output port/],
    ['push_vlan(vid=4096,pcp=0)', 14, '4096', /out of range for push_vlan vid/],
    ['push_vlan(vid=1,pcp=0,cfi=0)', 26, '0', /cfi=0 is not supported/],
    ['push_vlan(vid=1,prio=0)', 16, 'prio', /unknown or unsupported field "prio"/],
    ['set(ipv4(ttl=128,frag=no))', 17, 'frag', /unknown or unsupported field "frag" in set\(ipv4/],
    ['set(ipv4(tos=0x80/0xfc))', 17, '/0xfc', /a mask is not supported in set\(ipv4/],
    ['set(ipv6(src=::1))', 4, 'ipv6', /set\(ipv6\(\.\.\.\)\) is not supported/],
    ['set(eth(src=00:01:02:03:04:05),ipv4(ttl=1))', 4, 'eth(src=00:01:02:03:04:05),ipv4(ttl=1)', /exactly one attribute/],
    ['set(tcp(dst=65536))', 12, '65536', /out of range for set tcp dst/],
    ['userspace(pid=1,userdata(0102030405060708090a0b0c0d0e0f),actions)', 25, '0102030405060708090a0b0c0d0e0f', /1 to 8 bytes/],
    ['userspace(pid=1,actions)', 16, 'actions', /unknown or unsupported field "actions"/],
    ['userspace(userdata(01))', 0, 'userspace', /needs pid=N/],
    ['1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17', 39, '17', /too many actions/],
    ['set(eth(src=00:01:02:03:04))', 12, '00:01:02:03:04', /bad MAC address/],
    ['2,meter(1024)', 8, '1024', /meter id 1024 is out of range \(the datapath has meters 0\.\.1023\)/],
    ['meter()', 6, '', /takes a meter id/],
    ['meter(id=1)', 6, 'id=1', /takes a meter id/],
    ['meter', 0, 'meter', /unknown action "meter"/],
  ];
  for (const [text, pos, token, re] of cases) {
    const x = err(text);
    assert.match(x.message, re, `${text}: ${x.message}`);
    assert.is(x.position, pos, `${text}: ${x.message}`);
    assert.is(x.token, token, text);
    assert.ok(x.message.startsWith(`odp: at ${pos}, `), x.message);
  }
});

t('port names, as ovs-dpctl --names prints and reads them', () => {
  const names = new Map([[1, 'eth0'], [2, 'br-int']]);
  const numbers = new Map([['eth0', 1], ['br-int', 2]]);
  assert.is(formatActions([{ type: 'output', port: 2 }, { type: 'output', port: 9 }], { names }), 'br-int,9');
  assert.equal(parseActions('br-int,9,pop_vlan', { numbers }), [{ type: 'output', port: 2 }, { type: 'output', port: 9 }, { type: 'pop_vlan' }]);
  const { key, mask } = parseFlow('in_port(eth0),eth()', { numbers });
  assert.is(key.inPort, 1);
  assert.is(mask.inPort, 0xffffffff);
  assert.is(formatFlow(key, mask, { names }), 'recirc_id(0),in_port(eth0),eth()');
  assert.is(formatFlow(key, { ...mask, inPort: 0xff }, { names }), 'recirc_id(0),in_port(1/0xff),eth()', 'names only when exact');
  assert.throws(() => parseFlow('in_port(eth9),eth()', { numbers }), /bad number "eth9" for in_port/);
  assert.throws(() => parseActions('eth9', { numbers }), /unknown action "eth9"/);
});

t('addresses: MAC, IPv4', () => {
  assert.is(formatMac(0x0001020304f5), '00:01:02:03:04:f5');
  assert.is(parseMac('0:1:2:3:4:F5'), 0x0001020304f5);
  assert.is(formatMac(2 ** 48 - 1), 'ff:ff:ff:ff:ff:ff');
  assert.is(formatIpv4(0xac100014), '172.16.0.20');
  assert.is(parseIpv4('255.255.255.0'), 0xffffff00);
  assert.throws(() => parseIpv4('01.2.3.4'), /bad IPv4 address/);
  assert.throws(() => parseMac('00:01:02:03:04:05:06'), /bad MAC address/);
});

t('IPv6 prints as glibc inet_ntop (what OVS calls) does', () => {
  // Expected strings produced by glibc's inet_ntop (python3 socket.inet_ntop).
  const vectors: Array<[string, string]> = [
    ['::2', '::2'], ['::1:0', '::0.1.0.0'], ['::1.2.3.4', '::1.2.3.4'], ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['::ffff:0:1.2.3.4', '::ffff:0:102:304'], ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], ['1::', '1::'], ['::', '::'],
    ['fe80::1:0:0:1', 'fe80::1:0:0:1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ];
  for (const [input, want] of vectors) assert.is(formatIpv6(parseIpv6(input)), want, input);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', '1.2.3.4', '::1.2.3', 'g::']) {
    assert.throws(() => parseIpv6(bad), /bad IPv6 address/, bad);
  }
});

t.run();
