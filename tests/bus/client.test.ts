// Integration tests of the typed client against a real nats-server started by server.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Bus, BusError, BusErrorCode, BusNoRespondersError, BusRemoteError, BusTimeoutError, BusValidationError,
  commandSubject, connectBus, connectRunDir, decodeJson, encodeJson, startNatsServer,
  type AnyEvent, type NatsServer, type ReplyEnvelope,
} from '../../src/bus/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { removeTempDirs, tempRunDir } from './helpers.ts';

/** A deadline for replies that come at once (no responders, a served command): generous, as the
 * host may be loaded; what these tests check is the kind of reply, not how fast it comes. */
const PROMPT_MS = 20_000;

const t = suite('bus-client');
let srv: NatsServer | undefined;
let daemon: Bus;
let cli: Bus;
const daemonErrors: Error[] = [];

t.before(async () => {
  srv = await startNatsServer({ runDir: tempRunDir('client') });
  daemon = await connectRunDir(srv.runDir, { host: 'test-host', onError: (e) => daemonErrors.push(e) });
  cli = await connectRunDir(srv.runDir, { host: 'test-host' });
});

t.after(async () => {
  await cli?.close();
  await daemon?.close();
  await srv?.stop();
  removeTempDirs();
});

/** Sends raw bytes to a command subject and decodes the envelope (what a foreign client sees). */
async function raw(name: Parameters<typeof commandSubject>[1], body: string): Promise<ReplyEnvelope> {
  const msg = await cli.nc.request(commandSubject('test-host', name), new TextEncoder().encode(body), { timeout: PROMPT_MS });
  return decodeJson(msg.data) as ReplyEnvelope;
}

t('request/reply round trip, typed, with u64 bigints surviving the wire', async () => {
  const svc = daemon.serve('ofctl.dump-flows', (req) => ({
    flows: [{
      table: req.table ?? 0, priority: 0, cookie: 0xfedcba9876543210n, match: '', actions: 'NORMAL',
      n_packets: 7n, n_bytes: (1n << 60n) + 1n, duration_s: 1.5, idle_age_s: 0.25,
    }],
  }));
  await daemon.flush();
  const r = await cli.request('ofctl.dump-flows', { bridge: 'br0', table: 3 });
  assert.is(r.flows.length, 1);
  assert.is(r.flows[0]!.table, 3);
  assert.is(r.flows[0]!.cookie, 0xfedcba9876543210n);
  assert.is(r.flows[0]!.n_packets, 7n);
  assert.is(r.flows[0]!.n_bytes, (1n << 60n) + 1n);
  assert.is(svc.stats.requests, 1);
  await svc.stop();
});

t('malformed request: error reply naming the field, and the service keeps serving', async () => {
  let calls = 0;
  const svc = daemon.serve('vsctl.add-port', (req) => {
    calls++;
    return { changed: req.port !== 'exists', next_cfg: 2, applied: true };
  });
  await daemon.flush();
  const bad = await raw('vsctl.add-port', JSON.stringify({ bridge: 'br0', port: 'p1', tag: 5000 }));
  assert.is(bad.ok, false);
  if (!bad.ok) {
    assert.is(bad.error.code, BusErrorCode.InvalidRequest);
    assert.is(bad.error.field, 'tag');
  }
  const trunk = await raw('vsctl.add-port', JSON.stringify({ bridge: 'br0', port: 'p1', trunks: [1, 'x'] }));
  assert.is(!trunk.ok && trunk.error.field, 'trunks.1');
  const dup = await raw('vsctl.add-port', JSON.stringify({ bridge: 'br0', port: 'p1', trunks: [10, 20, 10] }));
  assert.is(!dup.ok && dup.error.field, 'trunks.2');
  const typo = await raw('vsctl.add-port', JSON.stringify({ brdige: 'br0', bridge: 'br0', port: 'p1' }));
  assert.is(!typo.ok && typo.error.field, 'brdige');
  const long = await raw('vsctl.add-port', JSON.stringify({ bridge: 'br0', port: 'a-very-long-port-name' }));
  assert.is(!long.ok && long.error.field, 'port');
  const json = await raw('vsctl.add-port', '{"bridge": "br0",');
  assert.is(!json.ok && json.error.code, BusErrorCode.BadJson);
  const notObj = await raw('vsctl.add-port', '[1,2]');
  assert.is(!notObj.ok && notObj.error.code, BusErrorCode.InvalidRequest);
  assert.is(calls, 0, 'the handler never saw a bad request');
  // Still serving.
  const ok = await cli.request('vsctl.add-port', { bridge: 'br0', port: 'p1', tag: 10, type: 'internal' });
  assert.equal(ok, { changed: true, next_cfg: 2, applied: true });
  assert.is(calls, 1);
  await svc.stop();
});

