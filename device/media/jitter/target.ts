/**
 * The jitter buffer's target depth: how many frames cover the network's delay variation.
 * A synchronous function of each packet's RTP timestamp and arrival time; nothing is
 * allocated per packet.
 *
 * Transit is a packet's arrival time minus its place on the sender's RTP timeline (ms, the
 * timeline unwrapped from the stream's first packet). The target is
 * `1 + ceil((spread + margin) / frame)` frames, clamped to [minDepthMs, maxDepthMs], where
 * `spread` is the larger of the ~95th percentile of the transit-time variation over a
 * sliding window (transit minus its window minimum) and twice the RFC 3550 interarrival
 * jitter (which reacts within ~16 packets). Until the window holds a second of packets the
 * target is at least `initialDepthMs`. The target rises at once but comes down only after
 * 10 s of lower need, half a frame clear of the boundary, so a spread hovering at a frame
 * boundary does not make it flap.
 *
 * This sits beside `TransitPercentile` (estimator.ts) rather than in it: that one
 * tracks where one percentile of the transit lies, by stochastic approximation, for the
 * playout phase; this one measures the transit's spread over a window, with a hold, to
 * size the buffer.
 */
import { tsDiff } from '../seq.ts';

/** Options of `JitterTarget`; `JitterBufferOptions` documents their defaults. */
export interface JitterTargetOptions {
  /** Frame (packet) duration, ms. */
  frameMs: number;
  /** RTP clock rate. */
  clockRate: number;
  /** Lowest target (at least one frame). */
  minDepthMs: number;
  /** Highest target. */
  maxDepthMs: number;
  /** Target until the window has a second of packets. */
  initialDepthMs: number;
  /** Added to the measured spread. */
  marginMs: number;
  /** Window of the transit-time percentile. */
  windowMs: number;
}

/** The percentile of the transit-time variation the target covers. */
const PERCENTILE = 0.95;
/** Recompute the percentile every this many packets. */
const RECOMPUTE_EVERY = 16;
/** Packets (about a second) before the measured target replaces `initialDepthMs`. */
const WARMUP_MS = 1000;
/** RFC 3550 §6.4.1 jitter gain. */
const JITTER_GAIN = 1 / 16;
/** How long a lower target must be measured before the target comes down. */
const TARGET_HOLD_MS = 10_000;

/** See the file comment. */
export class JitterTarget {
  // Configuration.
  #frameMs: number;
  #clockRate: number;
  #minFrames: number;
  #maxFrames: number;
  #initialFrames: number;
  #marginMs: number;
  #warmupPackets: number;

  // The sender's timeline, unwrapped from the stream's first packet.
  #refTs = 0;
  #refExt = 0;

  #hasTransit = false;
  #lastTransit = 0;
  #jitterMs = 0;
  #window: Float64Array;
  #scratch: Float64Array;
  #winLen = 0;
  #winPos = 0;
  #sinceRecompute = 0;
  #targetFrames: number;
  #lowerSince = -1;

  constructor(options: JitterTargetOptions) {
    const frameMs = options.frameMs;
    this.#frameMs = frameMs;
    this.#clockRate = options.clockRate;
    this.#minFrames = Math.max(1, Math.round(options.minDepthMs / frameMs));
    this.#maxFrames = Math.max(this.#minFrames, Math.floor(options.maxDepthMs / frameMs));
    this.#initialFrames = this.#clampFrames(Math.round(options.initialDepthMs / frameMs));
    this.#targetFrames = this.#initialFrames;
    this.#marginMs = options.marginMs;

    const windowLen = Math.max(16, Math.round(options.windowMs / frameMs));
    this.#window = new Float64Array(windowLen);
    this.#scratch = new Float64Array(windowLen);
    this.#warmupPackets = Math.min(windowLen, Math.ceil(WARMUP_MS / frameMs));
  }

