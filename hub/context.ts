import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.ts';
import type { CallCore } from './core/call-core.ts';
import type { AccountStore } from './store/accounts.ts';

/** Limits every connection lives under. */
export interface ConnectionLimits {
  /** [T-12] A connection silent for longer than this is closed. */
  idleTimeoutMs: number;
  /** A client that stops reading is dropped once this much output is queued for it. */
  maxOutputBytes: number;
  /** Requests read ahead of the one being handled before reading pauses (backpressure). */
  maxPendingRequests: number;
  /** [B-3] Largest binary frame accepted, from its declared sizes. */
  maxFrame: number;
  /** `closed`: `NEW` and `/create` are refused as forbidden (accounts come from the admin). */
  registration: 'open' | 'closed';
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  idleTimeoutMs: 90_000,
  maxOutputBytes: 256 * 1024,
  maxPendingRequests: 32,
  maxFrame: 64 * 1024,
  registration: 'open',
};

/**
 * What the dialect adapters share: the call core, the accounts, time (every connection's
 * idle timeout and close grace run on `clock`), logs and limits.
 */
export interface HubContext {
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limits: ConnectionLimits;
}
