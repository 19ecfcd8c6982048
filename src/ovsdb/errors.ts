/**
 * OVSDB errors. RFC 7047 §3.1/§4.1.3 fixes a small vocabulary of error strings; every failure in
 * src/ovsdb is an OvsdbError carrying one of them plus human-readable details, so the wire layer
 * can render `{"error": tag, "details": text}` without guessing.
 * Neighbours: none (leaf module).
 */

/** RFC 7047 error strings (plus the OVS ones the real clients know). */
export const OvsdbErrorTag = {
  referentialIntegrity: 'referential integrity violation',
  constraint: 'constraint violation',
  resources: 'resources exhausted',
  io: 'I/O error',
  duplicateUuidName: 'duplicate uuid-name',
  domain: 'domain error',
  range: 'range error',
  timedOut: 'timed out',
  notSupported: 'not supported',
  aborted: 'aborted',
  canceled: 'canceled',
  notOwner: 'not owner',
  syntax: 'syntax error',
  unknownColumn: 'unknown column',
  unknownTable: 'unknown table',
  unknownDatabase: 'unknown database',
  unknownMethod: 'unknown method',
  duplicateUuid: 'duplicate uuid',
  unknownMonitor: 'unknown monitor',
  duplicateMonitor: 'duplicate monitor ID',
  notAllowed: 'not allowed',
  permissionDenied: 'permission error',
} as const;
export type OvsdbErrorTagValue = (typeof OvsdbErrorTag)[keyof typeof OvsdbErrorTag];

export class OvsdbError extends Error {
  override name = 'OvsdbError';
  constructor(
    readonly tag: OvsdbErrorTagValue,
    readonly details?: string,
    options?: { cause?: unknown },
  ) {
    super(details ? `${tag}: ${details}` : tag, options);
  }
  /** The RFC 7047 error object. */
  toJSON(): { error: string; details?: string } {
    return this.details === undefined ? { error: this.tag } : { error: this.tag, details: this.details };
  }
}

export class OvsdbSyntaxError extends OvsdbError {
  override name = 'OvsdbSyntaxError';
  constructor(details: string, options?: { cause?: unknown }) {
    super(OvsdbErrorTag.syntax, details, options);
  }
}

export class OvsdbConstraintError extends OvsdbError {
  override name = 'OvsdbConstraintError';
  constructor(details: string) {
    super(OvsdbErrorTag.constraint, details);
  }
}

export class OvsdbReferentialIntegrityError extends OvsdbError {
  override name = 'OvsdbReferentialIntegrityError';
  constructor(details: string) {
    super(OvsdbErrorTag.referentialIntegrity, details);
  }
}

/** Journal/storage failures: corrupt files, failed fsync. */
export class OvsdbStorageError extends Error {
  override name = 'OvsdbStorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Schema files that do not follow RFC 7047 §3.2. */
export class OvsdbSchemaError extends Error {
  override name = 'OvsdbSchemaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
