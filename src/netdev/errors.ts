/** Named errors of src/netdev. `code` is a stable machine-readable reason. */

export type NetdevErrorCode = 'NO_SUCH_INTERFACE' | 'INTERNAL_PORT';

export class NetdevError extends Error {
  override name = 'NetdevError';
  constructor(readonly code: NetdevErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
