/**
 * The daemon process: `bvs daemon` (ovs-vswitchd + ovsdb-server in one process).
 *
 * Start order: pin root on bpffs (checked, or mounted at /sys/fs/bpf; else a named error) ->
 * run dir (mode 0700) and DIR/bvs.pid (refuses a run dir owned by a live daemon) ->
 * $BVS_PIN_DIR for src/datapath -> NATS (own nats-server child unless --nats URL)
 * and the bus connection -> the supervisor actor tree (ovsdb on DIR/db.sock, vswitch, bridges)
 * -> the NATS command handlers -> daemon.started.
 * Stop (SIGTERM/SIGINT, or Daemon.stop()): daemon.stopping -> the actors stop (upcall rings and
 * fds closed, ovsdb closed; datapaths stay pinned and forwarding) -> bus drained and closed ->
 * own nats-server stopped -> DIR/bvs.pid removed. After SIGKILL the pinned datapaths keep
 * forwarding; the next start adopts them (see bridge.machine.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createActor, waitFor } from 'xstate';
import { supervisorMachine, type SupervisorActor } from '../actors/index.ts';
import {
  BUS_PROTOCOL_VERSION, connectBus, hostId, removeEndpoint, startNatsServer, writeEndpoint, type Bus, type NatsServer,
} from '../bus/index.ts';
import { backoffDelay, Coverage, SAMPLE_SECONDS, type Backoff, type Services } from '../bridge/index.ts';
import { BVS_VERSION, commandHandlers } from '../commands/index.ts';
import { ensurePinRoot } from '../datapath/index.ts';
import { createLogger, type Logger } from './logging.ts';
import type { DaemonOptions } from './options.ts';
import { containRejections } from './rejections.ts';

export class DaemonError extends Error {
  override name = 'DaemonError';
}

export interface DaemonTuning {
  backoff?: Backoff;
  linkPollMs?: number;
  /** Replace the supervisor's machine (tests inject failures through provided actors). */
  machine?: typeof supervisorMachine;
  logger?: Logger;
}

