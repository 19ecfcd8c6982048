// The OpenFlow connection (src/openflow/conn.ts) against the real ovs-ofctl and hostile raw peers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../helpers/wait.ts';
import { decodeMessage, OFP13, type ConnTimers, type OfpVersion } from '../../src/openflow/index.ts';
import { hdr, listen, ofctl, rawPeer, VERSION_NAMES, type Listener } from './fake-switch.ts';

const t = suite('openflow-conn');
let l: Listener;
t.before(async () => { l = await listen({ allowed: [1, 4, 5, 6] }); });
t.after(async () => { await l.stop(); });

for (const v of [1, 4, 6] as OfpVersion[]) {
  const name = VERSION_NAMES.get(v)!;
  t(`ovs-ofctl -O ${name}: show, dump-desc, dump-ports-desc, dump-tables, dump-ports`, async () => {
    const tag = v === 1 ? '' : ` (OF1.${v - 1})`;
    const show = await ofctl(['-O', name, 'show', `unix:${l.sock}`]);
    assert.is(show.code, 0, show.err);
    assert.match(show.out, `OFPT_FEATURES_REPLY${tag}`);
    assert.match(show.out, 'dpid:0000000000abcdef');
    assert.match(show.out, ' 1(veth-a): addr:02:00:00:00:0a:01');
    assert.match(show.out, ' 2(veth-b): addr:02:00:00:00:0a:02');
    assert.match(show.out, 'config:     PORT_DOWN');
    assert.match(show.out, ' LOCAL(br-fake): addr:02:00:00:00:0a:ff');
    assert.match(show.out, 'miss_send_len=128');
    if (v !== 1) assert.match(show.out, `OFPST_PORT_DESC reply${tag}`); // 1.3+ ports come apart from features

    const desc = await ofctl(['-O', name, 'dump-desc', `unix:${l.sock}`]);
    assert.is(desc.code, 0, desc.err);
    assert.match(desc.out, 'Manufacturer: bvs test');
    assert.match(desc.out, 'DP Description: br-fake');

    const pd = await ofctl(['-O', name, 'dump-ports-desc', `unix:${l.sock}`]);
    assert.is(pd.code, 0, pd.err);
    assert.match(pd.out, `OFPST_PORT_DESC reply${tag}`);
    assert.is(pd.out.match(/addr:02:00:00:00:0a:/g)?.length, 3);
    assert.match(pd.out, 'speed: 10000 Mbps now');

    const tables = await ofctl(['-O', name, 'dump-tables', `unix:${l.sock}`]);
    assert.is(tables.code, 0, tables.err);
    assert.match(tables.out, 'active=7, lookup=99, matched=77');
    if (v === 1) assert.match(tables.out, 'table 0 ("classifier")');

    const ports = await ofctl(['-O', name, 'dump-ports', `unix:${l.sock}`]);
    assert.is(ports.code, 0, ports.err);
    assert.match(ports.out, '3 ports');
    assert.match(ports.out, 'port  1: rx pkts=101, bytes=3001, drop=1, errs=3, frame=5, over=6, crc=7');
    assert.match(ports.out, 'port  2: rx pkts=102');
    if (v !== 1) assert.match(ports.out, 'duration=42s');
    const one = await ofctl(['-O', name, 'dump-ports', `unix:${l.sock}`, '2']);
    assert.match(one.out, '1 ports');
    assert.match(one.out, 'port  2: rx pkts=102');
  });
}

t('a peer that offers only versions the listener does not allow gets HELLO_FAILED', async () => {
  const only13 = await listen({ allowed: [OFP13] });
  try {
    const r = await ofctl(['-O', 'OpenFlow14', 'show', `unix:${only13.sock}`]);
    assert.is.not(r.code, 0);
    assert.match(r.err, 'version negotiation failed (we support version 0x05, peer supports version 0x04)');
    await waitFor('the listener closed the connection', () => only13.closes.length > 0);
    assert.is(only13.closes[0]!.reason, 'hello-failed');
    // A raw 1.0 peer (no bitmap) reads the error: OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE, text.
    const p = await rawPeer(only13.sock);
    p.send(hdr(1, 0, 8, 1));
    await waitFor('hello and error', () => p.frames.length >= 2 && p.frames);
    const err = p.frames[1]!;
    assert.equal([err[0], err[1], err[8], err[9], err[10], err[11]], [1, 1, 0, 0, 0, 0]);
    assert.match(Buffer.from(err.subarray(12)).toString(), 'We support version 0x04, you support version 0x01');
    await waitFor('closed', () => p.closed);
  } finally {
    await only13.stop();
  }
});

