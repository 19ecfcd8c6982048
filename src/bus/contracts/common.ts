/**
 * Schemas shared by every contract: names, integers, the reply envelope.
 *
 * Policy (see docs/nats.md):
 * - Requests are strict objects: an unknown field is an error naming that field, so a typo
 *   (`brdige`) is reported instead of silently ignored.
 * - Replies and events are plain objects (unknown fields stripped): a newer daemon may add fields
 *   without breaking an older CLI.
 * - u64 counters are bigints in memory and a JSON number (≤ 2^53-1) or decimal string on the wire.
 */
import { z } from 'zod';

const U64_MAX = (1n << 64n) - 1n;

/** Unsigned 64-bit integer: accepts bigint, safe integer, or decimal string; yields bigint. */
export const u64 = z
  .union([z.bigint(), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().regex(/^[0-9]{1,20}$/, 'expected a decimal u64')])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v <= U64_MAX, 'out of u64 range');

/** Non-negative safe integer (gauges, counts that never approach 2^53). */
export const count = z.number().int().nonnegative();

/**
 * A Linux netdev name, which bridge and port names are (they become TC attach points and, for
 * internal ports, devices): 1..15 bytes (IFNAMSIZ-1), no '/', ':' or whitespace, not '.' or '..'
 * (the kernel's dev_valid_name()).
 */
export const netdevName = z
  .string()
  .min(1, 'must not be empty')
  .max(15, 'at most 15 characters (IFNAMSIZ)')
  .regex(/^[^\s/:]+$/, "must not contain whitespace, '/' or ':'")
  .refine((s) => s !== '.' && s !== '..', "must not be '.' or '..'");

export const bridgeName = netdevName;
export const portName = netdevName;

/** An OpenFlow port number (OpenFlow 1.0 16-bit space; LOCAL is 65534 as in OVS). */
export const ofport = z.number().int().min(0).max(0xffff);
export const OFPP_LOCAL = 0xfffe;

/** An 802.1Q VLAN id as OVS uses it: 0..4095 (IEEE 802.1Q §9.6). */
export const vlanId = z.number().int().min(0).max(4095);

/** A MAC address in the usual colon form. */
export const mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i, 'expected xx:xx:xx:xx:xx:xx');

/** An OpenFlow flow or match in ovs-ofctl syntax; ofproto parses it, the bus only bounds it. */
export const flowText = z.string().min(1, 'must not be empty').max(65536);

/** Empty request: `{}` (an empty payload decodes to `{}` as well). */
export const emptyRequest = z.strictObject({});

/** The error half of a reply envelope. */
export const replyError = z.object({
  code: z.string().min(1),
  message: z.string(),
  field: z.string().optional(),
});
export type ReplyError = z.infer<typeof replyError>;

/**
 * Every reply is `{ ok: true, result } | { ok: false, error: { code, message, field? } }`.
 * The result is validated separately against the command's reply schema, so the envelope alone
 * can be checked first (a useful error even when the result is unreadable).
 */
export const replyEnvelope = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: replyError }),
]);
export type ReplyEnvelope = z.infer<typeof replyEnvelope>;
