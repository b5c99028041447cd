/**
 * How long the speaker's sound takes to come back into the microphone, from the two
 * signals alone: the normalized cross-correlation of their 1 ms envelopes (mean absolute
 * value of each 48-sample block). Envelopes make it robust to the room's phase changes and
 * cheap (a 400 ms search over 1 s of audio is 400 k multiply-adds). Pure; used by the echo
 * canceller to find the playback path's delay and by `--sound-check`.
 */

/** Samples per envelope block: 1 ms at 48 kHz. */
export const BLOCK = 48;

/** The samples of s16le PCM as an Int16Array: a view when aligned, else a copy. */
export function samples(pcm: Buffer): Int16Array {
  const n = pcm.length >> 1;
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, n);
  const copy = new Int16Array(n);
  for (let i = 0; i < n; i++) copy[i] = pcm.readInt16LE(i * 2);
  return copy;
}

/**
 * The envelope of s16le mono PCM: mean absolute value per block of `block` samples (1 ms
 * by default; a trailing partial block is dropped).
 */
export function envelope(pcm: Buffer, block = BLOCK): Float64Array {
  const x = samples(pcm);
  const n = Math.floor(x.length / block);
  const env = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = b * block; i < (b + 1) * block; i++) s += Math.abs(x[i]!);
    env[b] = s / block / 32768;
  }
  return env;
}

export interface DelayEstimate {
  /** How far `mic` lags `far`, ms. */
  delayMs: number;
  /** The peak's normalized correlation, 0..1. */
  confidence: number;
}

/**
 * How much an envelope moves: its standard deviation over its mean (0 for silence). Speech
 * and the sound check's gated sweep are well above 0.3; a steady tone or hum is near 0
 * (a tone's ripple across 1 ms blocks reaches about 0.07).
 */
export function variation(env: Float64Array): number {
  let mean = 0;
  for (const v of env) mean += v;
  mean /= Math.max(1, env.length);
  if (mean <= 0) return 0;
  let s = 0;
  for (const v of env) s += (v - mean) ** 2;
  return Math.sqrt(s / env.length) / mean;
}

/** Below these variations the correlation would only measure ripple: no estimate. */
export const MIN_FAR_VARIATION = 0.2;
export const MIN_MIC_VARIATION = 0.15;

/**
 * The lag (0..maxLagMs) at which `mic` best matches `far` delayed, over envelopes of equal
 * length with `blockMs` per value; null when either is too still to tell (silence, or a
 * steady level: a tone, hum).
 */
export function estimateDelay(
  far: Float64Array,
  mic: Float64Array,
  maxLagMs: number,
  blockMs = 1,
): DelayEstimate | null {
  const n = Math.min(far.length, mic.length);
  const maxLag = Math.min(Math.floor(maxLagMs / blockMs), n - 1);
  if (maxLag < 0) return null;
  if (variation(far.subarray(0, n)) < MIN_FAR_VARIATION) return null;
  if (variation(mic.subarray(0, n)) < MIN_MIC_VARIATION) return null;
  // Prefix sums of each signal and its square: per lag, only the cross term needs a loop.
  const pf = prefix(far, n, false);
  const pff = prefix(far, n, true);
  const pm = prefix(mic, n, false);
  const pmm = prefix(mic, n, true);
  let best = -1;
  let bestLag = 0;
  for (let lag = 0; lag <= maxLag; lag++) {
    const len = n - lag;
    // far[0, len) against mic[lag, n)
    const sf = pf[len]!;
    const sm = pm[n]! - pm[lag]!;
    let cross = 0;
    for (let i = 0; i < len; i++) cross += far[i]! * mic[i + lag]!;
    const sfm = cross - (sf * sm) / len;
    const sff = pff[len]! - (sf * sf) / len;
    const smm = pmm[n]! - pmm[lag]! - (sm * sm) / len;
    if (sff < 1e-12 * len || smm < 1e-12 * len) continue;
    const r = sfm / Math.sqrt(sff * smm);
    if (r > best) {
      best = r;
      bestLag = lag;
    }
  }
  return best < 0 ? null : { delayMs: bestLag * blockMs, confidence: best };
}

/** Running sums of `x[0..n)` (or of its squares): `out[k]` is the sum of the first k. */
function prefix(x: Float64Array, n: number, squares: boolean): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i + 1] = out[i]! + (squares ? x[i]! * x[i]! : x[i]!);
  return out;
}

/**
 * A running estimate over the last `windowMs` of both signals, frame by frame: `push()`
 * each far frame (as it reached the speaker) with the microphone frame recorded meanwhile;
 * `estimate()` searches the window. Envelopes of 2 ms blocks: a quarter of the work of
 * 1 ms, and well within the canceller's margin.
 */
export class DelayTracker {
  /** Milliseconds per envelope value. */
  static readonly BLOCK_MS = 2;
  readonly #far: Float64Array;
  readonly #mic: Float64Array;
  readonly #maxLagMs: number;
  /** Envelope values held. */
  #filled = 0;

  constructor(opts: { windowMs?: number; maxLagMs?: number } = {}) {
    const maxLag = opts.maxLagMs ?? 400;
    const len = ((opts.windowMs ?? 1000) + maxLag) / DelayTracker.BLOCK_MS;
    this.#far = new Float64Array(len);
    this.#mic = new Float64Array(len);
    this.#maxLagMs = maxLag;
  }

  /** One frame each (equal lengths, whole 2 ms blocks). */
  push(far: Buffer, mic: Buffer): void {
    const block = BLOCK * DelayTracker.BLOCK_MS;
    const f = envelope(far, block);
    const m = envelope(mic, block);
    this.#far.copyWithin(0, f.length);
    this.#far.set(f, this.#far.length - f.length);
    this.#mic.copyWithin(0, m.length);
    this.#mic.set(m, this.#mic.length - m.length);
    this.#filled = Math.min(this.#far.length, this.#filled + f.length);
  }

  /** Milliseconds of both signals held (up to the window plus the longest lag). */
  get filledMs(): number {
    return this.#filled * DelayTracker.BLOCK_MS;
  }

  /** The estimate over what is held (null also before `maxLagMs` + 100 ms are). */
  estimate(): DelayEstimate | null {
    if (this.filledMs < this.#maxLagMs + 100) return null;
    const from = this.#far.length - this.#filled;
    return estimateDelay(
      this.#far.subarray(from),
      this.#mic.subarray(from),
      this.#maxLagMs,
      DelayTracker.BLOCK_MS,
    );
  }
}
