import type { Clock } from '../../shared/clock.ts';

/**
 * [S-7] Login throttling, for both dialects. Failed logins are counted per source
 * address and per (address, account); past `maxFailures` in `windowMs`, attempts from
 * there are refused without a password check for a delay that doubles up to
 * `maxDelayMs`. A success clears the (address, account) pair. Nothing is counted per
 * account alone, so a stranger's failures never slow another address that logs in to
 * the same account: a device cannot be locked out of its own account from elsewhere.
 *
 * Pure bookkeeping over an injected clock; memory is bounded by `maxEntries` (the oldest
 * entries go first, which at worst forgets an attacker's count early).
 */
export interface LoginThrottleOptions {
  clock: Clock;
  /** Failures tolerated in one window before attempts are refused. Default 5. */
  maxFailures?: number;
  /** The window failures are counted in. Default 60 s. */
  windowMs?: number;
  /** The first refusal delay; it doubles at each further failure. Default 15 s. */
  baseDelayMs?: number;
  /** The longest refusal delay. Default 5 min. */
  maxDelayMs?: number;
  /** Most keys remembered at once. Default 10,000. */
  maxEntries?: number;
}

/** What `check` says: go ahead with the password check, or refuse for `retryAfterMs`. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Entry {
  /** Times of the failures inside the window, oldest first. */
  failures: number[];
  /** Refused until this time (clock ms); 0 when not blocked. */
  blockedUntil: number;
  /** The delay of the next block. */
  nextDelayMs: number;
  /** Blocked before and not yet quiet for long: the next failure blocks again. */
  probation: boolean;
}

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  /** Addresses that have logged in to an account, most recent last (a few per account). */
  readonly #known = new Map<string, string[]>();

  constructor(options: LoginThrottleOptions) {
    this.#clock = options.clock;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#baseDelayMs = options.baseDelayMs ?? 15_000;
    this.#maxDelayMs = options.maxDelayMs ?? 300_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Whether a login of `account` from `address` may have its password checked now. */
  check(address: string, account: string): ThrottleVerdict {
    const now = this.#clock.now();
    let wait = 0;
    for (const key of this.#keys(address, account)) {
      const e = this.#entries.get(key);
      if (e && e.blockedUntil > now) wait = Math.max(wait, e.blockedUntil - now);
    }
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /**
   * A password check failed (or the account does not exist). Once a key has been
   * blocked it stays on probation: every further failure blocks it again, for twice as
   * long, until it has been quiet for a window past the longest delay.
   */
  failure(address: string, account: string): void {
    const now = this.#clock.now();
    for (const key of this.#keys(address, account)) {
      const e = this.#touch(key);
      const last = e.failures.at(-1);
      if (e.probation && last !== undefined && now - last >= this.#windowMs + this.#maxDelayMs) {
        e.probation = false;
        e.nextDelayMs = this.#baseDelayMs;
      }
      e.failures = e.failures.filter((t) => now - t < this.#windowMs);
      e.failures.push(now);
      if (e.probation || e.failures.length > this.#maxFailures) {
        e.probation = true;
        e.blockedUntil = now + e.nextDelayMs;
        e.nextDelayMs = Math.min(e.nextDelayMs * 2, this.#maxDelayMs);
      }
    }
    this.#prune(now);
  }

  /** A login succeeded: the pair starts afresh and the address is known to the account. */
  success(address: string, account: string): void {
    this.#entries.delete(pairKey(address, account));
    const known = (this.#known.get(account) ?? []).filter((a) => a !== address);
    known.push(address);
    if (known.length > KNOWN_PER_ACCOUNT) known.shift();
    this.#known.delete(account);
    this.#known.set(account, known);
    if (this.#known.size > this.#maxEntries) {
      const oldest = this.#known.keys().next();
      if (!oldest.done) this.#known.delete(oldest.value);
    }
  }

  /** The keys a login is counted under: the address, the pair, and the account unless known. */
  #keys(address: string, account: string): string[] {
    const keys = [address, pairKey(address, account)];
    if (!this.#known.get(account)?.includes(address)) keys.push(accountKey(account));
    return keys;
  }

  /** Keys remembered (for tests and statistics). */
  get size(): number {
    return this.#entries.size;
  }

  #touch(key: string): Entry {
    let e = this.#entries.get(key);
    if (e) {
      this.#entries.delete(key); // re-insert: Map order is our recency order
    } else {
      e = { failures: [], blockedUntil: 0, nextDelayMs: this.#baseDelayMs, probation: false };
    }
    this.#entries.set(key, e);
    return e;
  }

  /** Forgets entries with nothing left to remember, then the oldest past the cap. */
  #prune(now: number): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const [key, e] of this.#entries) {
      const quietMs = now - (e.failures.at(-1) ?? 0);
      const forgettable = e.probation ? this.#windowMs + this.#maxDelayMs : this.#windowMs;
      if (e.blockedUntil <= now && quietMs >= forgettable) this.#entries.delete(key);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}

function pairKey(address: string, account: string): string {
  return `${address}\u0000${account}`;
}

function accountKey(account: string): string {
  return `\u0000${account}`;
}

/** How many addresses an account remembers as its own. */
const KNOWN_PER_ACCOUNT = 8;
