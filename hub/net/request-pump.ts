import type net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ConnectionLimits } from '../context.ts';

/**
 * Runs one connection's requests one at a time, in the order they arrived, whatever the
 * dialect. Both adapters need the same four things from it:
 * - backpressure: reading pauses when too many requests wait, and resumes at half;
 * - fairness: one chunk can hold thousands of pipelined requests, so the pump yields the
 *   event loop between batches (other clients, timers and this client's own reading go on);
 * - half-close: a client that sends its requests and then its FIN (`nc`, scripts) gets
 *   every answer before the hub closes its side (the listener uses `allowHalfOpen`);
 * - closing: after `close()`, nothing more is answered; the socket ends once what was
 *   written is flushed, and is destroyed 2 s later if the client does not read.
 */
export class RequestPump<T> {
  readonly #socket: net.Socket;
  readonly #limits: ConnectionLimits;
  readonly #handle: (item: T) => Promise<void> | void;
  readonly #pending: T[] = [];
  #busy = false;
  #inputEnded = false;
  #closing = false;

  constructor(
    socket: net.Socket,
    limits: ConnectionLimits,
    handle: (item: T) => Promise<void> | void,
  ) {
    this.#socket = socket;
    this.#limits = limits;
    this.#handle = handle;
    socket.on('end', () => {
      this.#inputEnded = true;
      void this.#drain();
    });
    socket.on('close', () => {
      this.#closing = true;
      this.#pending.length = 0;
    });
  }

  /** True once the connection is closing or closed: nothing more will be answered. */
  get closing(): boolean {
    return this.#closing || this.#socket.destroyed;
  }

  /** Queues requests (and decoder errors, which keep their place in the stream). */
  push(items: Iterable<T>): void {
    if (this.#closing) return;
    for (const item of items) this.#pending.push(item);
    if (this.#pending.length > this.#limits.maxPendingRequests) this.#socket.pause();
    void this.#drain();
  }

  /** Stops answering and closes once written output is flushed. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#pending.length = 0;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
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
          this.#socket.isPaused()
        ) {
          this.#socket.resume();
        }
      }
      if (this.#inputEnded) this.close();
    } finally {
      this.#busy = false;
    }
  }
}
