/** Named errors of the datapath layer. `code` is a stable machine-readable reason. */

export type DatapathErrorCode =
  | 'NO_SUCH_DATAPATH' | 'DATAPATH_EXISTS' | 'INCOMPATIBLE_PINS' | 'NO_BPFFS' | 'BAD_RING_SIZE'
  | 'NO_SUCH_PORT' | 'PORT_EXISTS' | 'NO_SUCH_INTERFACE' | 'PORT_NUMBER' | 'PORT_TABLE_FULL'
  | 'FLOW_EXISTS' | 'NO_SUCH_FLOW' | 'FLOW_TABLE_FULL' | 'MASKS_FULL' | 'TOO_MANY_ACTIONS'
  | 'BAD_PACKET' | 'SYSTEM';

export class DatapathError extends Error {
  override name = 'DatapathError';
  constructor(readonly code: DatapathErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The errno name carried by an addon error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
