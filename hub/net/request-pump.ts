import type { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock, Timer } from '../../shared/clock.ts';
import type { ConnectionLimits } from '../context.ts';

/** How long a closing connection may take to flush before it is destroyed. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Runs one connection's requests one at a time, in the order they arrived, whatever the
 * dialect. Both adapters need the same four things from it:
 * - backpressure: reading pauses when too many requests wait, and resumes at half;
 * - fairness: one chunk can hold thousands of pipelined requests, so the pump yields the
 *   event loop between batches (other clients, timers and this client's own reading go on);
 * - half-close: a client that sends its requests and then its FIN (`nc`, scripts) gets
 *   every answer before the hub closes its side (the listener uses `allowHalfOpen`);
 * - closing: after `close()`, nothing more is answered; the stream ends once what was
 *   written is flushed, and is destroyed `CLOSE_GRACE_MS` later if the client does not read.
 */
export class RequestPump<T> {
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #limits: ConnectionLimits;
  readonly #handle: (item: T) => Promise<void> | void;
  readonly #pending: T[] = [];
  #busy = false;
  #inputEnded = false;
  #closing = false;
  #linger: Timer | null = null;

  constructor(
    stream: Duplex,
    clock: Clock,
    limits: ConnectionLimits,
    handle: (item: T) => Promise<void> | void,
  ) {
    this.#stream = stream;
    this.#clock = clock;
    this.#limits = limits;
    this.#handle = handle;
    stream.on('end', () => {
      this.#inputEnded = true;
      void this.#drain();
    });
    stream.on('close', () => {
      this.#closing = true;
      this.#pending.length = 0;
      this.#linger?.cancel();
    });
  }

  /** True once the connection is closing or closed: nothing more will be answered. */
  get closing(): boolean {
    return this.#closing || this.#stream.destroyed;
  }

  /** Queues requests (and decoder errors, which keep their place in the stream). */
  push(items: Iterable<T>): void {
    if (this.#closing) return;
    for (const item of items) this.#pending.push(item);
    if (this.#pending.length > this.#limits.maxPendingRequests) this.#stream.pause();
    void this.#drain();
  }

  /** Stops answering and closes once written output is flushed. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#pending.length = 0;
    this.#stream.end();
    this.#linger = this.#clock.setTimeout(() => this.#stream.destroy(), CLOSE_GRACE_MS);
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let handled = 0;
      for (let item = this.#pending.shift(); item !== undefined; item = this.#pending.shift()) {
        if (++handled % this.#limits.maxPendingRequests === 0) await nextTurn();
        if (this.closing) return;
        await this.#handle(item);
        if (
          this.#pending.length <= this.#limits.maxPendingRequests / 2 &&
          this.#stream.isPaused()
        ) {
          this.#stream.resume();
        }
      }
      if (this.#inputEnded) this.close();
    } finally {
      this.#busy = false;
    }
  }
}
