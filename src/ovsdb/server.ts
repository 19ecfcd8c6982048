/**
 * OvsdbServer: the embeddable whole - databases opened from files, served on remotes.
 *
 *   const srv = await OvsdbServer.open({ dbPath: 'conf.db', remotes: ['punix:/run/bvs/db.sock'] });
 *   srv.db.rows('Bridge'); await srv.db.transact([...]); const off = srv.db.subscribe(fn);
 *   await srv.close();
 *
 * Neighbours: core.ts (databases, commit pipeline), jsonrpc.ts (remotes).
 */
import { OvsdbCore, type DbHandle } from './core.ts';
import { Listener, parseRemote, type ListenerLimits } from './jsonrpc.ts';
import type { StorageOptions } from './storage.ts';

export interface OvsdbServerOptions {
  /** One or more database files (created with `bvs ovsdb-tool create`). */
  dbPath: string | string[];
  /** "punix:PATH" and/or "ptcp:PORT[:IP]" (IP defaults to 127.0.0.1). */
  remotes?: string[];
  /** Mode of created unix sockets; default 0600. */
  socketMode?: number;
  /** Log sink for warnings and connection errors; default stderr. */
  log?: (msg: string) => void;
  /** Auto-compaction threshold in bytes (default 16 MiB). */
  autoCompactBytes?: number;
  /** Connections per remote, and who hears of the ones refused (jsonrpc.ts Listener). */
  limits?: ListenerLimits;
}

export class OvsdbServer {
  readonly handles: DbHandle[] = [];
  readonly listeners: Listener[] = [];
  private constructor(readonly core: OvsdbCore) {}

  /** The first database (the Open_vSwitch one, for bvs). */
  get db(): DbHandle {
    return this.handles[0];
  }

  static async open(opts: OvsdbServerOptions): Promise<OvsdbServer> {
    const log = opts.log ?? ((m: string) => process.stderr.write(`ovsdb-server: ${m}\n`));
    const srv = new OvsdbServer(new OvsdbCore());
    try {
      const st: StorageOptions = { warn: (m) => log(`warning: ${m}`), autoCompactBytes: opts.autoCompactBytes };
      for (const f of Array.isArray(opts.dbPath) ? opts.dbPath : [opts.dbPath]) srv.handles.push(await srv.core.openFile(f, st));
      for (const r of opts.remotes ?? []) srv.listeners.push(await Listener.listen(srv.core, parseRemote(r), log, opts.socketMode, opts.limits));
    } catch (err) {
      await srv.close();
      throw err;
    }
    return srv;
  }

  /** Compacts every database file now (online). */
  async compact(): Promise<void> {
    for (const e of this.core.databases.values()) await e.storage?.compact();
  }

  async close(): Promise<void> {
    for (const l of this.listeners) await l.close();
    this.listeners.length = 0;
    await this.core.close();
  }
}
