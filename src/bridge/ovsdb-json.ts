/**
 * zod schemas for RFC 7047 §5.1 JSON notation, as rows read from the database carry it: a set
 * column is a scalar or ["set", [...]], a map is ["map", [[k, v], ...]], a uuid is
 * ["uuid", "..."]. Each turns into the plain value the configuration uses.
 */
import { z } from 'zod';

export const uuid = z.tuple([z.literal('uuid'), z.string()]).transform((u) => u[1]);
export function ovsSet<T extends z.ZodType>(inner: T) {
  return z.union([z.tuple([z.literal('set'), z.array(inner)]).transform((s) => s[1]), inner.transform((v) => [v])]);
}
export const ovsMap = z.tuple([z.literal('map'), z.array(z.tuple([z.string(), z.string()]))])
  .transform((m) => Object.fromEntries(m[1]) as Record<string, string>);
export const optInt = ovsSet(z.number().int()).transform((a) => (a.length ? a[0] : undefined));