  /** The target, in frames. */
  get frames(): number {
    return this.#targetFrames;
  }

  /** The highest target, in frames. */
  get maxFrames(): number {
    return this.#maxFrames;
  }

  /** RFC 3550 interarrival jitter, in ms. */
  get jitterMs(): number {
    return this.#jitterMs;
  }

  /**
   * A stream starts with a packet carrying `timestamp` (call before its first `note()`):
   * the timeline and the window start over; the jitter and the target carry on.
   */
  reset(timestamp: number): void {
    this.#refTs = timestamp;
    this.#refExt = 0;
    this.#hasTransit = false;
    this.#winLen = 0;
    this.#winPos = 0;
    this.#sinceRecompute = 0;
  }

  /** Where `timestamp` lies on the sender's timeline, in ms (transit's scale). */
  sentMs(timestamp: number): number {
    return ((this.#refExt + tsDiff(timestamp, this.#refTs)) * 1000) / this.#clockRate;
  }

  /**
   * One packet of the stream: RFC 3550 §6.4.1 interarrival jitter, and the transit window
   * for the target. Returns the packet's transit, in ms.
   */
  note(timestamp: number, arrival: number): number {
    const ext = this.#refExt + tsDiff(timestamp, this.#refTs);
    if (ext > this.#refExt) {
      this.#refExt = ext;
      this.#refTs = timestamp;
    }
    const transit = arrival - (ext * 1000) / this.#clockRate;
    if (this.#hasTransit) {
      const delta = Math.abs(transit - this.#lastTransit);
      this.#jitterMs += (delta - this.#jitterMs) * JITTER_GAIN;
    }
    this.#hasTransit = true;
    this.#lastTransit = transit;

    this.#window[this.#winPos] = transit;
    this.#winPos = this.#winPos + 1 === this.#window.length ? 0 : this.#winPos + 1;
    if (this.#winLen < this.#window.length) this.#winLen++;
    if (++this.#sinceRecompute >= RECOMPUTE_EVERY) {
      this.#sinceRecompute = 0;
      this.#recompute(arrival);
    }
    return transit;
  }

  #recompute(now: number): void {
    const n = this.#winLen;
    const sorted = this.#scratch.subarray(0, n);
    sorted.set(this.#window.subarray(0, n));
    sorted.sort();
    const min = sorted[0]!;
    const p95 = sorted[Math.floor(PERCENTILE * (n - 1))]!;
    const need = Math.max(p95 - min, 2 * this.#jitterMs) + this.#marginMs;
    const frames = this.#framesFor(need, n);
    if (frames >= this.#targetFrames) {
      this.#targetFrames = frames;
      this.#lowerSince = -1;
      return;
    }
    // Lower the target only when the need is half a frame clear of the current one (less
    // for a need under half a frame, so one frame stays reachable), and has stayed lower
    // for a while: a need hovering at a frame boundary, or a rare burst
    // passing through the window, must not make it flap (each flap costs an insert and a
    // drop).
    if (this.#framesFor(need + Math.min(need, this.#frameMs / 2), n) >= this.#targetFrames) {
      this.#lowerSince = -1;
    } else if (this.#lowerSince < 0) {
      this.#lowerSince = now;
    } else if (now - this.#lowerSince >= TARGET_HOLD_MS) {
      this.#targetFrames = frames;
      this.#lowerSince = -1;
    }
  }

  /** Target frames covering `needMs` of spread and margin (window of `n` packets). */
  #framesFor(needMs: number, n: number): number {
    // The epsilon keeps float noise in a zero spread from costing a whole frame.
    const frames = this.#clampFrames(1 + Math.ceil(needMs / this.#frameMs - 1e-9));
    return n < this.#warmupPackets ? Math.max(frames, this.#initialFrames) : frames;
  }

  #clampFrames(frames: number): number {
    return Math.min(this.#maxFrames, Math.max(this.#minFrames, frames));
  }
}
