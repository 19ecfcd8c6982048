/** Small helpers shared by the daemon tests. */
import crypto from 'node:crypto';
export { run } from './helpers.ts';

/** A short unique tag (interface names are at most 15 characters). */
export function uniqueTag(): string {
  return `${(process.pid % 1296).toString(36)}${crypto.randomBytes(2).toString('hex')}`;
}
