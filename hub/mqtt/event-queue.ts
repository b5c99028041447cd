/**
 * The MQTT bridge's not-retained events (call events, doorbells) while the broker is away:
 * the last `max` of them, oldest dropped first and counted; an event with an expiry (a
 * doorbell: a late ring is a false alarm) is dropped at flush once its time has passed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';

interface QueuedEvent {
  readonly topic: string;
  readonly payload: string;
  /** Clock time after which it is not worth sending; null = no limit. */
  readonly expiresAt: number | null;
}

export class EventQueue {
  readonly #max: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #events: QueuedEvent[] = [];
  #dropped = 0;

  constructor(max: number, clock: Clock, log: Logger) {
    this.#max = max;
    this.#clock = clock;
    this.#log = log;
  }

  /** Events dropped from the full queue since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Keeps one event for the next `flush`. */
  push(topic: string, payload: string, expiresAt: number | null): void {
    this.#events.push({ topic, payload, expiresAt });
    if (this.#events.length > this.#max) {
      this.#events.shift();
      this.#dropped++;
    }
  }

  /** Hands every event still worth sending to `send`, oldest first; logs what was lost. */
  flush(send: (topic: string, payload: string) => void): void {
    const now = this.#clock.now();
    let expired = 0;
    for (const e of this.#events.splice(0)) {
      if (e.expiresAt !== null && e.expiresAt < now) expired++;
      else send(e.topic, e.payload);
    }
    if (expired > 0 || this.#dropped > 0) {
      this.#log.warn({ expired, dropped: this.#dropped }, 'mqtt events lost while disconnected');
    }
  }
}