t('negotiation: the highest common version, from the bitmap when the peer sends one, from its header otherwise', async () => {
  const cases: { allowed: OfpVersion[]; hello: number[]; want: number }[] = [
    { allowed: [1, 4, 5, 6], hello: hdr(5, 0, 8, 1), want: 5 }, // no bitmap: every version up to 0x05
    { allowed: [1, 4], hello: hdr(6, 0, 8, 1), want: 4 },
    { allowed: [1, 6], hello: hdr(4, 0, 8, 1), want: 1 }, // OVS reads "up to 0x04" as including 0x01
    { allowed: [1, 4, 6], hello: [...hdr(6, 0, 16, 1), 0, 1, 0, 8, 0, 0, 0, 0x42], want: 6 }, // bitmap {1, 6}
    { allowed: [1, 4], hello: [...hdr(6, 0, 16, 1), 0, 1, 0, 8, 0, 0, 0, 0x42], want: 1 },
    { allowed: [4, 5], hello: [...hdr(7, 0, 16, 1), 0, 1, 0, 8, 0, 0, 0, 0xb0], want: 5 }, // a newer peer: {4, 5, 7}
  ];
  for (const c of cases) {
    const pl = await listen({ allowed: c.allowed });
    const p = await rawPeer(pl.sock);
    try {
      p.send(c.hello);
      p.send(hdr(c.want, 2, 8, 9)); // an echo in the version we expect: answered only if it was chosen
      const reply = await waitFor(`echo reply, case ${JSON.stringify(c)}`, () => p.frames.find((f) => f[1] === 3) ?? (p.closed && 'closed'));
      assert.ok(reply !== 'closed', JSON.stringify(c));
      assert.is(pl.conns[0]!.version, c.want, JSON.stringify(c));
    } finally {
      p.socket.destroy();
      await pl.stop();
    }
  }
});

t('echo request answered at once; an unknown type answered with OFPBRC_BAD_TYPE and the first 64 bytes; the connection goes on', async () => {
  const p = await rawPeer(l.sock);
  try {
    p.send(hdr(4, 0, 8, 1));
    await waitFor('hello', () => p.frames.length >= 1);
    p.send([...hdr(4, 2, 12, 77), 1, 2, 3, 4]);
    const echo = await waitFor('echo reply', () => p.frames.find((f) => f[1] === 3));
    assert.equal([...echo], [...hdr(4, 3, 12, 77), 1, 2, 3, 4]);
    const bad = [...hdr(4, 99, 100, 78), ...new Array(92).fill(0xab)];
    p.send(bad);
    const e = decodeMessage(await waitFor('error', () => p.frames.find((f) => f[1] === 1)));
    assert.is(e.xid, 78);
    assert.ok(e.msg.kind === 'error' && e.msg.name === 'OFPBRC_BAD_TYPE');
    assert.ok(e.msg.kind === 'error' && e.msg.data.length === 64);
    assert.equal(e.msg.kind === 'error' && [...e.msg.data], bad.slice(0, 64));
    p.send(hdr(4, 20, 8, 79)); // barrier
    const b = await waitFor('barrier reply', () => p.frames.find((f) => f[1] === 21));
    assert.is(decodeMessage(b).xid, 79);
    assert.not.ok(p.closed);
  } finally {
    p.socket.destroy();
  }
});

