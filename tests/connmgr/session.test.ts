/**
 * Which asynchronous messages a connection gets (session.ts): OVS's defaults per role and
 * version, table misses to OpenFlow 1.0 only, service connections silent until they set a
 * miss_send_len, async config from the controller, and enable_async_messages=false.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newSession, wants, wantsImplicitMiss, PIN_REASON } from '../../src/connmgr/session.ts';
import { OFP10, OFP13, OFPCR_ROLE, type OfConn } from '../../src/openflow/index.ts';

const t = suite('connmgr-session');
const conn = (version: number): OfConn => ({ closed: false, version } as unknown as OfConn);

t('a master or equal controller: misses and controller actions, port-status, flow-removed; not invalid_ttl', () => {
  const s = newSession(conn(OFP13), 'primary');
  assert.ok(wants(s, 'packetIn', PIN_REASON.no_match));
  assert.ok(wants(s, 'packetIn', PIN_REASON.action));
  assert.not.ok(wants(s, 'packetIn', PIN_REASON.invalid_ttl));
  assert.ok(wants(s, 'portStatus', 0) && wants(s, 'flowRemoved', 0));
  s.role = OFPCR_ROLE.SLAVE;
  assert.not.ok(wants(s, 'packetIn', PIN_REASON.action), 'a slave gets no packet-ins');
  assert.ok(wants(s, 'portStatus', 2), 'a slave gets port-status');
  assert.not.ok(wants(s, 'flowRemoved', 0));
});

t('table misses without a flow go to OpenFlow 1.0 connections only', () => {
  assert.ok(wantsImplicitMiss(newSession(conn(OFP10), 'primary')));
  assert.not.ok(wantsImplicitMiss(newSession(conn(OFP13), 'primary')));
});

t('a service connection (ovs-ofctl) is silent until it sets miss_send_len', () => {
  const s = newSession(conn(OFP13), 'service');
  assert.not.ok(wants(s, 'packetIn', PIN_REASON.action));
  s.missSendLen = 128;
  assert.ok(wants(s, 'packetIn', PIN_REASON.action));
});

t('async config from the controller replaces the defaults; enable_async_messages=false silences all', () => {
  const s = newSession(conn(OFP13), 'primary');
  s.async = { master: { packetIn: 1 << PIN_REASON.invalid_ttl, portStatus: 0, flowRemoved: 0 }, slave: {} };
  assert.ok(wants(s, 'packetIn', PIN_REASON.invalid_ttl));
  assert.not.ok(wants(s, 'packetIn', PIN_REASON.action));
  const off = newSession(conn(OFP13), 'primary', undefined, true);
  assert.not.ok(wants(off, 'packetIn', PIN_REASON.action) || wants(off, 'portStatus', 0) || wants(off, 'flowRemoved', 0));
});

t.run();
