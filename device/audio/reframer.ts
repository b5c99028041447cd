/**
 * Arbitrary-sized PCM chunks in, exact frames out. ALSA periods, arecord's pipe reads and
 * WAV files never line up with codec frames; this cuts them.
 */
export class Reframer {
  readonly #frameBytes: number;
  #partial: Buffer;
  #fill = 0;

  /** `frameBytes` > 0: the size of every frame returned. */
  constructor(frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
    }
    this.#frameBytes = frameBytes;
    this.#partial = Buffer.alloc(frameBytes);
  }

  /** Bytes held back, waiting for the rest of their frame. */
  get pending(): number {
    return this.#fill;
  }

  /**
   * The frames completed by `chunk`, in order; the remainder is kept for the next call.
   * Every returned frame is a new Buffer of exactly `frameBytes` bytes, owned by the caller.
   */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    const size = this.#frameBytes;
    let offset = 0;
    if (this.#fill > 0) {
      const n = Math.min(size - this.#fill, chunk.length);
      this.#partial.set(chunk.subarray(0, n), this.#fill);
      this.#fill += n;
      offset = n;
      if (this.#fill < size) return frames;
      frames.push(this.#partial);
      this.#partial = Buffer.alloc(size);
      this.#fill = 0;
    }
    while (chunk.length - offset >= size) {
      frames.push(Buffer.from(chunk.subarray(offset, offset + size)));
      offset += size;
    }
    if (offset < chunk.length) {
      this.#partial.set(chunk.subarray(offset), 0);
      this.#fill = chunk.length - offset;
    }
    return frames;
  }

  /** Forgets a partial frame (after a gap, or on stop). */
  reset(): void {
    this.#fill = 0;
  }
}