t('a malformed request is refused by the requester before it is sent, naming the field', async () => {
  try {
    // @ts-expect-error: the type system also refuses a missing bridge
    await cli.request('ofctl.add-flow', { flow: 'actions=drop' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusValidationError);
    assert.is((e as BusValidationError).field, 'bridge');
    assert.is((e as BusValidationError).side, 'request');
  }
});

t('handler throwing: error reply with its code/field or internal, and the service keeps serving', async () => {
  let n = 0;
  const svc = daemon.serve('ofctl.add-flow', (req) => {
    n++;
    if (req.flow === 'boom') throw new Error('kaboom');
    if (req.flow.startsWith('bad')) throw new BusError(BusErrorCode.InvalidRequest, 'unknown field "nw_dsst"', { field: 'flow' });
    if (req.bridge === 'nobr') throw new BusError(BusErrorCode.NotFound, 'no bridge named nobr', { field: 'bridge' });
    return { count: 1 };
  });
  await daemon.flush();
  const expectRemote = async (p: Promise<unknown>, code: string, field?: string, msg?: RegExp): Promise<void> => {
    try {
      await p;
      assert.unreachable();
    } catch (e) {
      assert.instance(e, BusRemoteError);
      assert.is((e as BusRemoteError).code, code);
      assert.is((e as BusRemoteError).field, field);
      if (msg !== undefined) assert.match((e as Error).message, msg);
    }
  };
  await expectRemote(cli.request('ofctl.add-flow', { bridge: 'br0', flow: 'boom' }), BusErrorCode.Internal, undefined, /kaboom/);
  await expectRemote(cli.request('ofctl.add-flow', { bridge: 'br0', flow: 'bad,nw_dsst=1' }), BusErrorCode.InvalidRequest, 'flow');
  await expectRemote(cli.request('ofctl.add-flow', { bridge: 'nobr', flow: 'actions=drop' }), BusErrorCode.NotFound, 'bridge');
  assert.equal(await cli.request('ofctl.add-flow', { bridge: 'br0', flow: 'actions=drop' }), { count: 1 });
  assert.is(n, 4);
  assert.is(svc.stats.errors, 3);
  assert.ok(daemonErrors.some((e) => e.message === 'kaboom'), 'internal errors reach onError');
  await svc.stop();
});

t('a handler returning an invalid reply gets an internal error reply, not a broken contract', async () => {
  // @ts-expect-error: deliberately wrong result type
  const svc = daemon.serve('appctl.fdb.flush', () => ({ flushed: -1 }));
  await daemon.flush();
  try {
    await cli.request('appctl.fdb.flush', {});
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusRemoteError);
    assert.is((e as BusRemoteError).code, BusErrorCode.Internal);
    assert.match((e as Error).message, /invalid reply \(flushed/);
  }
  await svc.stop();
});

t('serveAll; an empty payload is an empty request (nats req SUBJECT "")', async () => {
  const svcs = daemon.serveAll({
    'daemon.ping': () => ({
      host: daemon.host, pid: process.pid, version: '0.1.0', protocol: 1, uptime_s: 1, time: new Date().toISOString(),
    }),
    'daemon.health': () => ({ status: 'ok', components: [{ name: 'ovsdb', status: 'ok' }] }),
  });
  assert.is(svcs.length, 2);
  await daemon.flush();
  const r = await raw('daemon.ping', '');
  assert.ok(r.ok);
  const p = await cli.request('daemon.ping', {});
  assert.is(p.host, 'test-host');
  assert.is(p.pid, process.pid);
  assert.is((await cli.request('daemon.health', {})).components[0]!.name, 'ovsdb');
  await Promise.all(svcs.map((s) => s.stop()));
});

t('no daemon: BusNoRespondersError; a slow daemon: BusTimeoutError', async () => {
  try {
    await cli.request('appctl.dpif.show', {}, { timeoutMs: PROMPT_MS });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusNoRespondersError);
    assert.is((e as BusError).code, BusErrorCode.NoResponders);
  }
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const svc = daemon.serve('appctl.upcall.show', async () => {
    await gate;
    return { flows: { current: 0, average: 0, max: 0, limit: 200000 }, dump_duration_ms: 1, max_idle_ms: 10000, handlers: [], revalidators: [] };
  });
  await daemon.flush();
  // The handler never answers before release(), so only the caller's own deadline ends these:
  // the one it passed (the message names it), or its signal (the error's cause is the signal's
  // reason), not the default timeout.
  try {
    await cli.request('appctl.upcall.show', {}, { timeoutMs: 150 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusTimeoutError);
    assert.match((e as Error).message, /no reply within 150 ms/);
  }
  const signal = AbortSignal.timeout(150);
  try {
    await cli.request('appctl.upcall.show', {}, { signal });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusTimeoutError);
    assert.is(((e as Error).cause as Error).cause, signal.reason, 'ended by the signal');
  }
  release();
  const r = await cli.request('appctl.upcall.show', {});
  assert.is(r.flows.limit, 200000);
  await svc.stop();
});

