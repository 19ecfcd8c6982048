/**
 * zod schemas for JSON-RPC params (the one place untrusted params are validated, per STYLE.md).
 * A failure becomes a "syntax error" naming the method and the offending position.
 * Neighbours: errors.ts.
 */
import { z } from 'zod';
import { OvsdbSyntaxError } from './errors.ts';

const requests = z.record(z.string(), z.unknown());
export const Params = {
  list_dbs: z.array(z.unknown()),
  get_schema: z.tuple([z.string()]),
  transact: z.tuple([z.string()]).rest(z.unknown()),
  cancel: z.tuple([z.unknown()]),
  monitor: z.tuple([z.string(), z.unknown(), requests]),
  monitor_cond: z.tuple([z.string(), z.unknown(), requests]),
  monitor_cond_since: z.tuple([z.string(), z.unknown(), requests]).rest(z.unknown()),
  monitor_cond_change: z.tuple([z.unknown(), z.unknown(), requests]),
  monitor_cancel: z.tuple([z.unknown()]),
  lock: z.tuple([z.string()]),
  steal: z.tuple([z.string()]),
  unlock: z.tuple([z.string()]),
  echo: z.array(z.unknown()),
  set_db_change_aware: z.tuple([z.boolean()]),
  get_server_id: z.array(z.unknown()),
} as const;
export type Method = keyof typeof Params;

export function isMethod(m: string): m is Method {
  return Object.hasOwn(Params, m);
}

export function parseParams<M extends Method>(method: M, params: unknown): z.infer<(typeof Params)[M]> {
  const r = Params[method].safeParse(params);
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i.path.length ? `params[${i.path.join('][')}]` : 'params';
    throw new OvsdbSyntaxError(`${method}: ${where}: ${i.message}`);
  }
  return r.data as z.infer<(typeof Params)[M]>;
}
