/** Over how much of the passed-in time a rate is measured. */
const BITRATE_WINDOW_MS = 1000;

/** Bytes counted over a window of the passed-in time, giving bit/s. */
export class RateMeter {
  #start = Number.NaN;
  #bytes = 0;
  #rate = 0;

  add(bytes: number, now: number): void {
    this.tick(now);
    this.#bytes += bytes;
  }

  tick(now: number): void {
    if (Number.isNaN(this.#start)) this.#start = now;
    const elapsed = now - this.#start;
    if (elapsed >= BITRATE_WINDOW_MS) {
      this.#rate = Math.round((this.#bytes * 8 * 1000) / elapsed);
      this.#bytes = 0;
      this.#start = now;
    }
  }

  get rate(): number {
    return this.#rate;
  }
}
