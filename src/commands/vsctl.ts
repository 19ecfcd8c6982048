/**
 * vsctl commands over NATS (add-br, del-br, add-port, del-port), applied as OVSDB transactions
 * on the daemon's own database, exactly as ovs-vsctl would send them to DIR/db.sock: OVSDB
 * stays the one source of configuration truth, and the reconciler applies the change.
 *
 * Like ovs-vsctl, a waiting command bumps next_cfg in the same transaction and replies once
 * cur_cfg has reached it (the change is live), or after WAIT_MS with applied=false; no_wait
 * neither bumps nor waits. The checks (exists / does not exist) are guarded by `wait`-free
 * reads on the same tick as the commit, so they cannot race another writer in this process;
 * a concurrent ovs-vsctl client may still win, and the server's constraints then refuse ours.
 */
import { BusError, BusErrorCode, type Handlers } from '../bus/index.ts';
import type { DbHandle } from '../ovsdb/index.ts';
import type { Services } from '../bridge/index.ts';

const WAIT_MS = 4_000;

type Row = Record<string, unknown>;

function uuidsOf(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  if (v[0] === 'uuid') return [String(v[1])];
  if (v[0] === 'set') return (v[1] as unknown[]).flatMap(uuidsOf);
  return [];
}

function dbOf(s: Services): DbHandle {
  const db = s.db.current;
  if (!db) throw new BusError(BusErrorCode.Unavailable, 'the database is not open (the ovsdb component is restarting)');
  return db;
}

function bridgeRow(db: DbHandle, name: string): Row | undefined {
  return db.rows('Bridge').find((r) => r.name === name);
}

/** The bridge holding port `name`, and the port row. */
function findPort(db: DbHandle, name: string): { bridge: Row; port: Row } | undefined {
  const port = db.rows('Port').find((r) => r.name === name);
  if (!port) return undefined;
  const pu = (port._uuid as unknown[])[1];
  const bridge = db.rows('Bridge').find((b) => uuidsOf(b.ports).includes(String(pu)));
  return bridge ? { bridge, port } : undefined;
}

async function commit(s: Services, ops: unknown[], noWait: boolean): Promise<{ changed: boolean; next_cfg: number; applied: boolean }> {
  const db = dbOf(s);
  const all = [...ops];
  if (!noWait) {
    all.push({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] });
  }
  all.push({ op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] });
  const res = await db.transact(all) as ({ error?: string; details?: string; rows?: Row[] } | null)[];
  const bad = res.find((r) => r && typeof r === 'object' && 'error' in r && r.error);
  if (bad) throw new BusError(BusErrorCode.Conflict, `transaction error: ${bad.error}${bad.details ? `: ${bad.details}` : ''}`);
  const nextCfg = Number(res[res.length - 1]?.rows?.[0]?.next_cfg ?? 0);
  if (noWait) return { changed: true, next_cfg: nextCfg, applied: false };
  return { changed: true, next_cfg: nextCfg, applied: await waitApplied(db, nextCfg) };
}

function curCfg(db: DbHandle): number {
  return Number(db.rows('Open_vSwitch')[0]?.cur_cfg ?? 0);
}

function waitApplied(db: DbHandle, target: number): Promise<boolean> {
  if (curCfg(db) >= target) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      off();
      resolve(ok);
    };
    const off = db.subscribe(() => { if (curCfg(db) >= target) done(true); });
    const timer = setTimeout(() => done(curCfg(db) >= target), WAIT_MS);
  });
}

function noChange(db: DbHandle) {
  return { changed: false, next_cfg: Number(db.rows('Open_vSwitch')[0]?.next_cfg ?? 0), applied: true };
}

export function vsctlHandlers(s: Services): Handlers {
  return {
    'vsctl.add-br': async (r) => {
      const db = dbOf(s);
      if (bridgeRow(db, r.bridge)) {
        if (r.may_exist) return noChange(db);
        throw new BusError(BusErrorCode.Conflict, `a bridge named ${r.bridge} already exists`, { field: 'bridge' });
      }
      if (findPort(db, r.bridge)) throw new BusError(BusErrorCode.Conflict, `a port named ${r.bridge} already exists`, { field: 'bridge' });
      return commit(s, [
        { op: 'insert', table: 'Interface', row: { name: r.bridge, type: 'internal' }, 'uuid-name': 'i' },
        { op: 'insert', table: 'Port', row: { name: r.bridge, interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
        { op: 'insert', table: 'Bridge', row: { name: r.bridge, ports: ['named-uuid', 'p'] }, 'uuid-name': 'b' },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
      ], r.no_wait ?? false);
    },
    'vsctl.del-br': async (r) => {
      const db = dbOf(s);
      const b = bridgeRow(db, r.bridge);
      if (!b) {
        if (r.if_exists) return noChange(db);
        throw new BusError(BusErrorCode.NotFound, `no bridge named ${r.bridge}`, { field: 'bridge' });
      }
      return commit(s, [
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['set', [b._uuid]]]] },
      ], r.no_wait ?? false);
    },
    'vsctl.add-port': async (r) => {
      const db = dbOf(s);
      const b = bridgeRow(db, r.bridge);
      if (!b) throw new BusError(BusErrorCode.NotFound, `no bridge named ${r.bridge}`, { field: 'bridge' });
      const existing = findPort(db, r.port);
      if (existing) {
        if (r.may_exist && existing.bridge.name === r.bridge) return noChange(db);
        throw new BusError(BusErrorCode.Conflict, `cannot create a port named ${r.port} because a port named ${r.port} already exists on bridge ${String(existing.bridge.name)}`, { field: 'port' });
      }
      const port: Row = { name: r.port, interfaces: ['named-uuid', 'i'] };
      if (r.tag !== undefined) port.tag = r.tag;
      if (r.trunks?.length) port.trunks = ['set', r.trunks];
      return commit(s, [
        { op: 'insert', table: 'Interface', row: { name: r.port, type: r.type === 'internal' ? 'internal' : '' }, 'uuid-name': 'i' },
        { op: 'insert', table: 'Port', row: port, 'uuid-name': 'p' },
        { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', b._uuid]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]] },
      ], r.no_wait ?? false);
    },
    'vsctl.del-port': async (r) => {
      const db = dbOf(s);
      const found = findPort(db, r.port);
      if (!found || (r.bridge !== undefined && found.bridge.name !== r.bridge)) {
        if (r.if_exists) return noChange(db);
        throw new BusError(BusErrorCode.NotFound, r.bridge !== undefined && found
          ? `bridge ${r.bridge} does not have a port ${r.port}` : `no port named ${r.port}`, { field: 'port' });
      }
      return commit(s, [
        { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', found.bridge._uuid]], mutations: [['ports', 'delete', ['set', [found.port._uuid]]]] },
      ], r.no_wait ?? false);
    },
  };
}
