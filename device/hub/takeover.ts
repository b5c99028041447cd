/**
 * A name used by two devices at once. The hub gives a name to its newest connection [T-8]
 * and closes the older one without a word (the seed's wire has none), so two devices
 * configured with the same name take it from each other forever: 24 registrations in 10 s
 * before this. What the device can notice is the pattern: the hub closing its link soon
 * after it registered, again and again. Then it says once what is probably wrong and
 * waits longer each time (exponential, capped) instead of taking the name back at once,
 * so the other device keeps it for a while and the hub's log can be read.
 */
import type { Logger } from 'pino';
import { Backoff } from '../../shared/backoff.ts';
import type { Clock } from '../../shared/clock.ts';

export interface TakeoverWatchOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly name: string;
  /** A link the hub closes within this time of registering counts (default 30 s). */
  readonly shortMs?: number;
  /** The wait after the second such close in a row, doubling up to `maxMs` (5 s, 5 min). */
  readonly minMs?: number;
  readonly maxMs?: number;
  readonly random?: () => number;
}

export class TakeoverWatch {
  readonly #o: TakeoverWatchOptions;
  readonly #backoff: Backoff;
  #registeredAt: number | null = null;
  /** Links in a row the hub closed soon after registering. */
  #streak = 0;

  constructor(opts: TakeoverWatchOptions) {
    this.#o = opts;
    this.#backoff = new Backoff({
      minMs: opts.minMs ?? 5_000,
      maxMs: opts.maxMs ?? 300_000,
      jitter: 0.3,
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** The hub answered `CONNECT` with `connected`. */
  registered(): void {
    this.#registeredAt = this.#o.clock.now();
  }

  /**
   * A registered link went down: `byHub` when the hub closed it (not a timeout or a
   * refusal of ours). Returns how long to wait before reconnecting, or null for the
   * ordinary backoff.
   */
  lost(byHub: boolean): number | null {
    const at = this.#registeredAt;
    this.#registeredAt = null;
    const heldMs = at === null ? Number.POSITIVE_INFINITY : this.#o.clock.now() - at;
    if (!byHub || heldMs >= (this.#o.shortMs ?? 30_000)) {
      if (this.#streak >= 2) this.#o.log.info('the name is ours again: the hub kept this link');
      this.#streak = 0;
      this.#backoff.reset();
      return null;
    }
    this.#streak++;
    if (this.#streak < 2) return null; // once may be a hub restarting
    const waitMs = this.#backoff.next();
    const fields = { name: this.#o.name, closedAfterMs: heldMs, retryInMs: waitMs };
    if (this.#streak === 2) {
      this.#o.log.warn(
        fields,
        `the hub keeps closing this link right after it registers: another device is probably using the name ${this.#o.name} (the hub logs "name taken over" with both addresses); give each device its own name. Waiting longer between attempts meanwhile`,
      );
    } else {
      this.#o.log.debug(fields, 'link closed again right after registering');
    }
    return waitMs;
  }
}
