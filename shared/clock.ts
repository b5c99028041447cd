/**
 * Time as a seam. Production code takes a `Clock` (default `realClock`) so that ring
 * timeouts, idle timeouts, backoff and the jitter buffer can be driven by `FakeClock`
 * in tests instead of by the wall clock.
 */
export interface Timer {
  /** Cancels the timer; calling it twice is harmless. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall time). */
  now(): number;
  /** Wall-clock time, for timestamps shown to people (ISO-8601 `since`). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  live: boolean;
}

/** A clock that only moves when `advance()` is called. Timers fire in time order. */
export class FakeClock implements Clock {
  #now: number;
  #wallBase: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(start = 0, wallBase = Date.UTC(2026, 0, 1)) {
    this.#now = start;
    this.#wallBase = wallBase;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wallBase + this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  /** Number of timers still armed. */
  get pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.live);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#now = next.at;
      if (next.every > 0) {
        next.at += next.every;
      } else {
        next.live = false;
      }
      next.fn();
    }
    this.#now = target;
  }

  #add(fn: () => void, ms: number, every: number): Timer {
    const t: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every, live: true };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }
}
