/**
 * A minimal OpenFlow 1.3 controller for the benchmark, built on bvs's own codec (src/openflow:
 * OfConn for the channel, encodeFlowMod for flow-mods). It listens on a unix socket (passive);
 * the switch under test connects to it (Controller target unix:PATH). It
 *   - installs the table-miss flow `priority=0,actions=CONTROLLER:65535` and waits for the
 *     barrier reply (ready());
 *   - answers every packet-in with a packet-out of the same bytes to the other port (in_port 1
 *     goes out 2, any other in_port goes out 1), counting both;
 *   - sends a burst of flow-mods then a barrier, and times the barrier reply (burst()).
 * The switch's OFPT_ERRORs are counted (a burst whose flows were refused is not a result).
 * One switch connection at a time: a new one replaces the old.
 */
import fs from 'node:fs';
import net from 'node:net';
import { parseFlow } from '../../src/ofproto/index.ts';
import { OFPP, W } from '../../src/ofproto/index.ts';
import { encodeFlowMod, OfConn, OFP13, type Decoded, type FlowModMsg, type OfpMessage } from '../../src/openflow/index.ts';

const NO_BUFFER = 0xffffffff;
const OFPG_ANY = 0xffffffff;

/** A flow-mod add in OpenFlow 1.3 for `text` (ovs-ofctl flow syntax, table 0). */
export function flowModAdd(text: string): OfpMessage {
  const f = parseFlow(text);
  const m: FlowModMsg = {
    command: 'add', cookie: f.cookie, cookieMask: 0n, table: f.table ?? 0, idleTimeout: 0, hardTimeout: 0,
    priority: f.priority, bufferId: NO_BUFFER, outPort: OFPP.NONE, outGroup: OFPG_ANY, flags: 0, importance: 0,
    match: f.match, actions: f.actions,
  };
  return { kind: 'flow_mod', body: encodeFlowMod(OFP13, m) };
}

export class BenchController {
  packetIns = 0;
  packetOuts = 0;
  errors: string[] = [];
  private conn: OfConn | undefined;
  private socket: net.Socket | undefined;
  private readonly server: net.Server;
  private xid = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor(readonly sockPath: string) {
    this.server = net.createServer((s) => this.accept(s));
  }

  listen(): Promise<void> {
    fs.rmSync(this.sockPath, { force: true });
    return new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(this.sockPath, () => res());
    });
  }

  /** A switch is connected and hello is done. */
  get connected(): boolean {
    return this.conn !== undefined && this.conn.version !== undefined && !this.conn.closed;
  }

  /** Installs the table-miss flow; resolves on the barrier reply after it. */
  async ready(): Promise<void> {
    this.send(flowModAdd('priority=0,actions=CONTROLLER:65535'));
    await this.barrier(30_000);
  }

  /** Sends the flow-mods (already encoded), then a barrier; the seconds until its reply. */
  async burst(mods: OfpMessage[]): Promise<number> {
    const s = this.socket!;
    const t0 = process.hrtime.bigint();
    s.cork();
    for (const m of mods) this.send(m);
    const done = this.barrier();
    s.uncork();
    await done;
    return Number(process.hrtime.bigint() - t0) / 1e9;
  }

  /** A barrier request; resolves on its reply, rejects after timeoutMs without one. */
  barrier(timeoutMs = 300_000): Promise<void> {
    const xid = this.send({ kind: 'barrier_request' });
    return new Promise((res, rej) => {
      const t = setTimeout(() => { this.waiting.delete(xid); rej(new Error(`no barrier reply in ${timeoutMs} ms`)); }, timeoutMs);
      this.waiting.set(xid, () => { clearTimeout(t); res(); });
    });
  }

  async close(): Promise<void> {
    this.conn?.close('local', 'benchmark done');
    await new Promise<void>((r) => this.server.close(() => r()));
    fs.rmSync(this.sockPath, { force: true });
  }

  private send(m: OfpMessage): number {
    const xid = this.xid++;
    if (!this.conn?.send(m, xid)) throw new Error(`no switch connected to ${this.sockPath}`);
    return xid;
  }

  private accept(s: net.Socket): void {
    this.conn?.close('local', 'replaced by a new connection');
    this.socket = s;
    s.setNoDelay?.(true);
    this.conn = new OfConn(s, { allowed: [OFP13], probeIntervalMs: 0 }, {
      onMessage: (d) => this.onMessage(d),
      onDefect: (e) => this.errors.push(`controller defect: ${String(e)}`),
    });
  }

  private onMessage(d: Decoded): void {
    const m = d.msg;
    if (m.kind === 'packet_in') {
      this.packetIns++;
      const inPort = m.match.value[W.IN_PORT]!;
      this.send({
        kind: 'packet_out', bufferId: NO_BUFFER, inPort, data: m.data,
        actions: [{ type: 'output', port: inPort === 1 ? 2 : 1 }],
      });
      this.packetOuts++;
    } else if (m.kind === 'barrier_reply') {
      this.waiting.get(d.xid)?.();
      this.waiting.delete(d.xid);
    } else if (m.kind === 'error') {
      if (this.errors.length < 20) this.errors.push(`switch error ${m.name ?? `type ${m.errType} code ${m.code}`} (xid ${d.xid})`);
    }
  }
}
