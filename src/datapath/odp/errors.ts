/**
 * The one error class of the ODP syntax module.
 *
 * Every parse failure names where it happened (a 0-based character offset into the text the
 * caller passed) and the offending text, so a CLI can underline it and a test can assert on it.
 */
export class OdpSyntaxError extends Error {
  override name = 'OdpSyntaxError';
  /** 0-based offset of `token` in the text given to parseFlow / parseActions. */
  readonly position: number;
  /** The offending text (an attribute, field, value or single character). */
  readonly token: string;

  constructor(position: number, token: string, what: string, options?: { cause?: unknown }) {
    super(`odp: at ${position}, ${what}`, options);
    this.position = position;
    this.token = token;
  }
}
