/**
 * Flow monitors (Nicira's NXST_FLOW_MONITOR, what `ovs-ofctl monitor BR watch:` asks for; OVS
 * connmgr.c ofmonitor_*): a connection names flows (table, match, out_port) and which changes
 * it wants (NXFMF_ADD/DELETE/MODIFY), and hears of every such change to the tables, made by
 * any path: OpenFlow, `bvs ofctl` over NATS, expiry, learn(). The one place that sees them all
 * is the Pipeline: this module is its observer (Pipeline.observers) while any monitor exists.
 *
 * As OVS does:
 *   - a rule is watched by a monitor when its table is the monitor's (or 0xff), its match is
 *     within the monitor's (as a non-strict flow stats request selects), and it outputs to the
 *     monitor's out_port (or out_port is NONE); a modify also counts the old actions. Hidden
 *     rules (the fail-open flow) are never reported;
 *   - a connection gets one update per change however many of its monitors match, with the
 *     union of their flags (actions included if any asked for NXFMF_ACTIONS);
 *   - an add that replaces a rule is ADDED; a modify is MODIFIED only when it changed the
 *     actions or the cookie;
 *   - a change caused by the connection's own message is abbreviated to one NXFME_ABBREV with
 *     that message's xid (per message), unless a matching monitor has NXFMF_OWN;
 *   - updates go out as NXST_FLOW_MONITOR replies with xid 0: those caused by a message at the
 *     end of handling it (before the next message, so before a later barrier's reply), the
 *     others (NATS, expiry, learn) once the current task is done.
 * Not done: pausing when a slow reader's backlog grows (NXT_FLOW_MONITOR_PAUSED/RESUMED; the
 * connection's own backlog limit applies instead), and the ONF (1.3) and OFPMP_FLOW_MONITOR
 * (1.4+) forms: bvs knows the Nicira one only, which ovs-ofctl uses in OpenFlow 1.0.
 */
import { MAX_PRIORITY, N_TABLES, OFPP, REMOVED_REASON, type OfAction, type Pipeline, type Rule, type TableChange } from '../ofproto/index.ts';
import { NXFMF, OfpError, type FlowMonitorRequest, type FlowUpdate } from '../openflow/index.ts';
import type { Session } from './session.ts';

const ALL_TABLES = 0xff;

export class FlowMonitors {
  private readonly bySession = new Map<Session, Map<number, FlowMonitorRequest>>();
  /** Updates not sent yet, per connection; `abbrev` once its ABBREV for the current message is in. */
  private readonly pending = new Map<Session, { updates: FlowUpdate[]; abbrev: boolean }>();
  private requester: { s: Session; xid: number } | undefined;
  private flushQueued = false;
  private readonly observer = (c: TableChange): void => this.changed(c);

  constructor(private readonly pipeline: () => Pipeline) {}

  /** NXST_FLOW_MONITOR request: adds its monitors (all or none) and replies with the initial flows. */
  request(s: Session, xid: number, monitors: readonly FlowMonitorRequest[]): void {
    const mine = this.bySession.get(s) ?? new Map<number, FlowMonitorRequest>();
    const ids = new Set<number>();
    for (const m of monitors) {
      if (mine.has(m.id) || ids.has(m.id)) throw new OfpError('OFPMOFC_MONITOR_EXISTS', `flow monitor ${m.id} exists`);
      if (m.table !== ALL_TABLES && m.table >= N_TABLES) throw new OfpError('OFPBRC_BAD_TABLE_ID', `flow monitor table ${m.table}`);
      ids.add(m.id);
    }
    for (const m of monitors) mine.set(m.id, m);
    if (mine.size > 0) this.bySession.set(s, mine);
    this.pipeline().observers.add(this.observer);
    const updates: FlowUpdate[] = [];
    for (const r of this.pipeline().allRules()) {
      const flags = flagsFor(monitors.filter((m) => m.flags & NXFMF.INITIAL), r, undefined);
      if (flags) updates.push(full('added', r, 0, flags));
    }
    s.conn.sendReplies({ kind: 'nx_flow_monitor_reply', updates }, xid);
  }

