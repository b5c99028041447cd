import type { CallFailure } from './types.ts';

/** A refused call operation; `reason` is the wire token (`404 <name> <reason>`). */
export class CallError extends Error {
  readonly reason: CallFailure;

  constructor(reason: CallFailure, message?: string) {
    super(message ?? reason);
    this.name = 'CallError';
    this.reason = reason;
  }
}
