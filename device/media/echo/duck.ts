/**
 * `audio.echo: duck`: the microphone attenuated while the far end is speaking, the
 * fallback when the echo canceller is not available. A pure state machine over frames:
 * `far()` sees every frame handed to the speaker, `mic()` scales every captured frame.
 *
 * The far end counts as speaking when a frame's level is above `thresholdDbfs`; the
 * attenuation holds for `holdMs` after the last such frame (the echo arrives later than the
 * frame is handed to playback: the playback path's delay plus the room), and the gain
 * glides to its target across one frame, so the switch does not click.
 */
import { dbToGain, levelDbfs } from './gain.ts';

export interface DuckOptions {
  /** Attenuation while the far end speaks, dB (default 24). */
  depthDb?: number;
  /** Far-end level above which it counts as speaking, dBFS (default -45). */
  thresholdDbfs?: number;
  /** How long the attenuation outlasts the far end, ms (default 300). */
  holdMs?: number;
}

export class Ducker {
  readonly #ducked: number;
  readonly #threshold: number;
  readonly #holdMs: number;
  /** Clock time until which the microphone stays ducked. */
  #until = Number.NEGATIVE_INFINITY;
  #gain = 1;

  constructor(opts: DuckOptions = {}) {
    this.#ducked = dbToGain(-(opts.depthDb ?? 24));
    this.#threshold = opts.thresholdDbfs ?? -45;
    this.#holdMs = opts.holdMs ?? 300;
  }

  /** One frame handed to the speaker at `now` (ms). */
  far(pcm: Buffer, now: number): void {
    if (levelDbfs(pcm) > this.#threshold) this.#until = now + this.#holdMs;
  }

  /** Whether the microphone is (being) attenuated at `now`. */
  active(now: number): boolean {
    return now <= this.#until;
  }

  /** One captured frame at `now`, scaled; a new Buffer unless the gain is 1 throughout. */
  mic(pcm: Buffer, now: number): Buffer {
    const from = this.#gain;
    const to = this.active(now) ? this.#ducked : 1;
    this.#gain = to;
    if (from === 1 && to === 1) return pcm;
    const n = pcm.length >> 1;
    const out = Buffer.allocUnsafe(n * 2);
    for (let i = 0; i < n; i++) {
      const g = from + ((to - from) * (i + 1)) / n;
      out.writeInt16LE(Math.round(pcm.readInt16LE(i * 2) * g), i * 2);
    }
    return out;
  }
}
