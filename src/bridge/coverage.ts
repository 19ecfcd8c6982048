/**
 * Coverage: the daemon's event counters, as OVS's lib/coverage.c keeps them and
 * `ovs-appctl coverage/show` prints them. Every resource limit of issue 9 (flow table full,
 * mask slots full, the flow limit, the port table full, too many connections) is one of these
 * events, so hitting a limit is counted and visible, never a silent error counter; the code
 * that hits it also logs it (at most once a second per source, so a flood cannot flood the log).
 *
 * Rates, as OVS computes them: sample() is called every SAMPLE_SECONDS (the daemon's timer);
 * each call closes one slot holding the counts of that interval. The "5 seconds" rate is the
 * last slot / 5, "last minute" the last 12 slots / 60, "last hour" the last 60 minute sums /
 * 3600. Before a window has filled the divisor is still the full window, as in OVS.
 *
 * Invariant: the set of names is fixed at construction (EVENTS), so `inc` of an unknown name is
 * a programming error and throws; counters only grow.
 */

/** The events, with what each counts. Names follow OVS's where OVS has the same event. */
export const EVENTS = new Map<string, string>([
  ['upcall_flow_limit_hit', 'a miss not installed: the datapath held flow-limit flows'],
  ['dpif_flow_put_table_full', 'a megaflow install refused: the datapath flow table is full'],
  ['dpif_flow_put_masks_full', 'a megaflow install refused: every datapath mask slot is in use'],
  ['revalidator_flow_limit_del', 'a megaflow deleted to get back under the flow limit'],
  ['upcall_packet_in_dropped', 'a packet-in dropped by the rate limit'],
  ['dpif_port_add_table_full', 'a port not attached: the datapath port table is full'],
  ['ofconn_mgmt_rejected', 'an OpenFlow management connection closed at accept: the bridge is at its connection limit'],
  ['jsonrpc_conn_rejected', 'an OVSDB connection closed at accept: the listener is at its connection limit'],
  ['daemon_unhandled_rejection', 'an unhandled promise rejection, logged and survived'],
]);

/** What code that counts needs (src/vswitch and src/ovsdb take this shape, not the class). */
export interface CoverageSink {
  inc(name: string, n?: number): void;
}

export const SAMPLE_SECONDS = 5;
const MIN_SLOTS = 60 / SAMPLE_SECONDS;
const HOUR_SLOTS = 60;

export interface CoverageLine {
  name: string;
  total: number;
  /** Events per second over the last 5 s, minute and hour. */
  rate5s: number;
  rateMinute: number;
  rateHour: number;
}

export class Coverage implements CoverageSink {
  private readonly totals = new Map<string, number>();
  /** Total at the last sample, per name. */
  private readonly atSample = new Map<string, number>();
  /** Per name: counts of the last MIN_SLOTS intervals (newest last). */
  private readonly slots = new Map<string, number[]>();
  /** Per name: counts per minute, the minute in progress last; at most HOUR_SLOTS entries. */
  private readonly minutes = new Map<string, number[]>();
  private slotInMinute = 0;

  constructor(readonly events: ReadonlyMap<string, string> = EVENTS) {
    for (const name of events.keys()) {
      this.totals.set(name, 0);
      this.atSample.set(name, 0);
      this.slots.set(name, []);
      this.minutes.set(name, [0]);
    }
  }

  inc(name: string, n = 1): void {
    const t = this.totals.get(name);
    if (t === undefined) throw new RangeError(`coverage: no event named ${name}`);
    this.totals.set(name, t + n);
  }

  total(name: string): number {
    return this.totals.get(name) ?? 0;
  }

  /** Closes one SAMPLE_SECONDS interval. */
  sample(): void {
    this.slotInMinute++;
    const minuteDone = this.slotInMinute === MIN_SLOTS;
    if (minuteDone) this.slotInMinute = 0;
    for (const [name, total] of this.totals) {
      const delta = total - this.atSample.get(name)!;
      this.atSample.set(name, total);
      const s = this.slots.get(name)!;
      s.push(delta);
      if (s.length > MIN_SLOTS) s.shift();
      const m = this.minutes.get(name)!;
      m[m.length - 1]! += delta;
      if (minuteDone) {
        m.push(0);
        if (m.length > HOUR_SLOTS) m.shift();
      }
    }
  }

  /** Every event with its total and rates, in the order of `events`. */
  lines(): CoverageLine[] {
    return [...this.events.keys()].map((name) => {
      const s = this.slots.get(name)!;
      // The hour: the last closed minutes and the minute in progress, HOUR_SLOTS in all.
      const hour = this.minutes.get(name)!.reduce((a, b) => a + b, 0);
      return {
        name,
        total: this.totals.get(name)!,
        rate5s: (s.at(-1) ?? 0) / SAMPLE_SECONDS,
        rateMinute: s.reduce((a, b) => a + b, 0) / 60,
        rateHour: hour / 3600,
      };
    });
  }
}
