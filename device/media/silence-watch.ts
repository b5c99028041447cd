/**
 * [G-3] Whether a call leg is one-way broken: nothing valid received for `afterMs` while
 * this end keeps sending. A synchronous core with time passed in; the media session feeds
 * it each valid packet in and each packet out, and asks it on a timer.
 *
 * Sending means a packet went out within the last `sendingWithinMs`: a device whose
 * microphone has not opened yet (or has failed) is not sending, so the silence of a call
 * it cannot take part in is no reason to move the call.
 */
export interface SilenceWatchOptions {
  /** The leg's start (ms, injected clock). */
  readonly start: number;
  /** Silence that counts (G-3: 2000 ms). */
  readonly afterMs?: number;
  /** A packet sent this recently means sending. Default 500 ms. */
  readonly sendingWithinMs?: number;
}

/** G-3's silence: 2 s. */
export const SILENCE_MS = 2000;

export class SilenceWatch {
  readonly #afterMs: number;
  readonly #sendingWithinMs: number;
  /** Since when nothing valid came in: the leg's start, then each valid packet. */
  #quietSince: number;
  #lastSent = Number.NEGATIVE_INFINITY;
  #fired = false;

  constructor(opts: SilenceWatchOptions) {
    this.#afterMs = opts.afterMs ?? SILENCE_MS;
    this.#sendingWithinMs = opts.sendingWithinMs ?? 500;
    this.#quietSince = opts.start;
  }

  /** A valid packet from the peer arrived. */
  received(now: number): void {
    this.#quietSince = now;
  }

  /** A packet went out to the peer. */
  sent(now: number): void {
    this.#lastSent = now;
  }

  /** Whether it has fired (once a leg). */
  get fired(): boolean {
    return this.#fired;
  }

  /** True once: the first time the leg is found silent while sending. */
  check(now: number): boolean {
    if (this.#fired) return false;
    const quiet = now - this.#quietSince >= this.#afterMs;
    const sending = now - this.#lastSent <= this.#sendingWithinMs;
    if (!quiet || !sending) return false;
    this.#fired = true;
    return true;
  }
}
