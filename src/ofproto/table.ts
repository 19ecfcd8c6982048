/**
 * OpenFlow tables: rules with their timeouts and counters, and the flow-mod semantics of
 * OpenFlow 1.3 §6.4 (add replaces an identical match+priority; delete strict/non-strict with
 * cookie mask and out_port; modify). Tables 0..254; a table exists once something refers to it.
 *
 * Time is injected (a `now()` in milliseconds), so expiry is testable; the daemon calls
 * expire() periodically and turns the returned send_flow_rem rules into flow-removed events.
 * Counters come from the datapath: the revalidator credits each rule the packets/bytes its
 * megaflows accumulated (credit()), which also refreshes the idle timer.
 */
import type { OfAction } from './actions.ts';
import { Classifier } from './classifier.ts';
import { newWords, type Words } from './flow.ts';
import { conjLookup, isConjunctive } from './conj.ts';
import { formatFlowStats } from './format.ts';
import type { Match } from './match.ts';
import type { FlowMod } from './parse.ts';
import type { Group } from './groups.ts';

export const N_TABLES = 255;

export class Rule {
  packets = 0;
  bytes = 0;
  used: number;
  constructor(
    readonly table: number,
    readonly priority: number,
    readonly match: Match,
    public actions: OfAction[],
    public cookie: bigint,
    readonly idleTimeout: number,
    readonly hardTimeout: number,
    readonly sendFlowRem: boolean,
    public created: number,
  ) {
    this.used = created;
  }
}

export const REMOVED_REASON = { idle_timeout: 0, hard_timeout: 1, delete: 2 } as const;
export type RemovedReason = keyof typeof REMOVED_REASON;

export interface RemovedRule {
  rule: Rule;
  reason: RemovedReason;
}

/**
 * One change to the tables, told to Pipeline.observers after it is made: flow monitors
 * (src/connmgr/monitor.ts) report them, and undoable() (txn.ts) keeps them to undo a bundle.
 */
export type TableChange =
  | { kind: 'added'; rule: Rule; replaced: Rule[] }
  | { kind: 'modified'; rule: Rule; old: { actions: OfAction[]; cookie: bigint } }
  | { kind: 'removed'; rule: Rule; reason: RemovedReason; learned: Rule[] };

export class TableError extends Error {
  override name = 'TableError';
}

function cookieMatches(r: Rule, cookie: bigint, mask: bigint): boolean {
  return (r.cookie & mask) === (cookie & mask);
}

function outputsTo(r: Rule, port: number): boolean {
  return r.actions.some((a) => a.type === 'output' && a.port === port);
}

/** The highest OpenFlow priority; rules above it are hidden (internal to the switch). */
export const MAX_PRIORITY = 0xffff;

/** Set in an xlate lookups entry (XlateResult.lookups) when the lookup matched a rule. */
export const LOOKUP_MATCHED = 0x100;

export class Pipeline {
  /** Per table, the ordinary flows; the conjunctive ones (conj.ts) live apart in `softTables`. */
  readonly tables = new Map<number, Classifier<Rule>>();
  readonly softTables = new Map<number, Classifier<Rule>>();
  readonly groups = new Map<number, Group>();
  /** Rules that learned flows with delete_learned -> those flows. */
  private readonly learnedBy = new Map<Rule, Set<Rule>>();
  /** Bumped on every change to any table: megaflows built before may be stale. */
  generation = 0;
  /** The rules with an idle or hard timeout: expire() looks at these only (a pass over every
   *  rule, run by each revalidation, made a burst of flow-mods quadratic). */
  private readonly timed = new Set<Rule>();
  /** Hear every rule added, modified or removed, by any path (see TableChange). */
  readonly observers = new Set<(c: TableChange) => void>();

  constructor(readonly now: () => number = Date.now) {}

  table(id: number, soft = false): Classifier<Rule> {
    if (!Number.isInteger(id) || id < 0 || id >= N_TABLES) throw new TableError(`table ${id} is out of range 0..254`);
    const map = soft ? this.softTables : this.tables;
    let t = map.get(id);
    if (!t) { t = new Classifier<Rule>(); map.set(id, t); }
    return t;
  }

