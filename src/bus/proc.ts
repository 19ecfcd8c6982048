/**
 * Small /proc readers for supervising the embedded nats-server (Linux only, like bvs).
 * A zombie counts as gone: it holds no port and no files, only an exit status for its parent.
 *
 * Neighbours: none.
 */
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** State letter and parent pid from /proc/PID/stat, or null if there is no such process. */
export async function procStat(pid: number): Promise<{ state: string; ppid: number } | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid ...": comm may hold spaces and ')', so parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

/** True when the process exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  const st = await procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

/** argv of a process, or null. */
export async function procArgv(pid: number): Promise<string[] | null> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, a) => !(s === '' && i === a.length - 1));
  } catch {
    return null;
  }
}

/** Polls until the process is gone or `ms` elapse; returns true if it is gone. */
export async function waitGone(pid: number, ms: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (!(await isAlive(pid))) return true;
    if (Date.now() >= end) return false;
    await sleep(stepMs);
  }
}

/** process.kill that ignores ESRCH (already gone). */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
