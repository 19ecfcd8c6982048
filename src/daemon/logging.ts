/**
 * Structured logging: pino, one JSON object per line on stderr (fd 2, synchronous so a crash
 * loses nothing). Components log through child loggers carrying `component` (and `bridge`,
 * `port` where they apply), so `jq 'select(.component=="port")'` filters a subsystem.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, dest: number = 2): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest, sync: true }));
}

/** A logger that drops everything (unit tests of machines). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
