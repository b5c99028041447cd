/**
 * Captures that make their audio instead of recording it: `PacedCapture` emits one frame
 * per frame interval of the injected clock from a frame source; `silence` is its plainest
 * use, `tone:` and `file:` supply their own sources.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../shared/clock.ts';
import {
  type AudioCapture,
  type BackendDeps,
  BYTES_PER_SAMPLE,
  type CaptureEvents,
  type CaptureStats,
  checkFrameSamples,
  frameMs,
} from './types.ts';

/** Options of `PacedCapture`. */
export interface PacedCaptureOptions extends BackendDeps {
  /**
   * The next frame of `frameSamples * 2` bytes, a Buffer the caller may keep. Should it
   * throw (a file that cannot be read), the capture stops and emits that as its 'error'.
   */
  nextFrame: () => Buffer;
  /**
   * Most frames emitted at once to catch up after the event loop stalled (default 10);
   * a longer stall skips ahead and reports an overrun, as a sound card would.
   */
  maxCatchUp?: number;
}

/**
 * A capture paced by a clock: frame n is emitted once n + 1 frame intervals have passed
 * since `start()`, like a sound card that delivers a frame when it has recorded it.
 */
export class PacedCapture extends EventEmitter<CaptureEvents> implements AudioCapture {
  readonly frameSamples: number;
  readonly stats: CaptureStats = { frames: 0, overruns: 0 };
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #nextFrame: () => Buffer;
  readonly #maxCatchUp: number;
  readonly #frameMs: number;
  #timer: Timer | undefined;
  #startedAt = 0;
  #due = 0;
  #state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(opts: PacedCaptureOptions) {
    super();
    checkFrameSamples(opts.frameSamples);
    this.frameSamples = opts.frameSamples;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#nextFrame = opts.nextFrame;
    this.#maxCatchUp = opts.maxCatchUp ?? 10;
    this.#frameMs = frameMs(opts.frameSamples);
  }

  /** Starts the pacing timer; resolves at once. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error('capture already started');
    this.#state = 'running';
    this.#startedAt = this.#clock.now();
    this.#timer = this.#clock.setInterval(() => this.#tick(), this.#frameMs);
  }

  /** Stops the timer; no frame follows. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #tick(): void {
    const due = Math.floor((this.#clock.now() - this.#startedAt) / this.#frameMs);
    const behind = due - this.#due;
    if (behind > this.#maxCatchUp) {
      const lost = behind - 1;
      this.#due += lost;
      this.stats.overruns++;
      this.#log.warn({ lostFrames: lost }, 'capture fell behind the clock; skipped ahead');
      this.emit('overrun', { lostMs: lost * this.#frameMs });
    }
    while (this.#due < due && this.#state === 'running') {
      let frame: Buffer;
      try {
        frame = this.#nextFrame();
      } catch (err) {
        // The source is lost, as a sound card unplugged: released, then one 'error'.
        void this.stop();
        this.emit('error', err as Error);
        return;
      }
      this.#due++;
      this.stats.frames++;
      this.emit('frame', frame);
    }
  }
}

/** `silence`: frames of zeros, paced by the clock. */
export function createSilenceCapture(deps: BackendDeps): PacedCapture {
  const bytes = deps.frameSamples * BYTES_PER_SAMPLE;
  return new PacedCapture({ ...deps, nextFrame: () => Buffer.alloc(bytes) });
}
