// Shared test helpers: unique temp run dirs, removed by cleanup().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A fresh, unique run dir (process.pid + random suffix, via mkdtemp). */
export function tempRunDir(tag: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bvs-bus-${tag}-${process.pid}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