t('hostile peers: garbage, a length of 7, an over-long message, a non-reader; a good client is served after', async () => {
  const small = await listen({ allowed: [1, 4, 5, 6], maxMessageBytes: 1024, maxBacklogBytes: 256 << 10, probeIntervalMs: 500 });
  try {
    const garbage = await rawPeer(small.sock);
    garbage.send([0xde, 0xad, 0x00, 0x03, 0xbe, 0xef, 0, 0, 1, 2, 3]);
    await waitFor('garbage peer closed', () => garbage.closed);

    const seven = await rawPeer(small.sock);
    seven.send(hdr(4, 0, 8, 1));
    seven.send(hdr(4, 2, 7, 2));
    await waitFor('length-7 peer closed', () => seven.closed);

    const long = await rawPeer(small.sock);
    long.send(hdr(4, 0, 8, 1));
    long.send([...hdr(4, 2, 1025, 3), ...new Array(1017).fill(0)]);
    await waitFor('over-long peer closed', () => long.closed);

    // A peer that never reads while it asks for replies: past the backlog limit the switch stops
    // reading its requests (they wait in its socket, so the output stays near the limit), and
    // the inactivity probe, unanswered, ends the connection.
    const deaf = await rawPeer(small.sock, { read: false });
    deaf.send(hdr(4, 0, 8, 1));
    const ask = [...hdr(4, 18, 16, 9), 0, 0, 0, 0, 0, 0, 0, 0]; // OFPMP_DESC request, 1056-byte reply
    for (let i = 0; i < 4000 && !deaf.closed; i++) {
      deaf.send(ask);
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    await waitFor('the deaf peer was dropped', () => small.closes.find((c) => c.reason === 'probe-timeout' || c.reason === 'backlog'));
    deaf.socket.destroy();

    const reasons = small.closes.map((c) => c.reason);
    assert.ok(reasons.filter((r) => r === 'framing').length >= 3, reasons.join(','));
    assert.equal(small.defects, []);
    const ok = await ofctl(['-O', 'OpenFlow13', 'dump-desc', `unix:${small.sock}`]);
    assert.is(ok.code, 0, ok.err);
    assert.match(ok.out, 'Manufacturer: bvs test');
  } finally {
    await small.stop();
  }
});

t('a 65535-byte message of an unknown type is answered, not a framing error', async () => {
  const p = await rawPeer(l.sock);
  try {
    p.send(hdr(4, 0, 8, 1));
    p.send([...hdr(4, 99, 0xffff, 5), ...new Array(0xffff - 8).fill(1)]);
    const e = decodeMessage(await waitFor('error', () => p.frames.find((f) => f[1] === 1)));
    assert.ok(e.msg.kind === 'error' && e.msg.name === 'OFPBRC_BAD_TYPE');
    assert.not.ok(p.closed);
  } finally {
    p.socket.destroy();
  }
});

/** Timers a test advances by hand (the probe counts against this clock, not the machine's). */
function fakeTimers(): ConnTimers & { advance(ms: number): void } {
  let now = 0, seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => { due.set(++seq, { at: now + ms, fn }); return seq; },
    clearTimeout: (h) => { due.delete(h as number); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...due].filter(([, d]) => d.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        due.delete(next[0]); now = next[1].at; next[1].fn();
      }
      now = end;
    },
  };
}

t('inactivity probe: an echo request after the interval of silence, a close after another', async () => {
  const timers = fakeTimers();
  const pl = await listen({ allowed: [OFP13], probeIntervalMs: 1000, timers });
  const p = await rawPeer(pl.sock);
  try {
    p.send(hdr(4, 0, 8, 1));
    // Positive signal that the hello got through: our own echo request is answered.
    p.send(hdr(4, 2, 8, 500));
    await waitFor('echo reply to the peer', () => p.frames.find((f) => f[1] === 3));
    timers.advance(999);
    timers.advance(1);
    const probe = await waitFor('probe', () => p.frames.find((f) => f[1] === 2));
    p.send([...probe.subarray(0, 1), 3, ...probe.subarray(2)]); // echo reply
    p.send(hdr(4, 2, 8, 501));
    await waitFor('second echo reply', () => p.frames.filter((f) => f[1] === 3).length >= 2);
    timers.advance(1000); // a second silent interval: a second probe, not a close
    await waitFor('second probe', () => p.frames.filter((f) => f[1] === 2).length >= 2);
    assert.equal(pl.closes, []);
    timers.advance(1000);
    await waitFor('closed for silence', () => p.closed);
    assert.is(pl.closes[0]!.reason, 'probe-timeout');
  } finally {
    p.socket.destroy();
    await pl.stop();
  }
});

t('no hello within the interval: closed (hello-timeout)', async () => {
  const timers = fakeTimers();
  const pl = await listen({ allowed: [OFP13], probeIntervalMs: 1000, timers });
  const p = await rawPeer(pl.sock);
  try {
    await waitFor('our hello', () => p.frames.length >= 1);
    timers.advance(1000);
    await waitFor('closed', () => p.closed);
    assert.is(pl.closes[0]!.reason, 'hello-timeout');
  } finally {
    p.socket.destroy();
    await pl.stop();
  }
});

t.run();
