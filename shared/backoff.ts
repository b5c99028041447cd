/**
 * Reconnection delays: exponential from `minMs` to `maxMs`, each scaled by a random factor
 * in [1 - jitter, 1] so that many devices do not reconnect in lockstep after a hub restart.
 */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: { minMs: number; maxMs: number; jitter?: number; random?: () => number }) {
    this.#minMs = opts.minMs;
    this.#maxMs = opts.maxMs;
    this.#jitter = opts.jitter ?? 0.5;
    this.#random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt; grows with each call until `reset()`. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#minMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
