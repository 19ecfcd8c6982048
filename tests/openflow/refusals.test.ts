// What bvs decodes but does not support yet: flows the real ovs-ofctl sends with such a field,
// action or instruction must be refused with the OfpError the codec promises, naming it
// (issue 10: "decoded now, refused with a proper error until the issues that implement them land").
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OfpError } from '../../src/openflow/errors.ts';
import type { OfpVersion } from '../../src/openflow/version.ts';
import { capturedAdd } from './oracle.ts';

const t = suite('openflow-refusals');

/** [version, flow, error name, a word the message must contain]. */
const CASES: [OfpVersion, string, string, string][] = [
  [4, 'ct_state=+trk,actions=drop', 'OFPBMC_BAD_FIELD', 'ct_state'],
  [4, 'ct_zone=3,actions=drop', 'OFPBMC_BAD_FIELD', 'ct_zone'],
  [4, 'ct_mark=1,actions=drop', 'OFPBMC_BAD_FIELD', 'ct_mark'],
  [1, 'ct_label=1,actions=drop', 'OFPBMC_BAD_FIELD', 'ct_label'],
  [4, 'tun_id=5,actions=drop', 'OFPBMC_BAD_FIELD', 'tun_id'],
  [1, 'tun_src=1.1.1.1,actions=drop', 'OFPBMC_BAD_FIELD', 'tun_src'],
  [1, 'tun_dst=1.1.1.1,actions=drop', 'OFPBMC_BAD_FIELD', 'tun_dst'],
  [4, 'tun_metadata3=5,actions=drop', 'OFPBMC_BAD_FIELD', 'tun_metadata3'],
  [4, 'pkt_mark=3,actions=drop', 'OFPBMC_BAD_FIELD', 'pkt_mark'],
  [4, 'ipv6,ipv6_label=5,actions=drop', 'OFPBMC_BAD_FIELD', 'ipv6_label'],
  [4, 'tcp,tcp_flags=+syn,actions=drop', 'OFPBMC_BAD_FIELD', 'tcp_flags'],
  [4, 'ip,ip_frag=yes,actions=drop', 'OFPBMC_BAD_FIELD', 'ip_frag'],
  [4, 'mpls,mpls_label=5,actions=drop', 'OFPBMC_BAD_FIELD', 'mpls_label'],
  [4, 'ip,actions=ct(commit,zone=1)', 'OFPBAC_BAD_VENDOR_TYPE', 'ct'],
  [4, 'ip,actions=ct(nat(src=1.1.1.1))', 'OFPBAC_BAD_VENDOR_TYPE', 'ct'],
  [4, 'actions=ct_clear', 'OFPBAC_BAD_VENDOR_TYPE', 'ct_clear'],
  [1, 'actions=fin_timeout(idle_timeout=5)', 'OFPBAC_BAD_VENDOR_TYPE', 'fin_timeout'],
  [4, 'actions=exit', 'OFPBAC_BAD_VENDOR_TYPE', 'exit'],
  [4, 'actions=sample(probability=10,collector_set_id=1)', 'OFPBAC_BAD_VENDOR_TYPE', 'sample'],
  [4, 'actions=set_tunnel:5', 'OFPBAC_BAD_SET_TYPE', 'tun_id'],
  [1, 'actions=set_tunnel:5', 'OFPBAC_BAD_VENDOR_TYPE', 'set_tunnel'],
  [4, 'actions=learn(limit=5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])', 'OFPBAC_BAD_VENDOR_TYPE', 'learn2'],
  [4, 'actions=controller(meter_id=1)', 'OFPBAC_BAD_VENDOR_TYPE', 'meter_id'],
  [4, 'actions=pop_queue', 'OFPBAC_BAD_VENDOR_TYPE', 'pop_queue'],
  [1, 'actions=pop_queue', 'OFPBAC_BAD_VENDOR_TYPE', 'pop_queue'],
  [4, 'actions=write_actions(output:1)', 'OFPBIC_UNSUP_INST', 'write_actions'],
  [4, 'actions=clear_actions', 'OFPBIC_UNSUP_INST', 'clear_actions'],
];

t('what ovs-ofctl sends with an unsupported field, action or instruction is refused by name', async () => {
  for (const [v, flow, name, word] of CASES) {
    let err: unknown;
    try { await capturedAdd(v, flow); } catch (e) { err = e; }
    assert.ok(err instanceof OfpError, `${flow} (OpenFlow 0x0${v}) should be refused, got ${String(err)}`);
    assert.is((err as OfpError).ofperr, name, `${flow}: ${(err as OfpError).message}`);
    assert.ok((err as OfpError).message.includes(word), `${flow}: "${(err as OfpError).message}" should name ${word}`);
  }
});

t('supported extensions the same tools send decode: reg8-15, xxreg over reg4-7, write_metadata, controller(userdata, pause), mod_nw_ttl', async () => {
  const x = await capturedAdd(4, 'xxreg1=0x10,actions=drop');
  assert.is(x.match.value[2 + 7], 0x10); // xxreg1 is reg4..reg7, reg7 its lowest word
  const r15 = await capturedAdd(6, 'reg15=7,actions=drop'); // OpenFlow 1.5: OXM_OF_PKT_REG7, masked
  assert.is(r15.match.value[2 + 15], 7);
  assert.is(r15.match.mask[2 + 14], 0);
  const wm = await capturedAdd(4, 'ip,actions=write_metadata:0x5/0xff,goto_table:3');
  assert.equal(wm.actions.map((a) => a.type), ['write_metadata', 'goto_table']);
  const c2 = await capturedAdd(6, 'actions=controller(userdata=01.02,pause,max_len=100),controller(pause,id=3)');
  assert.equal(c2.actions.map((a) => a.type === 'controller' ? [Array.from(a.userdata ?? []), a.pause, a.maxLen, a.id] : a.type),
    [[[1, 2], true, 100, 0], [[], true, 0xffff, 3]]);
  const ttl = await capturedAdd(4, 'ip,actions=mod_nw_ttl:4');
  assert.equal(ttl.actions.map((a) => a.type), ['set_field']);
});

t.run();