export interface Daemon {
  readonly services: Services;
  readonly supervisor: SupervisorActor;
  readonly bus: Bus;
  readonly host: string;
  /** Resolves when the daemon has stopped (after stop() or a fatal error). */
  readonly stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the run dir (0700) and claims DIR/bvs.pid. */
function claimRunDir(runDir: string): string {
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(runDir, 0o700);
  const pidFile = path.join(runDir, 'bvs.pid');
  try {
    const old = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (Number.isSafeInteger(old) && old > 1 && old !== process.pid && pidAlive(old)) {
      const cmd = fs.readFileSync(`/proc/${old}/cmdline`, 'utf8');
      if (cmd.includes('daemon')) throw new DaemonError(`${runDir} is in use by bvs daemon pid ${old} (${pidFile})`);
    }
  } catch (err) {
    if (err instanceof DaemonError) throw err;
  }
  fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  return pidFile;
}

export async function startDaemon(opts: DaemonOptions, tuning: DaemonTuning = {}): Promise<Daemon> {
  const log = tuning.logger ?? createLogger(opts.logLevel);
  // First, before anything is claimed: a pin dir that is not on bpffs fails at once, naming it.
  const { mounted } = ensurePinRoot(opts.pinDir);
  if (mounted) {
    log.warn({ pinDir: opts.pinDir }, 'mounted bpffs at /sys/fs/bpf (none was mounted in this mount namespace, e.g. under ip netns exec): the datapath pins, and forwarding without a daemon, last only as long as this mount namespace');
  }
  const pidFile = claimRunDir(opts.runDir);
  process.env.BVS_PIN_DIR = opts.pinDir;
  const host = hostId(opts.host);
  const startedAt = Date.now();
  let nats: NatsServer | null = null;
  let bus: Bus | null = null;
  try {
    if (opts.nats === undefined) {
      nats = await startNatsServer({
        runDir: opts.runDir, hostId: host,
        onLog: (line) => log.debug({ component: 'nats-server' }, line),
      });
      log.info({ url: nats.url, natsPid: nats.pid }, 'nats-server started');
    }
    bus = await connectBus({
      servers: nats?.url ?? opts.nats!, host, name: 'bvs-daemon',
      ...(nats?.token === undefined ? {} : { token: nats.token }),
      ...(opts.natsCreds === undefined ? {} : { credsFile: opts.natsCreds }),
      onError: (err) => log.warn({ component: 'bus', err }, 'bus error'),
      nats: { maxReconnectAttempts: -1 },
    });
    if (!nats) await writeEndpoint(opts.runDir, { url: opts.nats!, host });
  } catch (err) {
    await bus?.close().catch(() => {});
    await nats?.stop().catch(() => {});
    fs.rmSync(pidFile, { force: true });
    throw err;
  }
  const theBus = bus;
  const services: Services = {
    log,
    publish: (name, payload) => {
      try {
        theBus.publish(name, payload);
      } catch (err) {
        log.warn({ component: 'bus', event: name, err }, 'publish failed');
      }
    },
    runtimes: new Map(),
    db: { current: null },
    backoff: tuning.backoff ?? { initialMs: 500, maxMs: 30_000 },
    linkPollMs: tuning.linkPollMs ?? 1000,
    health: new Map(),
    coverage: new Coverage(),
    runDir: opts.runDir,
  };
  const uncontain = containRejections(services);
  // coverage/show's rates: one sample per interval, as OVS's coverage_run.
  const sampler = setInterval(() => services.coverage.sample(), SAMPLE_SECONDS * 1000).unref();
  const supervisor = createActor(tuning.machine ?? supervisorMachine, {
    input: {
      services, dbPath: opts.db, sockPath: path.join(opts.runDir, 'db.sock'),
      onConfigChange: (nextCfg) => services.publish('config.changed', { next_cfg: nextCfg }),
    },
  });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  let stopping: Promise<void> | null = null;

  const stop = (reason = 'stop'): Promise<void> => (stopping ??= (async () => {
    log.info({ reason }, 'stopping');
    services.publish('daemon.stopping', { pid: process.pid, reason });
    supervisor.send({ type: 'STOP' });
    try {
      await waitFor(supervisor, (s) => s.status !== 'active', { timeout: 10_000 });
    } catch (err) {
      log.error({ err }, 'actors did not stop in time');
    }
    supervisor.stop();
    // Draining needs the server; if it is gone (or reconnecting forever), close hard after 3 s.
    const drained = await Promise.race([
      theBus.close().then(() => true, (err: unknown) => { log.warn({ err }, 'bus close failed'); return true; }),
      new Promise<false>((r) => setTimeout(() => r(false), 3000).unref()),
    ]);
    if (!drained) await theBus.nc.close().catch(() => {});
    if (nats) await (nats as NatsServer).stop();
    else await removeEndpoint(opts.runDir).catch(() => {});
    fs.rmSync(pidFile, { force: true });
    clearInterval(sampler);
    uncontain();
    log.info('stopped');
    resolveStopped();
  })());

  supervisor.subscribe({
    error: (err) => {
      log.fatal({ err }, 'supervisor failed');
      void stop('supervisor failed');
    },
  });
  // The own nats-server is supervised too: restarted on the same port with the same token, so
  // the daemon's connection (maxReconnectAttempts -1) and the CLIs' reconnect by themselves.
  const watchNats = (srv: NatsServer): void => {
    void srv.exited.then(async (exit) => {
      if (stopping) return;
      let n = 0;
      await srv.stop(); // removes its files
      while (!stopping) {
        n++;
        const h = services.health.get('nats-server');
        services.health.set('nats-server', { restarts: (h?.restarts ?? 0) + 1, status: 'failing', detail: `exited ${JSON.stringify(exit)}` });
        const delay = backoffDelay(services.backoff, n - 1);
        log.error({ component: 'supervisor', child: 'nats-server', exit, retryInMs: delay }, 'nats-server exited; restarting');
        await new Promise((r) => setTimeout(r, delay));
        if (stopping) return;
        try {
          const next = await startNatsServer({
            runDir: opts.runDir, hostId: host, port: Number(new URL(srv.url).port), token: srv.token ?? false,
            onLog: (line) => log.debug({ component: 'nats-server' }, line),
          });
          if (stopping) {
            await next.stop();
            return;
          }
          nats = next;
          services.health.set('nats-server', { restarts: services.health.get('nats-server')!.restarts, status: 'ok' });
          log.info({ url: next.url, natsPid: next.pid }, 'nats-server restarted');
          watchNats(next);
          return;
        } catch (err) {
          log.error({ component: 'supervisor', err }, 'nats-server restart failed');
        }
      }
    });
  };
  if (nats) {
    services.health.set('nats-server', { restarts: 0, status: 'ok' });
    watchNats(nats);
  }
  supervisor.start();
  // Announce once OVSDB serves (normally a few ms); if it keeps failing, the supervisor keeps
  // retrying and we announce anyway after 10 s: the bus commands answer meanwhile.
  for (const end = Date.now() + 10_000; services.db.current === null && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 10));
  }
  theBus.serveAll(commandHandlers({ services, host, startedAt }));
  await theBus.flush();
  services.publish('daemon.started', { pid: process.pid, version: BVS_VERSION, protocol: BUS_PROTOCOL_VERSION });
  log.info({ runDir: opts.runDir, db: opts.db, pinDir: opts.pinDir, host }, 'daemon started');
  return { services, supervisor, bus: theBus, host, stopped, stop };
}

/**
 * The `bvs daemon` entry: starts, stops cleanly on SIGTERM/SIGINT, resolves with the exit code.
 */
export async function runDaemon(opts: DaemonOptions, tuning: DaemonTuning = {}): Promise<number> {
  const d = await startDaemon(opts, tuning);
  const onSignal = (sig: NodeJS.Signals): void => { void d.stop(sig); };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await d.stopped;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return 0;
}