  /** NXT_FLOW_MONITOR_CANCEL. */
  cancel(s: Session, id: number): void {
    if (!this.bySession.get(s)?.delete(id)) throw new OfpError('OFPMOFC_UNKNOWN_MONITOR', `no flow monitor ${id} on this connection`);
    if (this.bySession.get(s)!.size === 0) this.forget(s);
  }

  /** The connection is gone: its monitors and unsent updates go too. */
  forget(s: Session): void {
    this.bySession.delete(s);
    this.pending.delete(s);
    if (this.bySession.size === 0) this.pipeline().observers.delete(this.observer);
  }

  /** Runs `fn`, the handling of `s`'s message `xid`: its changes are s's own, their updates go out when it returns. */
  during<T>(s: Session, xid: number, fn: () => T): T {
    if (this.bySession.size === 0) return fn();
    this.requester = { s, xid };
    try {
      return fn();
    } finally {
      this.requester = undefined;
      this.flush();
    }
  }

  private changed(c: TableChange): void {
    const r = c.rule;
    if (r.priority > MAX_PRIORITY) return;
    let event: 'added' | 'deleted' | 'modified', old: OfAction[] | undefined;
    if (c.kind === 'added') { event = 'added'; old = c.replaced[0]?.actions; }
    else if (c.kind === 'removed') event = 'deleted';
    else {
      const sameActions = JSON.stringify(c.old.actions, big) === JSON.stringify(r.actions, big);
      if (sameActions && c.old.cookie === r.cookie) return;
      event = 'modified';
      old = sameActions ? undefined : c.old.actions;
    }
    const want = event === 'added' ? NXFMF.ADD : event === 'deleted' ? NXFMF.DELETE : NXFMF.MODIFY;
    for (const [s, mine] of this.bySession) {
      if (s.conn.closed) continue;
      const flags = flagsFor([...mine.values()].filter((m) => m.flags & want), r, old);
      if (!flags) continue;
      let p = this.pending.get(s);
      if (!p) this.pending.set(s, p = { updates: [], abbrev: false });
      if (flags & NXFMF.OWN || this.requester?.s !== s) {
        p.updates.push(full(event, r, c.kind === 'removed' ? REMOVED_REASON[c.reason] : 0, flags));
      } else if (!p.abbrev) {
        p.updates.push({ event: 'abbrev', xid: this.requester.xid });
        p.abbrev = true;
      }
    }
    if (!this.requester && !this.flushQueued && this.pending.size > 0) {
      this.flushQueued = true;
      queueMicrotask(() => { this.flushQueued = false; this.flush(); });
    }
  }

  private flush(): void {
    for (const [s, p] of this.pending) {
      if (!s.conn.closed && p.updates.length > 0) s.conn.sendReplies({ kind: 'nx_flow_monitor_reply', updates: p.updates }, 0);
    }
    this.pending.clear();
  }
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

const outputsTo = (actions: readonly OfAction[], port: number): boolean =>
  port === OFPP.NONE || actions.some((a) => a.type === 'output' && a.port === port);

/** The union of the flags of the monitors that watch rule `r` (old: a modify's former actions). */
function flagsFor(monitors: readonly FlowMonitorRequest[], r: Rule, old: readonly OfAction[] | undefined): number {
  let flags = 0;
  for (const m of monitors) {
    if (m.table !== ALL_TABLES && m.table !== r.table) continue;
    if (!outputsTo(r.actions, m.outPort) && !(old && outputsTo(old, m.outPort))) continue;
    if (r.match.isSubsetOf(m.match)) flags |= m.flags;
  }
  return flags;
}

function full(event: 'added' | 'deleted' | 'modified', r: Rule, reason: number, flags: number): FlowUpdate {
  return {
    event, reason, priority: r.priority, idleTimeout: r.idleTimeout, hardTimeout: r.hardTimeout, table: r.table,
    cookie: r.cookie, match: r.match, actions: flags & NXFMF.ACTIONS ? r.actions : [],
  };
}
