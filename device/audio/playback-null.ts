/** `null`: a speaker that plays nothing and counts what it was given. */
import { EventEmitter } from 'node:events';
import {
  type AudioPlayback,
  BYTES_PER_SAMPLE,
  checkFrameSamples,
  type PlaybackEvents,
  type PlaybackStats,
} from './types.ts';

/** `null` as an `AudioPlayback`: frames are counted in `stats.frames` and discarded. */
export class NullPlayback extends EventEmitter<PlaybackEvents> implements AudioPlayback {
  readonly frameSamples: number;
  readonly stats: PlaybackStats = { frames: 0, dropped: 0, underruns: 0 };
  #running = false;

  constructor(frameSamples: number) {
    super();
    checkFrameSamples(frameSamples);
    this.frameSamples = frameSamples;
  }

  async start(): Promise<void> {
    this.#running = true;
  }

  /** Counts a frame; a mis-sized frame or one written while stopped counts as dropped. */
  write(frame: Buffer): void {
    if (this.#running && frame.length === this.frameSamples * BYTES_PER_SAMPLE) {
      this.stats.frames++;
    } else {
      this.stats.dropped++;
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
  }
}
