/**
 * The far-end reference of the echo canceller: what the device hands to the speaker, on
 * the speaker's timeline. `write()` places each frame where it will play, right after the
 * previous one or, after a pause (the speaker idle, aplay underrunning), at the time it is
 * written. `read()` returns any stretch of that timeline: silence where nothing played or
 * where the ring (2 s) no longer holds it. Positions are sample counts at 48 kHz from the
 * clock's zero. Pure: time is passed in.
 */

import { samples } from './delay.ts';

const RATE_PER_MS = 48;

export class FarReference {
  readonly #ring: Int16Array;
  /** Timeline position just after the last sample written. */
  #end = 0;

  constructor(ringSamples = 96_000) {
    this.#ring = new Int16Array(ringSamples);
  }

  /** Timeline position of clock time `ms`. */
  static position(ms: number): number {
    return Math.round(ms * RATE_PER_MS);
  }

  /** One frame handed to the speaker at `now` (ms). */
  write(pcm: Buffer, now: number): void {
    const ring = this.#ring;
    const n = pcm.length >> 1;
    const start = Math.max(this.#end, FarReference.position(now));
    // The gap since the last frame played silence.
    for (let p = Math.max(this.#end, start - ring.length); p < start; p++) {
      ring[p % ring.length] = 0;
    }
    const x = samples(pcm);
    for (let i = 0; i < n; i++) ring[(start + i) % ring.length] = x[i]!;
    this.#end = start + n;
  }

  /** `n` samples of the timeline from position `from`, as s16le PCM (a new Buffer). */
  read(from: number, n: number): Buffer {
    const ring = this.#ring;
    const out = Buffer.alloc(n * 2);
    const y = new Int16Array(out.buffer, out.byteOffset, n); // Buffer.alloc is aligned
    const oldest = this.#end - ring.length;
    for (let i = 0; i < n; i++) {
      const p = from + i;
      if (p >= oldest && p < this.#end && p >= 0) y[i] = ring[p % ring.length]!;
    }
    return out;
  }
}
