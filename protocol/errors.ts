/**
 * A few named errors that carry what goes on the wire, so an adapter can turn any of
 * them into a reply without a lookup table.
 */
import { Status } from './codes.ts';

/** A request that violates the contract. `code` is the wire status; `reason` its token. */
export class ProtocolError extends Error {
  readonly code: number;
  readonly reason: string;
  /** When true the connection must be closed after the reply is written. */
  readonly fatal: boolean;

  constructor(code: number, reason: string, message?: string, fatal = false) {
    super(message ?? `${code} ${reason}`);
    this.name = 'ProtocolError';
    this.code = code;
    this.reason = reason;
    this.fatal = fatal;
  }
}

/** A frame or line too large to accept: `400` in both dialects, always fatal to the connection. */
export class FrameTooLargeError extends ProtocolError {
  readonly declared: number;
  readonly limit: number;

  constructor(reason: string, declared: number, limit: number) {
    super(
      Status.BAD_REQUEST,
      reason,
      `${reason}: ${declared} bytes exceeds the ${limit} byte limit`,
      true,
    );
    this.name = 'FrameTooLargeError';
    this.declared = declared;
    this.limit = limit;
  }
}
