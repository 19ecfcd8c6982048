/**
 * Locks (RFC 7047 §4.1.8-4.1.10): named, advisory, per session. `lock` queues the session behind
 * the owner; `steal` takes the lock at once and tells the previous owner ("stolen"); releasing
 * (unlock or disconnect) hands the lock to the first waiter ("locked").
 * Neighbours: none. The server passes sessions in as LockHolders.
 */
export interface LockHolder {
  notify(method: 'locked' | 'stolen', params: unknown[]): void;
}

interface LockState {
  owner: LockHolder | null;
  waiters: LockHolder[];
}

export class LockManager {
  private locks = new Map<string, LockState>();

  private state(name: string): LockState {
    let s = this.locks.get(name);
    if (!s) this.locks.set(name, (s = { owner: null, waiters: [] }));
    return s;
  }

  owns(who: LockHolder, name: string): boolean {
    return this.locks.get(name)?.owner === who;
  }

  isQueued(who: LockHolder, name: string): boolean {
    const s = this.locks.get(name);
    return !!s && (s.owner === who || s.waiters.includes(who));
  }

  /** Returns true if granted now; otherwise the holder is queued and notified later. */
  lock(who: LockHolder, name: string): boolean {
    const s = this.state(name);
    if (!s.owner) {
      s.owner = who;
      return true;
    }
    if (s.owner !== who && !s.waiters.includes(who)) s.waiters.push(who);
    return s.owner === who;
  }

  steal(who: LockHolder, name: string): void {
    const s = this.state(name);
    const prev = s.owner;
    s.waiters = s.waiters.filter((w) => w !== who);
    s.owner = who;
    // The previous owner keeps waiting, as in ovsdb-server: it gets the lock back when released.
    if (prev && prev !== who) {
      s.waiters.unshift(prev);
      prev.notify('stolen', [name]);
    }
  }

  unlock(who: LockHolder, name: string): void {
    const s = this.locks.get(name);
    if (!s) return;
    s.waiters = s.waiters.filter((w) => w !== who);
    if (s.owner === who) {
      s.owner = s.waiters.shift() ?? null;
      s.owner?.notify('locked', [name]);
    }
    if (!s.owner && !s.waiters.length) this.locks.delete(name);
  }

  releaseAll(who: LockHolder): void {
    for (const name of [...this.locks.keys()]) this.unlock(who, name);
  }
}