  /** The classifiers holding table `id`'s rules (ordinary, then conjunctive). */
  private *classifiers(id: number): IterableIterator<Classifier<Rule>> {
    const h = this.tables.get(id), s = this.softTables.get(id);
    if (h) yield h;
    if (s) yield s;
  }

  private tableIds(): number[] {
    return [...new Set([...this.tables.keys(), ...this.softTables.keys()])].sort((a, b) => a - b);
  }

  /**
   * Looks up `flow` in table `id` (a missing table misses), ORing consulted bits into `wc`;
   * conjunctive flows take part as conj.ts describes.
   */
  lookup(id: number, flow: Words, wc?: Words): Rule | undefined {
    const soft = this.softTables.get(id);
    if (!soft || soft.size === 0) return this.tables.get(id)?.lookup(flow, wc);
    return conjLookup(this.tables.get(id), soft, flow, wc ?? newWords());
  }

  /** OFPFC_ADD: replaces a rule with the same match and priority (counters start over). */
  add(fm: FlowMod): Rule {
    const t = this.table(fm.table ?? 0, isConjunctive(fm.actions));
    for (const a of fm.actions) {
      // OpenFlow 1.3 §5.1: a pipeline only goes forward (OFPBIC_BAD_TABLE_ID otherwise).
      if (a.type === 'goto_table' && a.table <= (fm.table ?? 0)) {
        throw new TableError(`goto_table:${a.table} must name a table after table ${fm.table ?? 0}`);
      }
    }
    const rule = new Rule(fm.table ?? 0, fm.priority, fm.match.clone(), fm.actions, fm.cookie,
      fm.idleTimeout, fm.hardTimeout, fm.sendFlowRem, this.now());
    const replaced: Rule[] = [];
    for (const c of [...this.classifiers(rule.table)]) {
      const old = c.findExact(fm.match, fm.priority);
      if (old) { c.remove(old); this.timed.delete(old); replaced.push(old); }
    }
    t.insert(rule);
    if (rule.idleTimeout || rule.hardTimeout) this.timed.add(rule);
    this.generation++;
    this.changed({ kind: 'added', rule, replaced });
    return rule;
  }

  /**
   * Rules selected by a delete/modify: strict = same match and priority; else match subset.
   * Hidden rules (priority above MAX_PRIORITY: the connection manager's fail-open flow) are
   * only found strictly, as OVS's collect_rule leaves them to the switch itself.
   */
  select(fm: FlowMod, strict: boolean): Rule[] {
    const out: Rule[] = [];
    const ids = fm.table === undefined ? this.tableIds() : [fm.table];
    for (const id of ids) {
      for (const t of this.classifiers(id)) {
        if (strict) {
          const r = t.findExact(fm.match, fm.priority);
          if (r) out.push(r);
        } else {
          for (const r of t.rules()) if (r.priority <= MAX_PRIORITY && r.match.isSubsetOf(fm.match)) out.push(r);
        }
      }
    }
    return out.filter((r) => cookieMatches(r, fm.cookie, fm.cookieMask)
      && (fm.outPort === undefined || outputsTo(r, fm.outPort)));
  }

  /** OFPFC_DELETE / DELETE_STRICT. Returns the removed rules. */
  delete(fm: FlowMod, strict = false): RemovedRule[] {
    const victims = this.select(fm, strict);
    for (const r of victims) this.removeRule(r);
    return victims.map((rule) => ({ rule, reason: 'delete' as const }));
  }

  /** OFPFC_MODIFY / MODIFY_STRICT: new actions (and cookie when no mask); returns the changed rules. */
  modify(fm: FlowMod, strict = false): Rule[] {
    const rules = this.select(fm, strict);
    for (const r of rules) {
      const old = { actions: r.actions, cookie: r.cookie };
      if (isConjunctive(r.actions) !== isConjunctive(fm.actions)) {
        // The rule changes sides (ordinary <-> conjunctive): it moves between classifiers.
        this.tables.get(r.table)?.remove(r) || this.softTables.get(r.table)?.remove(r);
        this.table(r.table, isConjunctive(fm.actions)).insert(r);
      }
      r.actions = fm.actions;
      if (fm.cookieMask === 0n) r.cookie = fm.cookie;
      this.changed({ kind: 'modified', rule: r, old });
    }
    if (rules.length) this.generation++;
    return rules;
  }

