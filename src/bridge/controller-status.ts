/**
 * Writes a bridge's OpenFlow status to OVSDB, as ovs-vswitchd does: Controller.is_connected,
 * role and status (state, last_error, sec_since_connect, ...), and Bridge.datapath_id.
 *
 * Writes are coalesced (one per tick, however many connection changes) and skipped when
 * nothing changed since the last one: each write is a commit, which wakes the reconciler, which
 * hands the connection manager its configuration again; an unchanged configuration writes
 * nothing, so the loop ends there.
 */
import type { ConnMgr } from '../connmgr/index.ts';
import { transactStatus, type Services } from './services.ts';

export function controllerStatusWriter(mgr: ConnMgr, bridgeUuid: string, services: Pick<Services, 'db' | 'log'>): () => void {
  let scheduled = false;
  let last = '';
  const write = (): void => {
    scheduled = false;
    const ops: unknown[] = [];
    for (const [uuid, st] of mgr.controllerStatus()) {
      ops.push({
        op: 'update', table: 'Controller', where: [['_uuid', '==', ['uuid', uuid]]],
        row: { is_connected: st.isConnected, role: st.role, status: ['map', Object.entries(st.status).sort()] },
      });
    }
    if (bridgeUuid !== '') {
      ops.push({
        op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', bridgeUuid]]],
        row: { datapath_id: mgr.sw.datapathIdHex() },
      });
    }
    // sec_since_* advance every second: they alone do not make a write.
    const key = JSON.stringify(ops, (k, v: unknown) => (k === 'status' ? (v as [string, [string, string][]])[1].filter(([n]) => !n.startsWith('sec_since')) : v));
    if (key === last || ops.length === 0) return;
    last = key;
    void transactStatus(services, ops, 'controller status').then((ok) => { if (!ok) last = ''; });
  };
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(write);
  };
}
