import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.ts';
import type { HubConfig } from './config-schema.ts';
import type { CallCore } from './core/call-core.ts';
import { Access } from './security/access.ts';
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
  /**
   * [S-6] `closed`: `NEW` and `/create` are refused as forbidden (accounts come from the
   * admin) except while a pairing window is open; `open`: anyone may create one.
   */
  registration: 'open' | 'closed';
  /** [S-8] A connection that has not logged in this long after accept is closed. */
  loginDeadlineMs: number;
  /**
   * [S-7] A throttled login is answered this much later (a tarpit): without it, an
   * attacker refused without a password check asks again at once, tens of thousands of
   * times a second, and the hub's CPU goes to refusing it.
   */
  throttledReplyDelayMs: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  idleTimeoutMs: 90_000,
  maxOutputBytes: 256 * 1024,
  maxPendingRequests: 32,
  maxFrame: 64 * 1024,
  registration: 'closed',
  loginDeadlineMs: 10_000,
  throttledReplyDelayMs: 250,
};

/** The connection limits a config asks for. */
export function limitsOf(config: HubConfig): ConnectionLimits {
  return {
    ...DEFAULT_LIMITS,
    idleTimeoutMs: config.idle_timeout * 1000,
    maxFrame: config.max_frame,
    registration: config.registration,
    loginDeadlineMs: config.connections.login_deadline * 1000,
  };
}

/**
 * What the dialect adapters share: the call core, the accounts, time (every connection's
 * idle timeout, login deadline and close grace run on `clock`), logs, limits, and the
 * access rules of section S (registration, login throttle, pre-login caps).
 */
export interface HubContext {
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limits: ConnectionLimits;
  readonly access: Access;
}

/**
 * The context `Hub.start` builds, and the in-process test hub too, so the two cannot
 * drift: one `Access` per hub, shared by every listener and both dialects.
 */
export function buildContext(parts: {
  config: HubConfig;
  core: CallCore;
  accounts: AccountStore;
  clock: Clock;
  log: Logger;
  limits?: Partial<ConnectionLimits> | undefined;
}): HubContext {
  const { config, clock, log } = parts;
  const limits: ConnectionLimits = { ...limitsOf(config), ...parts.limits };
  const access = new Access({
    clock,
    log: log.child({ mod: 'access' }),
    registration: limits.registration,
    loginThrottle: config.login_throttle,
    perAddress: config.connections.prelogin_per_address,
    total: config.connections.prelogin_total,
    throttledReplyDelayMs: limits.throttledReplyDelayMs,
  });
  return { core: parts.core, accounts: parts.accounts, clock, log, limits, access };
}