t('events: typed publish/subscribe, subscribeAll, invalid payloads skipped and reported', async () => {
  const got: AnyEvent[] = [];
  const ports: { port: string; state: string }[] = [];
  const errors: Error[] = [];
  const listener = await connectRunDir(srv!.runDir, { host: 'test-host', onError: (e) => errors.push(e) });
  try {
    const one = listener.subscribe('port.status', (ev) => ports.push({ port: ev.port, state: ev.state }));
    const all = listener.subscribeAll((ev) => got.push(ev));
    await listener.nc.flush();
    daemon.publish('port.status', { bridge: 'br0', port: 'veth0', ofport: 1, state: 'up', reason: 'link' });
    daemon.publish('packet-in', {
      bridge: 'br0', table: 0, cookie: 0xabcn, reason: 'action', in_port: 1, total_len: 60,
      packet: Buffer.from('ffffffffffff').toString('base64'), flow: 'in_port=1,dl_dst=ff:ff:ff:ff:ff:ff',
    });
    // A foreign publisher sends garbage on an event subject.
    daemon.nc.publish('bvs.test-host.evt.flow-limit', encodeJson({ datapath: 'bvs@br0', limit: 'lots' }));
    try {
      // @ts-expect-error: our own publisher refuses a bad event
      daemon.publish('port.status', { bridge: 'br0', port: 'veth0', state: 'sideways' });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, BusValidationError);
      assert.is((e as BusValidationError).field, 'state');
    }
    // Published last: one connection's messages arrive in order, so once config.applied is seen,
    // everything published before it (the garbage too) has been dispatched to both subscriptions.
    daemon.publish('config.applied', { cur_cfg: 3 });
    await daemon.nc.flush();
    await waitFor('the last event', () => got.some((e) => e.name === 'config.applied'));
    assert.equal(ports, [{ port: 'veth0', state: 'up' }]);
    assert.equal(got.map((e) => e.name), ['port.status', 'packet-in', 'config.applied']);
    const pin = got[1]!;
    assert.ok(pin.name === 'packet-in' && pin.payload.cookie === 0xabcn && pin.host === 'test-host');
    assert.is(all.invalid, 1);
    assert.is(one.invalid, 0);
    assert.instance(errors[0], BusValidationError);
    assert.is((errors[0] as BusValidationError).field, 'limit');
    one.unsubscribe();
    all.unsubscribe();
  } finally {
    await listener.close();
  }
});

t('hosts are isolated: a command for another host is not served here', async () => {
  const svc = daemon.serve('appctl.fdb.show', () => ({ entries: [] }));
  await daemon.flush();
  const other = await connectBus({ servers: srv!.url, token: srv!.token, host: 'Other.Host.example' });
  try {
    assert.is(other.host, 'other-host-example');
    await other.request('appctl.fdb.show', { bridge: 'br0' }, { timeoutMs: PROMPT_MS });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BusNoRespondersError);
  } finally {
    await other.close();
    await svc.stop();
  }
});

t('close waits for in-flight handlers, so their replies are delivered', async () => {
  const own = await connectRunDir(srv!.runDir, { host: 'close-host' });
  let started!: () => void;
  const inHandler = new Promise<void>((r) => { started = r; });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  own.serve('appctl.dpif.show', async () => {
    started();
    await gate;
    return { datapaths: [] };
  });
  await own.flush();
  const asker = await connectRunDir(srv!.runDir, { host: 'close-host' });
  try {
    const pending = asker.request('appctl.dpif.show', {}, { timeoutMs: PROMPT_MS });
    await inHandler;
    let closed = false;
    const closing = own.close().then(() => (closed = true));
    // close() first stops taking requests; once the service is gone (no responders), close has
    // got as far as it can while the handler is still running, and must wait for it.
    await waitFor('the service to stop taking requests', () =>
      asker.request('appctl.dpif.show', {}, { timeoutMs: 1000 }).then(() => false, (e: Error) => e instanceof BusNoRespondersError));
    assert.is(closed, false, 'close waits for the in-flight handler');
    release();
    assert.equal(await pending, { datapaths: [] });
    await closing;
    assert.ok(own.nc.isClosed());
  } finally {
    release();
    await asker.close();
  }
});

t('a missing credentials file is a BusConnectionError naming the file', async () => {
  try {
    const b = await connectBus({ servers: srv!.url, credsFile: '/nonexistent/bvs-test.creds' });
    await b.close();
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'BusConnectionError');
    assert.match((e as Error).message, /\/nonexistent\/bvs-test\.creds/);
  }
});

t.run();
