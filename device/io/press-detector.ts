/**
 * Debounced short/long press detection. Pure: raw level edges with their timestamps in,
 * presses out; no timers, no clock. The caller (`PressClassifier` in `button.ts`) calls
 * `advance(now)` at `deadline()` so a long press is reported while the button is still
 * held.
 *
 *   raw     ___|‾|_|‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾|_|‾|______
 *   stable  ______|<-30->‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾|<-30->_
 *                 ^ press starts here    ^ release at the last edge
 *
 * Rules:
 * - Debounce: a level counts once the raw signal has stayed at it for `debounceMs`
 *   (a change that lasts exactly `debounceMs` counts; shorter ones are ignored). The
 *   press and release times are those of the raw edge that began the stable level.
 * - One event per press. Held for `longPressMs` or more: `long`, reported as soon as the
 *   threshold is reached (at `press + longPressMs`), not at release, so a long press
 *   acts while the finger is still down. Released earlier: `short`, reported when the
 *   release is confirmed (`release + debounceMs`).
 * - A release edge seen before the threshold holds the long-press decision until the
 *   release is confirmed or turns out to be a bounce.
 * - A button already held when detection starts (`initialPressed`) reports nothing until
 *   it has been released.
 */

/** Debounce applied to GPIO buttons unless configured otherwise. */
export const DEFAULT_DEBOUNCE_MS = 30;
/** A press held this long or longer is a long press. */
export const DEFAULT_LONG_PRESS_MS = 1000;

/** One press, as reported once. */
export interface Press {
  readonly long: boolean;
  /** When the press was decided: the threshold time for long presses, else the release. */
  readonly at: number;
  /** How long the button was held (for a long press, the threshold). */
  readonly heldMs: number;
}

export interface PressDetectorOptions {
  readonly debounceMs?: number | undefined;
  readonly longPressMs?: number | undefined;
  /** Whether the button is already held when detection starts. */
  readonly initialPressed?: boolean | undefined;
  /** The time detection starts. */
  readonly now?: number;
}

/** Debounces raw edges and classifies presses; see the module comment for the rules. */
export class PressDetector {
  readonly #debounceMs: number;
  readonly #longMs: number;
  /** The raw level and when it last changed. */
  #raw: boolean;
  #rawAt: number;
  /** The debounced level and, while pressed, when the press began. */
  #stable: boolean;
  #pressAt = 0;
  /** This press has been reported (long at the threshold, or a held-at-start press). */
  #reported: boolean;
  #last: number;

  constructor(opts: PressDetectorOptions = {}) {
    this.#debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#longMs = opts.longPressMs ?? DEFAULT_LONG_PRESS_MS;
    if (!(this.#debounceMs >= 0) || !(this.#longMs > this.#debounceMs)) {
      throw new RangeError(
        `need 0 <= debounceMs < longPressMs, got ${this.#debounceMs} and ${this.#longMs}`,
      );
    }
    const now = opts.now ?? 0;
    this.#raw = this.#stable = opts.initialPressed ?? false;
    this.#rawAt = this.#pressAt = this.#last = now;
    this.#reported = this.#stable;
  }

  /** The debounced level. */
  get pressed(): boolean {
    return this.#stable;
  }

  /** A raw level seen at `at` (repeats of the current level are ignored). */
  edge(pressed: boolean, at: number): Press[] {
    const t = this.#clamp(at);
    const out = this.advance(t);
    if (pressed === this.#raw) return out;
    this.#raw = pressed;
    this.#rawAt = t;
    return out.concat(this.advance(t));
  }

  /** Lets time pass to `now`: confirms levels and reports presses that fall due. */
  advance(now: number): Press[] {
    const t = this.#clamp(now);
    const out: Press[] = [];
    if (this.#raw !== this.#stable && t - this.#rawAt >= this.#debounceMs) {
      this.#stable = this.#raw;
      if (this.#stable) {
        this.#pressAt = this.#rawAt;
        this.#reported = false;
      } else if (!this.#reported) {
        const heldMs = this.#rawAt - this.#pressAt;
        this.#reported = true;
        out.push({ long: heldMs >= this.#longMs, at: this.#rawAt + this.#debounceMs, heldMs });
      }
    }
    this.#checkLong(t, out);
    return out;
  }

  /** When `advance` should next be called, or null when nothing is pending. */
  deadline(): number | null {
    let next = Number.POSITIVE_INFINITY;
    if (this.#raw !== this.#stable) next = this.#rawAt + this.#debounceMs;
    if (this.#stable && !this.#reported && !this.#longBlocked()) {
      next = Math.min(next, this.#pressAt + this.#longMs);
    }
    return Number.isFinite(next) ? next : null;
  }

  #checkLong(now: number, out: Press[]): void {
    if (!this.#stable || this.#reported || this.#longBlocked()) return;
    if (now - this.#pressAt < this.#longMs) return;
    this.#reported = true;
    out.push({ long: true, at: this.#pressAt + this.#longMs, heldMs: this.#longMs });
  }

  /** A release edge before the threshold: wait for it to be confirmed or undone. */
  #longBlocked(): boolean {
    return !this.#raw && this.#rawAt - this.#pressAt < this.#longMs;
  }

  /** Time never runs backwards here, whatever the caller's timestamps do. */
  #clamp(at: number): number {
    this.#last = Math.max(this.#last, at);
    return this.#last;
  }
}
