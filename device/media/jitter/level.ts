/**
 * The jitter buffer's level control: when to drop a frame or insert a conceal so that the
 * level (frames held ahead of the play position) stays at the target. A synchronous
 * function of the time, the level and the target at each pop; the buffer carries out
 * what it decides.
 *
 * The level is smoothed (EMA, ~1 s). Persistently above target by about a frame: a drop
 * is due, and waits at most `maxDropWaitMs` for a slot that costs nothing to drop (the
 * buffer's choice); n frames above target, the wait is divided by n² and the cooldown
 * by n. Persistently below: insert one conceal. The smoothed level is corrected by the
 * frame at once, and a cooldown spaces the corrections, so the loop cannot oscillate.
 */

/** Level smoothing time constant. */
const LEVEL_TAU_MS = 1000;
/** Distance from target, in frames, of the smoothed level that triggers a correction. */
const HYSTERESIS = 0.75;
/** Minimum time between two corrections. */
const COOLDOWN_MS = 250;

/** See the file comment. */
export class LevelControl {
  #alpha: number;
  #maxDropWaitMs: number;
  #ema = 0;
  #cooldownUntil = 0;
  #dropSince = -1;

  /** `frameMs` apart come the pops; `maxDropWaitMs` as in `JitterBufferOptions`. */
  constructor(frameMs: number, maxDropWaitMs: number) {
    this.#alpha = Math.min(1, frameMs / LEVEL_TAU_MS);
    this.#maxDropWaitMs = maxDropWaitMs;
  }

  /** Playback starts at `level`: no correction before a cooldown. */
  start(now: number, level: number): void {
    this.#ema = level;
    this.#cooldownUntil = now + COOLDOWN_MS;
    this.#dropSince = -1;
  }

  /** The level at one pop. */
  sample(level: number): void {
    this.#ema += (level - this.#ema) * this.#alpha;
  }

  /** Whether to insert a conceal now (holding the play position); may make a drop due. */
  insertDue(now: number, level: number, target: number): boolean {
    if (now >= this.#cooldownUntil && this.#dropSince < 0) {
      if (this.#ema >= target + HYSTERESIS && level >= 2) {
        this.#dropSince = now;
      } else if (this.#ema <= target - HYSTERESIS) {
        this.#ema += 1;
        this.#cooldownUntil = now + COOLDOWN_MS;
        return true;
      }
    }
    return false;
  }

  /** Whether a drop is due (or forced by `overflow`); one no longer needed is called off. */
  dropDue(level: number, target: number, overflow: boolean): boolean {
    if (this.#dropSince < 0 && !overflow) return false;
    if (!overflow && (level < 2 || this.#ema < target + HYSTERESIS - 0.5)) {
      // No longer above target (or nothing to drop to): the drop is off.
      this.#dropSince = -1;
      return false;
    }
    return true;
  }

  /** Whether a due drop has waited long enough to take a frame that would be heard. */
  waitedOut(now: number, target: number): boolean {
    const excess = this.#excess(target);
    return now - this.#dropSince >= this.#maxDropWaitMs / (excess * excess);
  }

  /** A frame was dropped. */
  dropped(now: number, target: number): void {
    const excess = this.#excess(target);
    this.#ema -= 1;
    this.#dropSince = -1;
    this.#cooldownUntil = now + COOLDOWN_MS / excess;
  }

  /** Frames too many: the further above target, the less a drop waits. */
  #excess(target: number): number {
    return Math.max(1, Math.floor(this.#ema - target));
  }
}
