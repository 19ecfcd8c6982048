/** A minimal pipelining JSON-RPC client for the benchmark (same client for both servers). */
import * as net from 'node:net';
import { JsonSplitter } from '../../src/ovsdb/index.ts';

export class BenchClient {
  private splitter = new JsonSplitter();
  private nextId = 1;
  private waiting = new Map<number, (m: Record<string, unknown>) => void>();
  onNote: (m: Record<string, unknown>) => void = () => undefined;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      for (const t of this.splitter.push(d)) {
        const m = JSON.parse(t) as Record<string, unknown>;
        if (m.id === null) this.onNote(m);
        else {
          const w = this.waiting.get(m.id as number);
          this.waiting.delete(m.id as number);
          w?.(m);
        }
      }
    });
  }

  static connect(path: string): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => {
        s.setNoDelay(true);
        resolve(new BenchClient(s));
      });
      s.once('error', reject);
    });
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    const m = await new Promise<Record<string, unknown>>((resolve) => {
      this.waiting.set(id, resolve);
      this.sock.write(JSON.stringify({ method, params, id }));
    });
    if (m.error !== null && m.error !== undefined) throw new Error(`${method}: ${JSON.stringify(m.error)}`);
    const r = m.result;
    if (Array.isArray(r)) for (const x of r) if (x && typeof x === 'object' && 'error' in x) throw new Error(`${method}: ${JSON.stringify(x)}`);
    return r;
  }

  close(): void {
    this.sock.destroy();
  }
}
