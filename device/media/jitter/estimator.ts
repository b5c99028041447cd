/**
 * Estimates of a received stream's timing, as synchronous functions of packets and their
 * arrival times (the jitter buffer core's style: time passed in, nothing allocated per
 * packet).
 *
 * Transit is a packet's arrival time minus its place on the sender's RTP timeline (both
 * in ms, the timeline unwrapped from the first packet): constant on a perfect network,
 * its spread is the jitter. The absolute value means nothing (the two clocks are
 * unrelated); its variations do, and so does its phase against a frame grid.
 */
import { OPUS_CLOCK_RATE } from '../rtp.ts';
import { tsDiff } from '../seq.ts';

/** Options of `TransitPercentile`. */
export interface TransitPercentileOptions {
  /** RTP clock rate. Default 48000 (Opus). */
  clockRate?: number;
  /** Packets whose mean starts the estimate. Default 16. */
  startPackets?: number;
  /** The step per packet, ms. Default 0.5. */
  stepMs?: number;
  /** A transit this far from the estimate is a new timeline, not jitter. Default 2000. */
  resetMs?: number;
}

/**
 * The `q` percentile of the transit, by stochastic approximation: the estimate starts as
 * the mean of the first packets, then moves a fixed step per packet, up by `q` of it or
 * down by `1 - q` (never past the packet's own transit), so it settles where a fraction
 * `q` of the packets fall below, and an outlier moves it no more than any other packet.
 * It follows a slow drift of the sender's clock. A new SSRC, or a transit seconds away
 * from the estimate (the sender restarted its timeline), starts it over.
 */
export class TransitPercentile {
  #q: number;
  #msPerTick: number;
  #startPackets: number;
  #stepUp: number;
  #stepDown: number;
  #resetMs: number;
  #ssrc = -1;
  #refTs = 0;
  #refExt = 0;
  #value = Number.NaN;
  #packets = 0;

  constructor(q: number, options: TransitPercentileOptions = {}) {
    if (!(q > 0 && q < 1)) throw new RangeError(`transit: percentile must be in (0, 1), got ${q}`);
    const stepMs = options.stepMs ?? 0.5;
    this.#q = q;
    this.#msPerTick = 1000 / (options.clockRate ?? OPUS_CLOCK_RATE);
    this.#startPackets = options.startPackets ?? 16;
    this.#stepUp = stepMs * q;
    this.#stepDown = stepMs * (1 - q);
    this.#resetMs = options.resetMs ?? 2000;
  }

  /** The percentile this estimates. */
  get q(): number {
    return this.#q;
  }

  /** The estimate, ms on the arrival clock's scale; NaN before the first packet. */
  get value(): number {
    return this.#value;
  }

  /** One packet of the stream: its SSRC, RTP timestamp and arrival time (ms). */
  note(ssrc: number, timestamp: number, arrival: number): void {
    if (ssrc !== this.#ssrc) this.#reset(ssrc, timestamp);
    let ext = this.#refExt + tsDiff(timestamp, this.#refTs);
    let transit = arrival - ext * this.#msPerTick;
    if (Math.abs(transit - this.#value) > this.#resetMs) {
      this.#reset(ssrc, timestamp);
      ext = 0;
      transit = arrival;
    }
    if (ext > this.#refExt) {
      this.#refExt = ext;
      this.#refTs = timestamp;
    }
    const n = ++this.#packets;
    const v = this.#value;
    if (n <= this.#startPackets) {
      this.#value = n === 1 ? transit : v + (transit - v) / n;
    } else if (transit > v) {
      this.#value = Math.min(transit, v + this.#stepUp);
    } else if (transit < v) {
      this.#value = Math.max(transit, v - this.#stepDown);
    }
  }

  #reset(ssrc: number, timestamp: number): void {
    this.#ssrc = ssrc;
    this.#refTs = timestamp;
    this.#refExt = 0;
    this.#value = Number.NaN;
    this.#packets = 0;
  }
}