  /**
   * Removes a rule; the flows it learned with learn(...,delete_learned) go with it (OVS
   * learn.c: NX_LEARN_F_DELETE_LEARNED), without flow-removed events of their own.
   */
  removeRule(r: Rule, reason: RemovedReason = 'delete'): boolean {
    const ok = (this.tables.get(r.table)?.remove(r) || this.softTables.get(r.table)?.remove(r)) ?? false;
    this.timed.delete(r);
    if (ok) this.generation++;
    const learned = this.learnedBy.get(r);
    if (learned) {
      this.learnedBy.delete(r);
      for (const l of learned) this.removeRule(l);
    }
    if (ok) this.changed({ kind: 'removed', rule: r, reason, learned: learned ? [...learned] : [] });
    return ok;
  }

  private changed(c: TableChange): void {
    for (const o of this.observers) o(c);
  }

  /** Records that `owner` learned `learned` with delete_learned (see removeRule). */
  addLearned(owner: Rule, learned: Rule): void {
    let set = this.learnedBy.get(owner);
    if (!set) { set = new Set(); this.learnedBy.set(owner, set); }
    set.add(learned);
  }

  /** OFPGC_ADD (replacing an existing group of that id, like OFPGC_MODIFY). */
  addGroup(g: Group): void {
    this.groups.set(g.id, g);
    this.generation++;
  }

  /** OFPGC_DELETE; deleting a group does not delete the rules that refer to it here. */
  deleteGroup(id: number): boolean {
    const ok = this.groups.delete(id);
    if (ok) this.generation++;
    return ok;
  }

  /** Packets looked up in and matched by each table (OpenFlow table stats), from the datapath. */
  readonly lookupCounts = new Float64Array(N_TABLES);
  readonly matchedCounts = new Float64Array(N_TABLES);

  /** Credits `packets` to the tables of a translation's lookups (xlate's `lookups`). */
  creditLookups(lookups: readonly number[], packets: number): void {
    for (let i = 0; i < lookups.length; i++) {
      const l = lookups[i]!;
      const t = l & 0xff;
      this.lookupCounts[t] += packets;
      if (l & LOOKUP_MATCHED) this.matchedCounts[t] += packets;
    }
  }

  /** Credits datapath statistics to a rule (from the revalidator); `used` refreshes idle age. */
  credit(r: Rule, packets: number, bytes: number, used: number = this.now()): void {
    r.packets += packets;
    r.bytes += bytes;
    if (packets > 0 && used > r.used) r.used = used;
  }

  /**
   * Removes the rules whose idle or hard timeout has passed at `now` and returns them with the
   * reason. The caller sends flow-removed for those with sendFlowRem.
   */
  expire(now: number = this.now()): RemovedRule[] {
    const out: RemovedRule[] = [];
    for (const r of this.timed) {
      if (r.hardTimeout && now - r.created >= r.hardTimeout * 1000) out.push({ rule: r, reason: 'hard_timeout' });
      else if (r.idleTimeout && now - r.used >= r.idleTimeout * 1000) out.push({ rule: r, reason: 'idle_timeout' });
    }
    for (const { rule, reason } of out) this.removeRule(rule, reason);
    return out;
  }

  /** All rules but hidden ones, by table then priority (highest first), as dump-flows orders them. */
  allRules(table?: number): Rule[] {
    const ids = table === undefined ? this.tableIds() : [table];
    const out: Rule[] = [];
    for (const id of ids) {
      const rs = [...this.classifiers(id)].flatMap((c) => [...c.rules()]).filter((r) => r.priority <= MAX_PRIORITY);
      rs.sort((a, b) => b.priority - a.priority);
      out.push(...rs);
    }
    return out;
  }

  dumpFlows(table?: number, now: number = this.now()): string[] {
    return this.allRules(table).map((r) => formatFlowStats(r, now));
  }
}
