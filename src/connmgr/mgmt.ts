/**
 * The management socket of a bridge, RUN/BR.mgmt (OVS's name, so `ovs-ofctl CMD BR` with
 * OVS_RUNDIR=RUN and `ovs-ofctl CMD unix:RUN/BR.mgmt` find it): a punix listener, mode 0600,
 * every connection an OfConn served by the bridge's OfSwitch.
 *
 * Limits (issue 9): at most maxConnections at once; more are closed at accept, counted
 * (onReject) and logged at most once a second. Each connection has OfConn's own limits
 * (message size, output backlog, inactivity probe).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OfConn, SUPPORTED_VERSIONS, type OfpVersion } from '../openflow/index.ts';
import { limitConnections, listenUnix } from '../sockets/index.ts';
import type { OfSwitch } from './switch.ts';

export const DEFAULT_MGMT_CONNECTIONS = 256;

export interface MgmtOptions {
  runDir: string;
  /** Versions Bridge.protocols allows, read at each connection (default: every version bvs speaks). */
  allowed?: () => readonly OfpVersion[];
  maxConnections?: number;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  onReject?: () => void;
  /** Milliseconds, for the once-a-second log of refusals (default Date.now). */
  now?: () => number;
}

export class MgmtListener {
  private readonly conns = new Set<OfConn>();
  private constructor(readonly path: string, private readonly server: net.Server) {}

  /** Listens on RUN/BR.mgmt (a stale socket file is replaced). */
  static async open(sw: OfSwitch, o: MgmtOptions): Promise<MgmtListener> {
    const sockPath = path.join(o.runDir, `${sw.runtime.name}.mgmt`);
    const server = net.createServer();
    const l = new MgmtListener(sockPath, server);
    const max = o.maxConnections ?? DEFAULT_MGMT_CONNECTIONS;
    limitConnections(server, {
      max, now: o.now, onReject: o.onReject,
      log: (n) => o.log('warn', `${sockPath}: ${n} connection(s) refused: ${max} open, the limit`, { bridge: sw.runtime.name }),
    });
    server.on('connection', (sock) => {
      const conn: OfConn = new OfConn(sock, { allowed: o.allowed?.() ?? SUPPORTED_VERSIONS }, {
        onReady: () => sw.attach(conn),
        onMessage: (d, c, frame) => sw.receive(d, c, frame),
        onClose: () => { sw.detach(conn); l.conns.delete(conn); },
        onDefect: (err) => o.log('warn', 'OpenFlow message handling failed (a bug); answered OFPBRC_EPERM', { bridge: sw.runtime.name, err }),
      });
      l.conns.add(conn);
    });
    await listenUnix(server, sockPath);
    return l;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close('local', 'bridge closed');
    this.conns.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
    fs.rmSync(this.path, { force: true });
  }
}
