/**
 * A fake datapath for unit tests of src/vswitch: the DatapathLike methods over in-memory
 * megaflows, with hooks to make errors and to "hit" flows as the kernel would.
 */
import {
  DatapathError, emptyKey, FLOW_FIELDS, keyMatches, maskKey,
  type DpAction, type DpFlow, type DpStats, type FlowEntry, type FlowKey, type FlowMask, type Port, type PortStats, type PutMode, type Upcall,
} from '../../src/datapath/index.ts';
import type { DatapathLike } from '../../src/vswitch/index.ts';

/** The fake's flow id: the masked key and the mask, field by field. */
export function flowId(k: FlowKey, m: FlowMask): string {
  return `${FLOW_FIELDS.map((f) => String(k[f])).join(',')}/${FLOW_FIELDS.map((f) => String(m[f])).join(',')}`;
}

export class FakeDatapath implements DatapathLike {
  readonly flows = new Map<string, DpFlow>();
  readonly executed: { frame: Uint8Array; actions: readonly DpAction[]; inPort: number }[] = [];
  /** The action upcalls the kernel's exec program would send for executed userspace actions
   *  (the frames made by missUpcall keep their key); a test feeds them back to handleBatch. */
  readonly actionUpcalls: Upcall[] = [];
  readonly ports: Port[] = [];
  nowNs = 1_000_000_000n;
  failNext: DatapathError['code'] | undefined;
  onBatch: ((b: Upcall[]) => void) | undefined;
  ringClosed = false;
  maxBatch = 0;

  constructor(readonly name = 'br0') {}

  addPort(portNo: number, name: string): void {
    this.ports.push({ portNo, name, ifindex: 100 + portNo, flags: 0 });
  }

  putFlow(key: FlowKey, mask: FlowMask, actions: readonly DpAction[], mode: PutMode = 'put'): string {
    if (this.failNext) { const c = this.failNext; this.failNext = undefined; throw new DatapathError(c, c); }
    const k = maskKey(key, mask);
    const id = flowId(k, mask);
    const old = this.flows.get(id);
    if (old && mode === 'add') throw new DatapathError('FLOW_EXISTS', 'flow already exists');
    if (!old && mode === 'modify') throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
    this.flows.set(id, { key: k, mask: { ...mask }, actions: [...actions],
      stats: old?.stats ?? { packets: 0n, bytes: 0n, usedNs: 0n, tcpFlags: 0 } });
    return id;
  }

  delFlow(key: FlowKey, mask: FlowMask): void {
    if (!this.flows.delete(flowId(maskKey(key, mask), mask))) throw new DatapathError('NO_SUCH_FLOW', 'no such flow');
  }

  dumpFlows(): DpFlow[] {
    return [...this.flows.values()].map((f) => ({ ...f, stats: { ...f.stats } }));
  }

  /** Flows per chunk of dumpFlowEntries (the real one takes `batch`; tests want small ones). */
  chunkSize = 0;
  /** Called when the consumer asks for the next chunk (for a sliced pass: after its yield). */
  betweenChunks: ((chunk: number) => void) | undefined;
  /** Entries decoded with flow() (the revalidator should decode only what it must). */
  decoded = 0;
  *dumpFlowEntries(batch = 1024): Generator<FlowEntry[]> {
    const all = [...this.flows.entries()].map(([id, f]): FlowEntry => {
      const copy = { ...f, stats: { ...f.stats } };
      return { id, stats: copy.stats, flow: () => { this.decoded++; return copy; } };
    });
    const n = this.chunkSize || batch;
    for (let i = 0, c = 0; i < all.length; i += n, c++) {
      if (c > 0) this.betweenChunks?.(c);
      yield all.slice(i, i + n);
    }
  }

  execute(frame: Uint8Array, actions: readonly DpAction[], inPort: number): void {
    this.executed.push({ frame, actions, inPort });
    const key = KEY_OF_FRAME.get(frame);
    for (const a of actions) {
      if (a.type !== 'userspace' || !key) continue;
      this.actionUpcalls.push({ type: 'action', port: inPort, pktLen: frame.length, cookie: a.cookie ?? 0n, pid: a.pid ?? 0, key, packet: frame });
    }
  }

  onError: ((e: Error) => void) | undefined;
  openUpcalls(onBatch: (batch: Upcall[]) => void, maxBatch = 64, onError?: (e: Error) => void): { close(): void } {
    this.onBatch = onBatch;
    this.onError = onError;
    this.maxBatch = maxBatch;
    this.ringClosed = false;
    return { close: () => { this.ringClosed = true; this.onBatch = undefined; } };
  }

  listPorts(): Port[] { return this.ports; }
  portStats(portNo: number): PortStats {
    return { rxPackets: BigInt(portNo), rxBytes: 100n, rxDropped: 0n, txPackets: 2n, txBytes: 200n, txDropped: 1n };
  }
  stats(): DpStats {
    return { hit: 5n, missed: 3n, lost: 0n, maskHit: 5n, maskCacheHit: 1n, flows: this.flows.size, masks: 1 };
  }
  maxFlows(): number { return 65536; }

  /** The kernel's view: the flow a packet with `key` hits, if any; counts the hit. */
  hit(key: FlowKey, bytes = 100): DpFlow | undefined {
    for (const f of this.flows.values()) {
      if (keyMatches(key, f.key, f.mask)) {
        f.stats.packets++; f.stats.bytes += BigInt(bytes); f.stats.usedNs = this.nowNs;
        return f;
      }
    }
    return undefined;
  }
}

export function macNum(s: string): number {
  return parseInt(s.replace(/:/g, ''), 16);
}

/** An IPv4/UDP key from in_port (datapath port), MACs and ports. */
export function udpKey(inPort: number, src: string, dst: string, tpDst = 53, tpSrc = 1000): FlowKey {
  return { ...emptyKey(), inPort, ethSrc: macNum(src), ethDst: macNum(dst), ethType: 0x0800, ipProto: 17,
    ipv4Src: 0x0a000001, ipv4Dst: 0x0a000002, ipTtl: 64, tpSrc, tpDst };
}

/** The key each missUpcall frame stands for (the fake parses no frames). */
const KEY_OF_FRAME = new WeakMap<Uint8Array, FlowKey>();

export function missUpcall(key: FlowKey, len = 60): Upcall {
  const packet = new Uint8Array(len);
  KEY_OF_FRAME.set(packet, key);
  return { type: 'miss', port: key.inPort, pktLen: len, cookie: 0n, pid: 0, key, packet };
}
